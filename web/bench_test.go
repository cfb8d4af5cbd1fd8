package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
)

// benchSurveys is a survey server over real HTTP on loopback with n
// enrolled candidates and one NPS link each. Rate limits stay on (their
// cost is part of every request) but are set above what the benchmark
// sends.
func benchSurveys(b *testing.B, n int) (*store.DB, *Server, *httptest.Server, []string) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "f.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	seq := &sequences.Sequence{Name: "s", Steps: []sequences.Step{{Template: "a", After: sequences.Delay{D: time.Hour}}}}
	reqs := make([]sequences.EnrollRequest, n)
	for i := range reqs {
		reqs[i] = sequences.EnrollRequest{Candidate: sequences.Candidate{
			Email: fmt.Sprintf("c%06d@example.com", i), Name: fmt.Sprintf("候选人 %d", i), Language: "zh-CN",
		}, Sequence: "s", Mailbox: "m"}
	}
	out, err := db.Enroll(ctx, reqs, map[string]*sequences.Sequence{"s": seq}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	set := starterSurveys(b)
	secret := []byte("0123456789abcdef0123456789abcdef")
	srv, err := New(db, secret, nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	srv.Surveys = &Surveys{Set: set, Store: db, Secret: secret, Now: time.Now, PerAddress: 1 << 30, PerLink: 1 << 30}
	links := make([]string, n)
	for i, o := range out {
		links[i] = "/s/" + surveys.NewToken(secret, o.Enrollment.UID, "nps", now)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	return db, srv, ts, links
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// fetch GETs or POSTs and drains the answer, failing on an unexpected status.
func fetch(c *http.Client, method, u string, form url.Values, want int) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		return err
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d", method, u, resp.StatusCode, want)
	}
	return nil
}

// BenchmarkSurveyPage compares opening a survey link (token check,
// enrollment lookup, language, rendering) with net/http serving the very
// same bytes from memory: "static" is the limit, "survey" the product.
// Both over HTTP on loopback with 8×GOMAXPROCS clients.
func BenchmarkSurveyPage(b *testing.B) {
	_, _, ts, links := benchSurveys(b, 100)
	page := func(u string) []byte {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		buf, _ := io.ReadAll(resp.Body)
		return buf
	}(ts.URL + links[0] + "?score=9")
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer static.Close()
	run := func(b *testing.B, base string) {
		c := benchClient()
		var next atomic.Int64
		b.SetParallelism(8)
		b.SetBytes(int64(len(page)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				u := base + links[next.Add(1)%int64(len(links))] + "?score=9"
				if err := fetch(c, "GET", u, nil, 200); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	}
	b.Run("static", func(b *testing.B) { run(b, static.URL) })
	b.Run("survey", func(b *testing.B) { run(b, ts.URL) })
}

// BenchmarkSurveyAnswer times answer POSTs recorded in SQLite: b.N
// candidates each answer their own NPS link once (the CSRF value is what
// the page they opened carried), from 8×GOMAXPROCS clients at once.
func BenchmarkSurveyAnswer(b *testing.B) {
	db, srv, ts, links := benchSurveys(b, b.N)
	forms := make([]url.Values, b.N)
	for i, l := range links {
		token := strings.TrimPrefix(l, "/s/")
		forms[i] = url.Values{"csrf": {srv.csrfToken(token)}, "score": {fmt.Sprint(i % 11)}, "reason": {"面试官很专业，流程清楚"}}
	}
	c := benchClient()
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if err := fetch(c, "POST", ts.URL+links[i], forms[i], 200); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	rows, err := db.SurveyResponses(context.Background(), "nps")
	if err != nil || len(rows) != b.N {
		b.Fatalf("%d responses stored, want %d (%v)", len(rows), b.N, err)
	}
}
