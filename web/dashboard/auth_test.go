package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Every route of the dashboard except the public ones needs a session: a
// page sends the browser to /login, anything else gets 401.
func TestEveryRouteNeedsASession(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Pages = []Page{{Path: "/insights", Label: map[string]string{"en": "Insights"}, Handler: http.NotFoundHandler()}}
	})
	c := f.client(t)
	public := map[string]bool{"GET /login": true, "POST /login": true, "GET /static/{file}": true}
	fill := strings.NewReplacer("{$}", "", "{id}", "1", "{job}", "x", "{name}", "nps", "{file}", "dash.js")
	n := 0
	for _, rt := range f.dash.RouteTable() {
		if rt.Public != public[rt.Pattern] {
			t.Errorf("%s: public %v", rt.Pattern, rt.Public)
		}
		if rt.Public {
			continue
		}
		n++
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = fill.Replace(path)
		r := c.do(method, path, strings.NewReader("csrf=x"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		switch {
		case method == "GET" && !strings.HasSuffix(path, "/status"):
			if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login?next=") {
				t.Errorf("%s %s without a session: %d %q", method, path, r.Code, r.Location)
			}
		default:
			if r.Code != http.StatusUnauthorized {
				t.Errorf("%s %s without a session: %d", method, path, r.Code)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d private routes walked", n)
	}
	// The public ones answer without a session.
	for _, p := range []string{"/login", "/static/dash.js", "/static/dash.css", "/healthz"} {
		if r := c.get(p); r.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.Code)
		}
	}
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, login, password string
		token                 func(page string) string
		code                  int
		says                  string
	}{
		{"right", "Wang ", testPassword, nil, http.StatusSeeOther, ""},
		{"wrong password", "wang", "wrong password!", nil, http.StatusUnauthorized, "Wrong name or password"},
		{"unknown login", "zhang", testPassword, nil, http.StatusUnauthorized, "Wrong name or password"},
		{"no form token", "wang", testPassword, func(string) string { return "" }, http.StatusForbidden, "expired"},
		{"wrong form token", "wang", testPassword, func(string) string { return "AAAA" }, http.StatusForbidden, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client(t)
			page := c.get("/login")
			token := formToken(t, page.Body)
			if tc.token != nil {
				token = tc.token(page.Body)
			}
			r := c.post("/login", url.Values{"login": {tc.login}, "password": {tc.password}, "token": {token}})
			if r.Code != tc.code || !strings.Contains(r.Body, tc.says) {
				t.Fatalf("%d %s", r.Code, r.Body)
			}
			signedIn := c.get("/candidates").Code == http.StatusOK
			if signedIn != (tc.code == http.StatusSeeOther) {
				t.Errorf("signed in: %v", signedIn)
			}
		})
	}
}

func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixture(t, func(c *Config) { c.Secure = secure })
		c := f.client(t)
		page := c.get("/login")
		r := c.post("/login", url.Values{"login": {"wang"}, "password": {testPassword}, "token": {formToken(t, page.Body)}})
		var cookie *http.Cookie
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if strings.Contains(ck.Name, "session") {
				cookie = ck
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure != secure || len(cookie.Value) < 43 {
			t.Fatalf("secure=%v: cookie %+v", secure, cookie)
		}
		if secure && !strings.HasPrefix(cookie.Name, "__Host-") {
			t.Errorf("secure cookie named %s", cookie.Name)
		}
		// The database keeps only the hash of the id.
		if _, err := f.db.SessionByHash(t.Context(), cookie.Value); err == nil {
			t.Error("the session id itself is stored")
		}
		if _, err := f.db.SessionByHash(t.Context(), hashID(cookie.Value)); err != nil {
			t.Error(err)
		}
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	for i := 0; i < 5; i++ {
		if r := c.signIn("wang", "not the password"); r.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.Code)
		}
	}
	// Locked: even the right password is refused, from any address.
	r := f.client(t).signIn("wang", testPassword)
	if r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "60" || !strings.Contains(r.Body, "Too many attempts") {
		t.Fatalf("locked: %d %s %s", r.Code, r.Header.Get("Retry-After"), r.Body)
	}
	f.clock.Add(61 * time.Second)
	// One more failure after the lock: locked twice as long.
	c.signIn("wang", "still not it")
	if r := c.signIn("wang", testPassword); r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "120" {
		t.Fatalf("second lock: %d %s", r.Code, r.Header.Get("Retry-After"))
	}
	f.clock.Add(121 * time.Second)
	if r := c.signIn("wang", testPassword); r.Code != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", r.Code)
	}
	// A success clears the account's count.
	c2 := f.client(t)
	c2.signIn("wang", "wrong")
	if r := c2.signIn("wang", testPassword); r.Code != http.StatusSeeOther {
		t.Fatalf("after a success and one failure: %d", r.Code)
	}
}

