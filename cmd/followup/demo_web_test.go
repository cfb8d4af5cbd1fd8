package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"followup/sequences"
	"followup/store"
)

// demoBrowser is a browser without scripts on the demo's web server: it
// keeps cookies and does not follow redirects.
type demoBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
	lang string
}

func newDemoBrowser(t *testing.T, base string) *demoBrowser {
	jar, _ := cookiejar.New(nil)
	return &demoBrowser{t: t, base: base, lang: "en", c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *demoBrowser) do(method, path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", b.lang)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(page)
}

func (b *demoBrowser) page(path string) string {
	b.t.Helper()
	code, _, page := b.do("GET", path, nil)
	if code != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", path, code, page)
	}
	return page
}

// eventually polls f until it returns "" (done) or the deadline passes; the
// last answer says what was still missing. No timing is asserted: the
// deadline only stops a test that would otherwise hang.
func eventually(t *testing.T, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := f()
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	signInLink   = regexp.MustCompile(`http://127\.0\.0\.1:\d+/demo/signin\?key=[A-Za-z0-9_-]+`)
	sandboxAddr  = regexp.MustCompile(`sandbox mail server on (127\.0\.0\.1:\d+)`)
	demoPassword = regexp.MustCompile(`sign in as demo with the password (\S+)\.`)
)

