package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestUserCommands(t *testing.T) {
	tp := newTestProject(t)
	pw := filepath.Join(tp.dir, "pw.txt")
	tp.write("pw.txt", "a long enough password\n")
	tp.write("short.txt", "short\n")
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"user", "list"}, 0, "No users yet"},
		{[]string{"user", "add", "Wang.Min@Example.com", "--password-file", pw, "--lang", "zh-CN"}, 0, "Added wang.min@example.com"},
		{[]string{"user", "add", "wang.min@example.com", "--password-file", pw}, 1, "already exists"},
		{[]string{"user", "add", "li", "--password-file", filepath.Join(tp.dir, "short.txt")}, 1, "too short"},
		{[]string{"user", "add", "li"}, 1, "--password-file"}, // no terminal here
		{[]string{"user", "list"}, 0, "wang.min@example.com  zh-CN"},
		{[]string{"user", "passwd", "wang.min@example.com", "--password-file", pw}, 0, "sessions are ended"},
		{[]string{"user", "passwd", "nobody", "--password-file", pw}, 1, "no user nobody"},
		{[]string{"user", "remove", "WANG.MIN@example.com"}, 0, "Removed wang.min@example.com"},
		{[]string{"user", "remove", "wang.min@example.com"}, 1, "no user"},
	} {
		out, err := tp.run(tc.args...)
		if exitCode(err) != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("followup %s: exit %d\n%s", strings.Join(tc.args, " "), exitCode(err), out)
		}
	}
}

// serve with an http section serves the dashboard: a user added with the
// CLI signs in and sees the candidates.
func TestServeServesTheDashboard(t *testing.T) {
	tp := newTestProject(t)
	addr := tp.enableHTTP(t)
	tp.write("pw.txt", "a long enough password\n")
	tp.mustRun("user", "add", "wang", "--password-file", filepath.Join(tp.dir, "pw.txt"))
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-l", "en", "-f", "job_title=SRE")
	defer tp.serveInBackground()()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	base := "http://" + addr
	var page string
	for i := 0; ; i++ { // until the server listens
		resp, err := c.Get(base + "/candidates")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			break
		}
		if i == 200 {
			t.Fatalf("the server never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("not the sign-in page:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"login": {"wang"}, "password": {"a long enough password"}, "token": {token[1]}, "next": {"/candidates"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "bob@example.com") || resp.Request.URL.Path != "/candidates" {
		t.Fatalf("after sign-in: %d %s\n%s", resp.StatusCode, resp.Request.URL, b)
	}
}
