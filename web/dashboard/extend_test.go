package dashboard

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Pages added with Config.Pages: a GET page with a label is in the nav, one
// without is not; a POST page needs the session's CSRF token, which the
// page's own form gets from CSRFToken; StartSession signs a browser in.
func TestAddedPages(t *testing.T) {
	var f *fixture
	posted := 0
	f = newFixture(t, func(c *Config) {
		c.Pages = []Page{
			{Path: "/extra", Label: map[string]string{"en": "Extra", "zh": "更多"}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f.dash.Frame(w, r, "Extra", template.HTML(`<form method="post" action="/extra/do"><input type="hidden" name="csrf" value="`+
					template.HTMLEscapeString(CSRFToken(r))+`"></form><p id="lang">`+f.dash.Lang(r)+`</p>`))
			})},
			{Path: "/extra/{n}", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.dash.Frame(w, r, "One", "<p>one</p>") })},
			{Method: "POST", Path: "/extra/do", Label: map[string]string{"en": "Never in the nav"}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posted++
				w.WriteHeader(http.StatusNoContent)
			})},
		}
	})
	anon := f.client(t)
	if r := anon.post("/extra/do", url.Values{"csrf": {"x"}}); r.Code != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d", r.Code)
	}
	c := f.signedIn(t)
	c.lang = "zh-CN"
	page := c.get("/extra")
	if page.Code != http.StatusOK || !strings.Contains(page.Body, `href="/extra" aria-current="page">更多</a>`) || !strings.Contains(page.Body, `<p id="lang">zh</p>`) {
		t.Fatalf("the added page:\n%s", page.Body)
	}
	if strings.Contains(page.Body, `href="/extra/{n}"`) || strings.Contains(page.Body, "Never in the nav") {
		t.Errorf("a page without a label or a POST is in the nav:\n%s", page.Body)
	}
	if r := c.get("/extra/3"); r.Code != http.StatusOK || !strings.Contains(r.Body, "<p>one</p>") {
		t.Errorf("GET /extra/3: %d", r.Code)
	}
	if r := c.post("/extra/do", url.Values{"csrf": {"wrong"}}); r.Code != http.StatusForbidden || posted != 0 {
		t.Errorf("POST with a wrong token: %d, handler ran %d times", r.Code, posted)
	}
	if r := c.post("/extra/do", url.Values{"csrf": {formToken(t, page.Body)}}); r.Code != http.StatusNoContent || posted != 1 {
		t.Errorf("POST with the page's token: %d, handler ran %d times", r.Code, posted)
	}

	// StartSession: a session for an existing user, none for an unknown one.
	for _, tc := range []struct {
		login string
		ok    bool
	}{{"wang", true}, {" Wang ", true}, {"nobody", false}, {"", false}} {
		rec := httptest.NewRecorder()
		err := f.dash.StartSession(rec, httptest.NewRequest("GET", "/open", nil), tc.login)
		cookies := rec.Result().Cookies()
		if (err == nil) != tc.ok || (len(cookies) == 1) != tc.ok {
			t.Errorf("StartSession(%q): %v, cookies %v", tc.login, err, cookies)
			continue
		}
		if !tc.ok {
			continue
		}
		b := f.client(t)
		u, _ := url.Parse(f.srv.URL)
		b.http.Jar.SetCookies(u, cookies)
		if r := b.get("/extra/1"); r.Code != http.StatusOK || !strings.Contains(r.Body, "<p>one</p>") {
			t.Errorf("signed in by StartSession(%q): %d", tc.login, r.Code)
		}
	}
}