// TestDemoInTheBrowser runs `followup demo` as a newcomer would use it:
// the one-time link signs the browser in, the sandbox mailbox lists the
// mail, a message opens (hostile content escaped), and a reply as the
// candidate goes through the real inbox and stops her sequence.
func TestDemoInTheBrowser(t *testing.T) {
	tp := &testProject{t: t, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	keep := t.TempDir()
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	env := &runEnv{ctx: ctx, stdout: &out, stderr: &out, getenv: tp.getenvOr(), now: func() time.Time { return tp.now }}
	done := make(chan error, 1)
	// 20000×: Carol's first talent-pool email comes within seconds, her
	// next one 16 weeks later (minutes away).
	go func() { done <- runWith(env, []string{"demo", "--speed", "20000", "--dir", keep}) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	defer stop()

	var link string
	eventually(t, "the sign-in link is printed", func() string {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("demo ended: %v\n%s", err, out.String())
		default:
		}
		if link = signInLink.FindString(out.String()); link == "" {
			return "no link yet:\n" + out.String()
		}
		return ""
	})
	for _, want := range []string{"在浏览器中打开 Open in your browser", "这个链接只能登录一次", "one real second is 5h33m20s simulated"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo does not say %q:\n%s", want, out.String())
		}
	}
	u, _ := url.Parse(link)
	base := "http://" + u.Host

	// Nothing of the demo without signing in; a wrong key signs no one in.
	anon := newDemoBrowser(t, base)
	for _, path := range []string{"/demo/mail", "/demo/mail/o1", "/demo/mail/o1/html", "/candidates"} {
		if code, h, _ := anon.do("GET", path, nil); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Errorf("GET %s without signing in: %d %s", path, code, h.Get("Location"))
		}
	}
	if code, _, _ := anon.do("POST", "/demo/mail/o1/reply", url.Values{"kind": {"reply"}, "text": {"hi"}}); code != http.StatusUnauthorized {
		t.Errorf("POST a reply without signing in: %d", code)
	}
	if code, _, page := anon.do("GET", "/demo/signin?key=wrong"+u.Query().Get("key"), nil); code != http.StatusForbidden || !strings.Contains(page, "一次性登录链接") {
		t.Errorf("a wrong key: %d\n%s", code, page)
	}
	if code, _, _ := anon.do("GET", "/demo/mail", nil); code != http.StatusSeeOther {
		t.Errorf("a wrong key signed the browser in: %d", code)
	}

	// The link signs in once.
	b := newDemoBrowser(t, base)
	if code, h, _ := b.do("GET", strings.TrimPrefix(link, base), nil); code != http.StatusSeeOther || h.Get("Location") != "/demo/mail" {
		t.Fatalf("the sign-in link: %d %q", code, h.Get("Location"))
	}
	if code, _, _ := newDemoBrowser(t, base).do("GET", strings.TrimPrefix(link, base), nil); code != http.StatusForbidden {
		t.Errorf("the sign-in link worked twice: %d", code)
	}
	// The printed password works too.
	if m := demoPassword.FindStringSubmatch(out.String()); m == nil {
		t.Errorf("no password printed:\n%s", out.String())
	} else {
		pw := newDemoBrowser(t, base)
		login := pw.page("/login")
		tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(login)
		if tok == nil {
			t.Fatalf("no token on the sign-in page:\n%s", login)
		}
		if code, h, _ := pw.do("POST", "/login", url.Values{"login": {"demo"}, "password": {m[1]}, "token": {tok[1]}}); code != http.StatusSeeOther || h.Get("Location") != "/candidates" {
			t.Errorf("signing in with the printed password: %d %q", code, h.Get("Location"))
		}
	}

	// A hostile message reaches the sandbox like any other.
	sb := sandboxAddr.FindStringSubmatch(out.String())
	if sb == nil {
		t.Fatalf("no sandbox address:\n%s", out.String())
	}
	hostile := "From: =?UTF-8?B?PHNjcmlwdD5hbGVydCgwKTwvc2NyaXB0Pg==?= <evil@followup.test>\r\nTo: someone@followup.test\r\n" +
		"Subject: =?UTF-8?Q?<script>alert(1)</script>?=\r\nMessage-ID: <evil@followup.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"<img src=3Dx onerror=3Dalert(2)> https://example.com/ok\r\n--z\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<script>alert(3)</script><a href=\"javascript:alert(4)\">click</a><a href=\"https://example.com/x?a=1&amp;b=\">\"><b>x</b></a>\r\n--z--\r\n"
	if err := smtp.SendMail(sb[1], nil, "evil@followup.test", []string{"someone@followup.test"}, []byte(hostile)); err != nil {
		t.Fatal(err)
	}

	// The sandbox mailbox lists Carol's first email and the hostile one.
	var list string
	carolMail := regexp.MustCompile(`<a href="/demo/mail/(o\d+)">Staying in touch</a>`)
	evilMail := regexp.MustCompile(`<a href="/demo/mail/(o\d+)">&lt;script&gt;alert\(1\)&lt;/script&gt;</a>`)
	eventually(t, "the sandbox mailbox lists Carol's email and the hostile one", func() string {
		list = b.page("/demo/mail")
		if !carolMail.MatchString(list) || !evilMail.MatchString(list) {
			return list
		}
		return ""
	})
	for _, bad := range []string{"<script>alert", "<img src"} {
		if strings.Contains(list, bad) {
			t.Errorf("the list holds %q unescaped", bad)
		}
	}
	if !strings.Contains(list, `href="/demo/mail" aria-current="page">Sandbox mail</a>`) {
		t.Errorf("no nav item for the sandbox mail:\n%s", list)
	}
	b.lang = "zh-CN"
	if zh := b.page("/demo/mail"); !strings.Contains(zh, "以候选人身份回复") || !strings.Contains(zh, "→ 发给候选人") {
		t.Errorf("the list in Chinese:\n%s", zh)
	}
	b.lang = "en"

	evil := evilMail.FindStringSubmatch(list)[1]
	page := b.page("/demo/mail/" + evil)
	for _, bad := range []string{"<script>", "<img src", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the message page holds %q unescaped:\n%s", bad, page)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(2)&gt;", `href="https://example.com/ok"`, `href="https://example.com/x?a=1&amp;b="`,
		`<iframe class="mail" src="/demo/mail/` + evil + `/html" sandbox="allow-popups allow-popups-to-escape-sandbox"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the message page lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, `id="reply"`) {
		t.Errorf("a reply form on a message to no candidate")
	}
	code, h, part := b.do("GET", "/demo/mail/"+evil+"/html", nil)
	if csp := h.Get("Content-Security-Policy"); code != http.StatusOK || !strings.HasPrefix(csp, "sandbox ") || strings.Contains(csp, "allow-scripts") ||
		strings.Contains(csp, "allow-same-origin") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(part, `<base target="_blank">`) {
		t.Errorf("the HTML part: %d, CSP %q\n%s", code, csp, part)
	}

	// Carol's email, and a reply as Carol.
	carol := carolMail.FindStringSubmatch(list)[1]
	code, h, page = b.do("GET", "/demo/mail/"+carol, nil)
	if code != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "frame-src 'self'") || !strings.Contains(page, "Hi Carol Nguyen,") ||
		!strings.Contains(page, "talent-pool-warmup: <strong>active</strong>") {
		t.Fatalf("Carol's email: %d %q\n%s", code, h.Get("Content-Security-Policy"), page)
	}
	textarea := regexp.MustCompile(`(?s)<textarea name="text"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
	if textarea == nil || !strings.Contains(textarea[1], "Thank you for your email") || !strings.HasSuffix(textarea[1], "Carol") {
		t.Errorf("the reply form is not prefilled in English:\n%s", page)
	}
	timeline := regexp.MustCompile(`<a href="(/candidates/\d+)">See Carol Nguyen&#39;s timeline</a>`).FindStringSubmatch(page)
	if timeline == nil {
		t.Fatalf("no link to Carol's timeline:\n%s", page)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token in the reply form:\n%s", page)
	}
	reply := url.Values{"kind": {"reply"}, "text": {"Thanks Wang Min, <b>that sounds great</b>!"}}
	if code, _, _ := b.do("POST", "/demo/mail/"+carol+"/reply", reply); code != http.StatusForbidden {
		t.Errorf("a reply without the CSRF token: %d", code)
	}
	reply.Set("csrf", csrf[1])
	if code, h, _ := b.do("POST", "/demo/mail/"+carol+"/reply", reply); code != http.StatusSeeOther || h.Get("Location") != "/demo/mail/"+carol+"?sent=reply" {
		t.Fatalf("the reply: %d %q", code, h.Get("Location"))
	}
	if page := b.page("/demo/mail/" + carol + "?sent=reply"); !strings.Contains(page, "The reply was delivered to the recruiter&#39;s inbox.") {
		t.Errorf("no word that the reply went out:\n%s", page)
	}

	// The inbox watcher reads it: Carol's timeline shows the reply and her
	// sequence stops.
	eventually(t, "Carol's timeline shows the reply and the stop", func() string {
		tl := b.page(timeline[1])
		if !strings.Contains(tl, `<span class="st st-stopped">stopped</span>`) || !strings.Contains(tl, "<strong>← reply</strong>") ||
			!strings.Contains(tl, "Thanks Wang Min, &lt;b&gt;that sounds great&lt;/b&gt;!") {
			return tl
		}
		return ""
	})
	// Bob asks to unsubscribe with one button: the classifier sees it.
	bobMail := regexp.MustCompile(`<a href="/demo/mail/(o\d+)">Your Site Reliability Engineer interview: what happens next</a>`).FindStringSubmatch(b.page("/demo/mail"))
	if bobMail == nil {
		t.Fatal("Bob's email is not listed")
	}
	page = b.page("/demo/mail/" + bobMail[1])
	bobTimeline := regexp.MustCompile(`<a href="(/candidates/\d+)">See Bob Martin&#39;s timeline</a>`).FindStringSubmatch(page)
	if bobTimeline == nil {
		t.Fatalf("no link to Bob's timeline:\n%s", page)
	}
	if code, _, _ := b.do("POST", "/demo/mail/"+bobMail[1]+"/reply", url.Values{"kind": {"unsubscribe"}, "csrf": {csrf[1]}}); code != http.StatusSeeOther {
		t.Fatalf("unsubscribe: %d", code)
	}
	eventually(t, "Bob's timeline shows the unsubscribe request", func() string {
		if tl := b.page(bobTimeline[1]); !strings.Contains(tl, "<strong>← unsubscribe</strong>") || !strings.Contains(tl, "Please stop emailing me.") {
			return tl
		}
		return ""
	})
	eventually(t, "the reply is in the sandbox mailbox", func() string {
		if l := b.page("/demo/mail"); !strings.Contains(l, html.EscapeString("← candidate's reply (inbox)")) || !strings.Contains(l, ">Re: Staying in touch</a>") {
			return l
		}
		return ""
	})
	if err := stop(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if o := out.String(); !regexp.MustCompile(`← carol@followup\.test +reply: "Thanks Wang Min, <b>that…" — their sequences stop`).MatchString(o) {
		t.Errorf("the terminal does not show Carol's reply:\n%s", o)
	}

	// The database agrees.
	db, err := store.Open(context.Background(), filepath.Join(keep, "followup.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tl, err := db.Timeline(context.Background(), "carol@followup.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Enrollments) != 1 || tl.Enrollments[0].Status != sequences.Stopped {
		t.Errorf("Carol's enrollments: %+v", tl.Enrollments)
	}
	found := false
	for _, in := range tl.Inbound {
		found = found || in.Kind == "reply" && strings.Contains(in.Text, "that sounds great") && in.EnrollmentID != nil
	}
	if !found {
		t.Errorf("no inbound reply stored: %+v", tl.Inbound)
	}
}

func TestDemoRefusesANonsenseSpeed(t *testing.T) {
	tp := &testProject{t: t, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if out, err := tp.run("demo", "--speed", "0"); err == nil || !strings.Contains(err.Error(), "--speed") {
		t.Errorf("--speed 0: %v\n%s", err, out)
	}
}