func TestAddressLockout(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	// Guessing many accounts from one address locks the address.
	for i := 0; i < 20; i++ {
		c.signIn(fmt.Sprintf("user%d", i), "guess")
	}
	if r := c.signIn("wang", testPassword); r.Code != http.StatusTooManyRequests {
		t.Fatalf("after 20 failures from one address: %d", r.Code)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	e := f.enroll(t, "li.lei@example.com", "李雷", "post-interview-thanks", map[string]string{"job_title": "工程师"})
	c := f.signedIn(t)
	token := c.csrf()
	path := fmt.Sprintf("/candidates/%d/pause", e.CandidateID)
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
		code   int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {"x" + token[1:]}}, nil, http.StatusForbidden},
		{"another site", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"right", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": f.srv.URL}, http.StatusSeeOther},
	} {
		r := c.post(path, tc.form, tc.header)
		if r.Code != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.Code, r.Body)
		}
		tl, _ := f.db.Timeline(t.Context(), "li.lei@example.com")
		if paused := tl.Enrollments[0].Status == "paused"; paused != (tc.code == http.StatusSeeOther) {
			t.Errorf("%s: status %s", tc.name, tl.Enrollments[0].Status)
		}
	}
}

func TestSessionExpiryAndSignOut(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.SessionIdle = time.Hour; c.SessionMax = 3 * time.Hour })
	c := f.signedIn(t)
	for i := 0; i < 4; i++ { // used every 50 minutes: alive until the 3-hour limit
		f.clock.Add(50 * time.Minute)
		if r := c.get("/candidates"); (r.Code == http.StatusOK) != (i < 3) {
			t.Fatalf("after %d×50 min: %d", i+1, r.Code)
		}
	}
	c = f.signedIn(t)
	f.clock.Add(61 * time.Minute) // idle
	if r := c.get("/candidates"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("idle session: %d %s", r.Code, r.Location)
	}
	// Sign-out ends the session on the server, not only in the browser.
	c = f.signedIn(t)
	cookies := c.http.Jar.Cookies(mustURL(t, f.srv.URL))
	if r := c.post("/logout", url.Values{"csrf": {c.csrf()}}); r.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.Code)
	}
	replay := f.client(t)
	replay.http.Jar.SetCookies(mustURL(t, f.srv.URL), cookies)
	if r := replay.get("/candidates"); r.Code != http.StatusSeeOther {
		t.Fatalf("the old cookie still works: %d", r.Code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/candidates/3": "/candidates/3", "//evil.example": "/candidates", "https://evil.example": "/candidates",
		"/\\evil.example": "/candidates", "": "/candidates", "/login": "/candidates",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q", in, got)
		}
	}
}

func TestTextsInBothLanguages(t *testing.T) {
	for k := range texts["en"] {
		if _, ok := texts["zh"][k]; !ok {
			t.Errorf("%q has no Chinese text", k)
		}
	}
	for k := range texts["zh"] {
		if _, ok := texts["en"][k]; !ok {
			t.Errorf("%q has no English text", k)
		}
	}
}
