package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/web"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	db    *store.DB
	dash  *Dashboard
	srv   *httptest.Server
	clock *testClock
	cat   *sequences.Catalog
}

const testPassword = "correct horse battery"

// newFixture: the starter sequences and surveys, one user (wang), the
// dashboard inside the web server's route table, on a test HTTP server.
func newFixture(t *testing.T, mod ...func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	starter := filepath.Join("..", "..", "cmd", "followup", "starter")
	cat, ps := sequences.LoadCatalog(filepath.Join(starter, "sequences"), filepath.Join(starter, "templates"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	// A sequence whose step waits for review.
	cat.Sequences["checked-thanks"] = &sequences.Sequence{Name: "checked-thanks", Fields: []string{"job_title"},
		Steps: []sequences.Step{{Template: "post-interview-thanks", After: sequences.Delay{D: time.Hour}, Review: true}}}
	set, ps := surveys.Load(filepath.Join(starter, "surveys"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	clock := &testClock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	cfg := Config{
		Store: db, Catalog: cat, Surveys: set, Now: clock.Now, BcryptCost: bcrypt.MinCost,
		Defaults: sequences.Defaults{Language: "zh-CN", Timezone: "Asia/Shanghai", Mailbox: "wang", Mailboxes: []string{"wang", "li"}},
	}
	for _, m := range mod {
		m(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := HashPassword(testPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(ctx, "wang", hash, "", clock.Now()); err != nil {
		t.Fatal(err)
	}
	ws, err := web.New(db, []byte("0123456789abcdef0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Routes = append(ws.Routes, d.Routes)
	srv := httptest.NewServer(ws.Handler())
	t.Cleanup(srv.Close)
	return &fixture{db: db, dash: d, srv: srv, clock: clock, cat: cat}
}

// client is a browser without scripts: it keeps cookies and does not
// follow redirects (tests look at them).
type client struct {
	t    *testing.T
	f    *fixture
	http *http.Client
	lang string
}

func (f *fixture) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, f: f, lang: "en", http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	Code     int
	Body     string
	Location string
	Header   http.Header
}

func (c *client) do(method, path string, body io.Reader, header map[string]string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.f.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", c.lang)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Code: res.StatusCode, Body: string(b), Location: res.Header.Get("Location"), Header: res.Header}
}

func (c *client) get(path string) response { return c.do("GET", path, nil, nil) }

func (c *client) post(path string, form url.Values, header ...map[string]string) response {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, m := range header {
		for k, v := range m {
			h[k] = v
		}
	}
	return c.do("POST", path, strings.NewReader(form.Encode()), h)
}

var tokenRe = regexp.MustCompile(`name="(token|csrf)" value="([^"]+)"`)

func formToken(t *testing.T, body string) string {
	t.Helper()
	m := tokenRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token in the page:\n%s", body)
	}
	return m[2]
}

// signIn signs in with password and returns the response to the POST.
func (c *client) signIn(login, password string) response {
	c.t.Helper()
	page := c.get("/login")
	return c.post("/login", url.Values{"login": {login}, "password": {password}, "token": {formToken(c.t, page.Body)}})
}

// signedIn is a client signed in as wang.
func (f *fixture) signedIn(t *testing.T) *client {
	t.Helper()
	c := f.client(t)
	if r := c.signIn("wang", testPassword); r.Code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.Code, r.Body)
	}
	return c
}

// csrf is the session's CSRF token, read from a page.
func (c *client) csrf() string {
	c.t.Helper()
	return formToken(c.t, c.get("/candidates").Body)
}

// enroll stores a candidate directly.
func (f *fixture) enroll(t *testing.T, email, name, seq string, fields map[string]string) sequences.Enrollment {
	t.Helper()
	req, _, err := f.cat.Validate(sequences.EnrollRequest{Candidate: sequences.Candidate{Email: email, Name: name}, Sequence: seq, Fields: fields, PoolConsent: sequences.ConsentGiven},
		f.dash.cfg.Defaults)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.db.Enroll(context.Background(), []sequences.EnrollRequest{req}, f.cat.Sequences, f.clock.Now())
	if err != nil || !out[0].Created {
		t.Fatalf("enroll %s: %+v %v", email, out, err)
	}
	return out[0].Enrollment
}
