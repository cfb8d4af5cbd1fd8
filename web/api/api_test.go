package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/webhooks"
)

type fixture struct {
	t           testing.TB
	catalog     *sequences.Catalog
	defaults    sequences.Defaults
	db          *store.DB
	srv         *httptest.Server
	read, write string
	revoked     string
	now         time.Time
	spec        map[string]any
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	starter := filepath.Join("..", "..", "cmd", "followup", "starter")
	cat, ps := sequences.LoadCatalog(filepath.Join(starter, "sequences"), filepath.Join(starter, "templates"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	set, sps := surveys.Load(filepath.Join(starter, "surveys"))
	if len(sps) > 0 {
		t.Fatal(sps)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, catalog: cat, now: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		defaults: sequences.Defaults{Language: "zh-CN", Timezone: "Asia/Shanghai", Mailbox: "hr", Mailboxes: []string{"hr", "li"}}}
	_, f.read, _ = db.CreateToken(ctx, "dashboards", store.ScopeRead, f.now)
	_, f.write, _ = db.CreateToken(ctx, "ats", store.ScopeWrite, f.now)
	_, f.revoked, _ = db.CreateToken(ctx, "old", store.ScopeWrite, f.now)
	if _, err := db.RevokeToken(ctx, "old", f.now); err != nil {
		t.Fatal(err)
	}
	a := &API{DB: db, Catalog: cat, Surveys: set, Language: "en", Now: func() time.Time { return f.now }, Defaults: f.defaults}
	mux := http.NewServeMux()
	a.Register(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	if err := json.Unmarshal(OpenAPI(), &f.spec); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   any
}

func (f *fixture) do(method, path, token, body string, header ...string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, body: b}
	if err := json.Unmarshal(b, &r.json); err != nil {
		f.t.Fatalf("%s %s: not JSON (%v): %s", method, path, err, b)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return r
}

// expect checks the status and that the body matches the response schema
// openapi.json documents for this route and status.
func (f *fixture) expect(r response, status int, method, route string) map[string]any {
	f.t.Helper()
	if r.status != status {
		f.t.Fatalf("%s %s: status %d, want %d: %s", method, route, r.status, status, r.body)
	}
	op := dig(f.spec, "paths", route, strings.ToLower(method))
	if op == nil {
		f.t.Fatalf("%s %s is not in openapi.json", method, route)
	}
	resp, _ := dig(op, "responses", fmt.Sprint(status)).(map[string]any)
	if resp == nil {
		f.t.Fatalf("%s %s: status %d is not documented", method, route, status)
	}
	if ref, ok := resp["$ref"].(string); ok {
		resp = f.resolve(ref)
	}
	schema := dig(resp, "content", "application/json", "schema")
	if errs := f.check(schema, r.json, "$"); len(errs) > 0 {
		f.t.Errorf("%s %s %d: the body does not match openapi.json:\n  %s\n%s", method, route, status, strings.Join(errs, "\n  "), r.body)
	}
	m, _ := r.json.(map[string]any)
	return m
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (f *fixture) resolve(ref string) map[string]any {
	parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	m, _ := dig(f.spec, parts...).(map[string]any)
	if m == nil {
		f.t.Fatalf("openapi.json: %s does not resolve", ref)
	}
	return m
}

// check validates v against the subset of JSON Schema openapi.json uses.
func (f *fixture) check(schema any, v any, at string) []string {
	s, _ := schema.(map[string]any)
	if s == nil {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		return f.check(f.resolve(ref), v, at)
	}
	if alts, ok := s["oneOf"].([]any); ok {
		for _, alt := range alts {
			if len(f.check(alt, v, at)) == 0 {
				return nil
			}
		}
		return []string{at + ": matches none of oneOf"}
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, x.(string))
		}
	}
	if len(types) > 0 {
		ok := false
		for _, t := range types {
			if isType(v, t) {
				ok = true
			}
		}
		if !ok {
			return []string{fmt.Sprintf("%s: %T is not %v", at, v, types)}
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			return []string{fmt.Sprintf("%s: %v is not one of %v", at, v, enum)}
		}
	}
	var errs []string
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := x[r]; !ok {
				errs = append(errs, at+": missing "+r)
			}
		}
		for k, val := range x {
			if p, ok := props[k]; ok {
				errs = append(errs, f.check(p, val, at+"."+k)...)
			} else if ap, ok := s["additionalProperties"]; ok {
				errs = append(errs, f.check(ap, val, at+"."+k)...)
			} else if props != nil {
				errs = append(errs, at+": undocumented property "+k)
			}
		}
	case []any:
		for i, item := range x {
			errs = append(errs, f.check(s["items"], item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return errs
}

func asList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

func isType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == float64(int64(n))
	}
	return false
}

// The route table and openapi.json describe the same routes, both ways.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	f := newFixture(t)
	var routes, documented []string
	for _, r := range (&API{}).Routes() {
		routes = append(routes, r.Method+" "+r.Path)
		op := dig(f.spec, "paths", r.Path, strings.ToLower(r.Method))
		if op == nil {
			continue
		}
		scopes, _ := dig(op, "security").([]any)
		if len(scopes) != 1 || fmt.Sprint(dig(scopes[0], "bearer")) != "["+r.Scope+"]" {
			t.Errorf("%s %s: openapi.json security %v, route scope %s", r.Method, r.Path, scopes, r.Scope)
		}
	}
	for path, ops := range f.spec["paths"].(map[string]any) {
		for m := range ops.(map[string]any) {
			documented = append(documented, strings.ToUpper(m)+" "+path)
		}
	}
	sort.Strings(routes)
	sort.Strings(documented)
	if strings.Join(routes, "\n") != strings.Join(documented, "\n") {
		t.Errorf("routes:\n%s\n\nopenapi.json:\n%s", strings.Join(routes, "\n"), strings.Join(documented, "\n"))
	}
}

// Every route needs a token; a read token cannot write; a revoked one is refused.
func TestEveryRouteNeedsAToken(t *testing.T) {
	f := newFixture(t)
	for _, r := range (&API{}).Routes() {
		path := strings.NewReplacer("{uid}", "x", "{email}", "a@example.com", "{name}", "nps").Replace(r.Path)
		for _, c := range []struct {
			token, header string
			want          int
		}{
			{"", "", 401},
			{"", "Basic YTpi", 401},
			{"fu_notatoken", "", 401},
			{f.revoked, "", 401},
		} {
			h := []string{}
			if c.header != "" {
				h = []string{"Authorization", c.header}
			}
			res := f.do(r.Method, path, c.token, "{}", h...)
			f.expect(res, c.want, r.Method, r.Path)
			if res.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", r.Method, path)
			}
		}
		if r.Scope == store.ScopeWrite {
			f.expect(f.do(r.Method, path, f.read, "{}"), 403, r.Method, r.Path)
		}
	}
	// Unknown API paths are JSON 404s, also behind the token.
	if r := f.do("GET", "/api/v1/nope", "", ""); r.status != 401 {
		t.Errorf("unknown route without a token: %d", r.status)
	}
	if r := f.do("GET", "/api/v1/nope", f.read, ""); r.status != 404 || dig(r.json, "error", "code") != "not_found" {
		t.Errorf("unknown route: %d %s", r.status, r.body)
	}
}

const lilei = `{"email":"Li.Lei@Example.com","name":"李雷","sequence":"post-interview-thanks","fields":{"job_title":"后端工程师","interview_date":"2026-11-20","source":"Boss直聘"}}`

func TestEnrollOneAndIdempotency(t *testing.T) {
	f := newFixture(t)
	const route = "/api/v1/enrollments"
	r := f.expect(f.do("POST", route, f.write, lilei), 201, "POST", route)
	e := r["enrollment"].(map[string]any)
	if r["result"] != "created" || e["email"] != "li.lei@example.com" || e["status"] != "active" || e["next_step"] != 1.0 || e["mailbox"] != "hr" {
		t.Errorf("created: %v", r)
	}
	// Again without a key: the candidate is already live in the sequence.
	r = f.expect(f.do("POST", route, f.write, lilei), 200, "POST", route)
	if r["result"] != "exists" || r["enrollment"].(map[string]any)["uid"] != e["uid"] {
		t.Errorf("again: %v", r)
	}
	// With a key: the first response is replayed byte for byte.
	han := `{"email":"han@example.com","sequence":"post-interview-thanks","fields":{"job_title":"PM"}}`
	first := f.do("POST", route, f.write, han, "Idempotency-Key", "k-1")
	f.expect(first, 201, "POST", route)
	again := f.do("POST", route, f.write, han, "Idempotency-Key", "k-1")
	if again.status != 201 || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
	other := f.do("POST", route, f.write, strings.Replace(han, "PM", "QA", 1), "Idempotency-Key", "k-1")
	if f.expect(other, 422, "POST", route); dig(other.json, "error", "code") != "idempotency_key_reused" {
		t.Errorf("key reused: %s", other.body)
	}
	// Another token's key space is its own.
	_, w2, _ := f.db.CreateToken(context.Background(), "ats2", store.ScopeWrite, f.now)
	if r := f.do("POST", route, w2, han, "Idempotency-Key", "k-1"); r.status != 200 || dig(r.json, "result") != "exists" {
		t.Errorf("second token: %d %s", r.status, r.body)
	}
}

func TestEnrollErrors(t *testing.T) {
	f := newFixture(t)
	const route = "/api/v1/enrollments"
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty body", "", 400, "invalid_json"},
		{"not JSON", "{email:", 400, "invalid_json"},
		{"a typo in a field name", `{"email":"a@example.com","sequnce":"post-interview-thanks"}`, 400, "invalid_json"},
		{"two values", `{"email":"a@example.com"} {}`, 400, "invalid_json"},
		{"unknown sequence", `{"email":"a@example.com","sequence":"nope"}`, 422, "invalid_request"},
		{"broken address", `{"email":"a@@example","sequence":"post-interview-thanks","fields":{"job_title":"x"}}`, 422, "invalid_request"},
		{"missing field", `{"email":"a@example.com","sequence":"post-interview-thanks"}`, 422, "invalid_request"},
		{"empty batch", `{"enrollments":[]}`, 422, "invalid_request"},
		{"too many", `{"enrollments":[` + strings.Repeat(`{"email":"a@example.com"},`, maxBatch) + `{"email":"a@example.com"}]}`, 413, "too_large"},
		{"too big", `{"email":"` + strings.Repeat("a", maxBody) + `"}`, 413, "too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.do("POST", route, f.write, c.body)
			m := f.expect(r, c.status, "POST", route)
			if dig(m, "error", "code") != c.code || dig(m, "error", "message") == "" {
				t.Errorf("%s", r.body)
			}
		})
	}
	// A suppressed address is blocked, with the reason.
	f.expect(f.do("POST", "/api/v1/suppressions", f.write, `{"emails":["gone@example.com"],"reason":"asked us"}`), 200, "POST", "/api/v1/suppressions")
	r := f.do("POST", route, f.write, `{"email":"gone@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"}}`)
	if m := f.expect(r, 409, "POST", route); dig(m, "error", "code") != "blocked" {
		t.Errorf("suppressed: %s", r.body)
	}
}

func TestEnrollBatchReportsEachRow(t *testing.T) {
	f := newFixture(t)
	const route = "/api/v1/enrollments"
	body := `{"enrollments":[
		{"email":"a@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"}},
		{"email":"not an address","sequence":"post-interview-thanks","fields":{"job_title":"x"}},
		{"email":"b@example.com","sequence":"talent-pool-warmup"},
		{"email":"a@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"}}]}`
	m := f.expect(f.do("POST", route, f.write, body), 200, "POST", route)
	var got []string
	for _, r := range m["results"].([]any) {
		got = append(got, fmt.Sprint(dig(r, "result")))
	}
	// talent-pool-warmup requires consent: blocked; the duplicate in the same batch exists.
	if strings.Join(got, " ") != "created invalid blocked exists" {
		t.Errorf("results %v: %s", got, m)
	}
	if errs := dig(m["results"].([]any)[1], "errors"); errs == nil {
		t.Error("the invalid row has no errors")
	}
}

func TestListTimelineAndActions(t *testing.T) {
	f := newFixture(t)
	for _, e := range []string{"li.lei", "han", "wang"} {
		f.expect(f.do("POST", "/api/v1/enrollments", f.write,
			`{"email":"`+e+`@example.com","name":"`+e+`","sequence":"post-interview-thanks","fields":{"job_title":"x"}}`), 201, "POST", "/api/v1/enrollments")
	}
	list := f.expect(f.do("GET", "/api/v1/enrollments?limit=2", f.read, ""), 200, "GET", "/api/v1/enrollments")
	if n := len(list["enrollments"].([]any)); n != 2 || list["next"] == nil {
		t.Fatalf("first page: %v", list)
	}
	page2 := f.expect(f.do("GET", list["next"].(string), f.read, ""), 200, "GET", "/api/v1/enrollments")
	if n := len(page2["enrollments"].([]any)); n != 1 || dig(page2["enrollments"].([]any)[0], "email") != "li.lei@example.com" {
		t.Errorf("second page: %v", page2)
	}
	found := f.expect(f.do("GET", "/api/v1/enrollments?q=HAN&status=active&sequence=post-interview-thanks", f.read, ""), 200, "GET", "/api/v1/enrollments")
	if n := len(found["enrollments"].([]any)); n != 1 {
		t.Errorf("search: %v", found)
	}
	for _, q := range []string{"limit=0", "limit=x", "status=sleeping", "before=-1"} {
		f.expect(f.do("GET", "/api/v1/enrollments?"+q, f.read, ""), 400, "GET", "/api/v1/enrollments")
	}
	uid := dig(found["enrollments"].([]any)[0], "uid").(string)
	if e := f.expect(f.do("GET", "/api/v1/enrollments/"+uid, f.read, ""), 200, "GET", "/api/v1/enrollments/{uid}"); e["email"] != "han@example.com" {
		t.Errorf("by uid: %v", e)
	}
	f.expect(f.do("GET", "/api/v1/enrollments/nope", f.read, ""), 404, "GET", "/api/v1/enrollments/{uid}")

	act := func(verb, body string, status int) map[string]any {
		return f.expect(f.do("POST", "/api/v1/candidates/han@example.com/"+verb, f.write, body), status, "POST", "/api/v1/candidates/{email}/"+verb)
	}
	if c := act("pause", `{"reason":"on holiday"}`, 200); dig(c["changed"].([]any)[0], "status") != "paused" {
		t.Errorf("pause: %v", c)
	}
	if c := act("pause", "", 200); len(c["changed"].([]any)) != 0 {
		t.Errorf("pause twice: %v", c)
	}
	act("resume", `{"assume_sent":true,"resend":true}`, 422)
	if c := act("resume", "", 200); dig(c["changed"].([]any)[0], "status") != "active" {
		t.Errorf("resume: %v", c)
	}
	if c := act("stop", `{"sequence":"post-interview-thanks"}`, 200); dig(c["changed"].([]any)[0], "status") != "stopped" {
		t.Errorf("stop: %v", c)
	}
	f.expect(f.do("POST", "/api/v1/candidates/not-an-address/stop", f.write, ""), 400, "POST", "/api/v1/candidates/{email}/stop")

	c := f.expect(f.do("GET", "/api/v1/candidates/HAN@example.com", f.read, ""), 200, "GET", "/api/v1/candidates/{email}")
	var kinds []string
	for _, it := range c["timeline"].([]any) {
		kinds = append(kinds, dig(it, "kind").(string))
	}
	if strings.Join(kinds, " ") != "enrolled paused resumed stopped" {
		t.Errorf("timeline kinds %v", kinds)
	}
	if d := dig(c["timeline"].([]any)[1], "detail"); !strings.Contains(fmt.Sprint(d), "on holiday") {
		t.Errorf("pause reason not in the timeline: %v", d)
	}
	f.expect(f.do("GET", "/api/v1/candidates/nobody@example.com", f.read, ""), 404, "GET", "/api/v1/candidates/{email}")
}

func TestSuppressionsSurveysMetrics(t *testing.T) {
	f := newFixture(t)
	const sup = "/api/v1/suppressions"
	r := f.do("POST", sup, f.write, `{"emails":["ok@example.com","bad@@x"]}`)
	if m := f.expect(r, 422, "POST", sup); len(dig(m, "error", "details").([]any)) != 1 {
		t.Errorf("bad address: %s", r.body)
	}
	if m := f.expect(f.do("POST", sup, f.write, `{"emails":["OK@example.com"]}`), 200, "POST", sup); m["added"] != 1.0 {
		t.Errorf("added: %v", m)
	}
	l := f.expect(f.do("GET", sup, f.read, ""), 200, "GET", sup)
	if dig(l["suppressions"].([]any)[0], "email") != "ok@example.com" {
		t.Errorf("list: %v", l)
	}
	f.expect(f.do("DELETE", sup+"/ok@example.com", f.write, ""), 200, "DELETE", sup+"/{email}")
	f.expect(f.do("DELETE", sup+"/ok@example.com", f.write, ""), 404, "DELETE", sup+"/{email}")

	s := f.expect(f.do("GET", "/api/v1/surveys", f.read, ""), 200, "GET", "/api/v1/surveys")
	if len(s["surveys"].([]any)) != 3 {
		t.Errorf("surveys: %v", s)
	}
	if res := f.expect(f.do("GET", "/api/v1/surveys/nps/results", f.read, ""), 200, "GET", "/api/v1/surveys/{name}/results"); res["nps"] != nil {
		t.Errorf("NPS without answers: %v", res["nps"])
	}
	score := 10
	if _, err := f.db.SaveSurveyResponse(context.Background(), "h1", store.SurveyResponse{Survey: "nps", Score: &score,
		Answers: map[string]any{"score": 10}, At: f.now}); err != nil {
		t.Fatal(err)
	}
	res := f.expect(f.do("GET", "/api/v1/surveys/nps/results", f.read, ""), 200, "GET", "/api/v1/surveys/{name}/results")
	if res["responses"] != 1.0 || dig(res, "nps", "score") != 100.0 {
		t.Errorf("nps results: %v", res)
	}
	f.expect(f.do("GET", "/api/v1/surveys/nope/results", f.read, ""), 404, "GET", "/api/v1/surveys/{name}/results")

	f.expect(f.do("POST", "/api/v1/enrollments", f.write, lilei), 201, "POST", "/api/v1/enrollments")
	m := f.expect(f.do("GET", "/api/v1/metrics?from=2026-11-01&to=2026-11-30", f.read, ""), 200, "GET", "/api/v1/metrics")
	if dig(m, "nps", "responses") != 1.0 || dig(m, "definitions", "reply_rate") == nil || dig(m["sources"].([]any)[0], "source") != "Boss直聘" {
		t.Errorf("metrics: %v", m)
	}
	zh := f.expect(f.do("GET", "/api/v1/metrics?from=2026-11-01&to=2026-11-30", f.read, "", "Accept-Language", "zh-CN,zh;q=0.9"), 200, "GET", "/api/v1/metrics")
	if d := fmt.Sprint(dig(zh, "definitions", "talent_pool")); !strings.Contains(d, "人才库激活率") {
		t.Errorf("definitions for a Chinese client: %s", d)
	}
	// The report is reused until something new is recorded.
	zero := 0
	if _, err := f.db.SaveSurveyResponse(context.Background(), "h2", store.SurveyResponse{Survey: "nps", Score: &zero,
		Answers: map[string]any{"score": 0}, At: f.now}); err != nil {
		t.Fatal(err)
	}
	m = f.expect(f.do("GET", "/api/v1/metrics?from=2026-11-01&to=2026-11-30", f.read, ""), 200, "GET", "/api/v1/metrics")
	if dig(m, "nps", "responses") != 2.0 || dig(m, "nps", "nps", "score") != 0.0 {
		t.Errorf("metrics after a second answer: %v", m["nps"])
	}
	for _, q := range []string{"from=yesterday", "from=2026-12-01&to=2026-11-01", "from=2020-01-01&to=2026-01-01"} {
		f.expect(f.do("GET", "/api/v1/metrics?"+q, f.read, ""), 400, "GET", "/api/v1/metrics")
	}
	seqs := f.expect(f.do("GET", "/api/v1/sequences", f.read, ""), 200, "GET", "/api/v1/sequences")
	if len(seqs["sequences"].([]any)) != 6 {
		t.Errorf("sequences: %d", len(seqs["sequences"].([]any)))
	}
	spec := f.expect(f.do("GET", "/api/v1/openapi.json", f.read, ""), 200, "GET", "/api/v1/openapi.json")
	if spec["openapi"] != "3.1.0" {
		t.Errorf("openapi: %v", spec["openapi"])
	}
}

func TestWebhookDeliveryLog(t *testing.T) {
	f := newFixture(t)
	const route = "/api/v1/webhooks/deliveries"
	m := f.expect(f.do("GET", route, f.read, ""), 200, "GET", route)
	if len(m["deliveries"].([]any)) != 0 {
		t.Errorf("deliveries before any webhook: %v", m)
	}
	for _, q := range []string{"status=lost", "limit=0", "before=x"} {
		f.expect(f.do("GET", route+"?"+q, f.read, ""), 400, "GET", route)
	}
	f.expect(f.do("POST", "/api/v1/enrollments", f.write, lilei), 201, "POST", "/api/v1/enrollments")
	c, err := f.db.Timeline(context.Background(), "li.lei@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.EnqueueDeliveries(context.Background(), []webhooks.NewDelivery{{Endpoint: "https://ats.example.com/hook?key=s3cret",
		EventID: 1, EventType: "message.sent", CandidateID: c.Candidate.ID, Payload: []byte(`{}`)}}, 1, f.now); err != nil {
		t.Fatal(err)
	}
	m = f.expect(f.do("GET", route+"?status=pending", f.read, ""), 200, "GET", route)
	d := m["deliveries"].([]any)
	if len(d) != 1 || dig(d[0], "endpoint") != "https://ats.example.com/hook" || strings.Contains(string(f.do("GET", route, f.read, "").body), "s3cret") {
		t.Errorf("deliveries: %v", m)
	}
}

func TestTags(t *testing.T) {
	f := newFixture(t)
	body := `{"enrollments":[
		{"email":"a@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"},"tags":["Go","紧急"]},
		{"email":"b@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"},"tags":["` + strings.Repeat("长", 65) + `"]}]}`
	m := f.expect(f.do("POST", "/api/v1/enrollments", f.write, body), 200, "POST", "/api/v1/enrollments")
	if r := m["results"].([]any); dig(r[0], "result") != "created" || dig(r[1], "result") != "invalid" {
		t.Errorf("results: %v", r)
	}
	tags := f.expect(f.do("POST", "/api/v1/candidates/a@example.com/tags", f.write, `{"tags":[" 潜力 ","Go"]}`), 200, "POST", "/api/v1/candidates/{email}/tags")
	if fmt.Sprint(tags["tags"]) != "[Go 潜力 紧急]" {
		t.Errorf("tags: %v", tags)
	}
	f.expect(f.do("POST", "/api/v1/candidates/a@example.com/tags", f.write, `{"tags":[]}`), 422, "POST", "/api/v1/candidates/{email}/tags")
	f.expect(f.do("POST", "/api/v1/candidates/nobody@example.com/tags", f.write, `{"tags":["x"]}`), 404, "POST", "/api/v1/candidates/{email}/tags")
	tags = f.expect(f.do("DELETE", "/api/v1/candidates/a@example.com/tags/%E7%B4%A7%E6%80%A5", f.write, ""), 200, "DELETE", "/api/v1/candidates/{email}/tags/{tag}")
	if fmt.Sprint(tags["tags"]) != "[Go 潜力]" {
		t.Errorf("after removing 紧急: %v", tags)
	}
	f.expect(f.do("DELETE", "/api/v1/candidates/a@example.com/tags/none", f.write, ""), 404, "DELETE", "/api/v1/candidates/{email}/tags/{tag}")
	all := f.expect(f.do("GET", "/api/v1/tags", f.read, ""), 200, "GET", "/api/v1/tags")
	if len(all["tags"].([]any)) != 2 {
		t.Errorf("all tags: %v", all)
	}
	c := f.expect(f.do("GET", "/api/v1/candidates/a@example.com", f.read, ""), 200, "GET", "/api/v1/candidates/{email}")
	if fmt.Sprint(c["tags"]) != "[Go 潜力]" {
		t.Errorf("candidate tags: %v", c["tags"])
	}
	l := f.expect(f.do("GET", "/api/v1/enrollments?tag=Go", f.read, ""), 200, "GET", "/api/v1/enrollments")
	if n := len(l["enrollments"].([]any)); n != 1 {
		t.Errorf("by tag: %d", n)
	}
}

func TestEnrollByTag(t *testing.T) {
	f := newFixture(t)
	const route = "/api/v1/tags/{tag}/enroll"
	body := `{"enrollments":[
		{"email":"a@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"},"tags":["潜力"]},
		{"email":"b@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"},"tags":["潜力"]},
		{"email":"c@example.com","sequence":"post-interview-thanks","fields":{"job_title":"x"},"tags":["other"]}]}`
	f.expect(f.do("POST", "/api/v1/enrollments", f.write, body), 200, "POST", "/api/v1/enrollments")
	f.expect(f.do("POST", "/api/v1/suppressions", f.write, `{"emails":["b@example.com"]}`), 200, "POST", "/api/v1/suppressions")
	path := "/api/v1/tags/%E6%BD%9C%E5%8A%9B/enroll"
	m := f.expect(f.do("POST", path, f.write, `{"sequence":"talent-pool-warmup","consent":true}`), 200, "POST", route)
	var got []string
	for _, r := range m["results"].([]any) {
		got = append(got, fmt.Sprint(dig(r, "email"), ":", dig(r, "result")))
	}
	if m["tag"] != "潜力" || strings.Join(got, " ") != "a@example.com:created b@example.com:blocked" {
		t.Errorf("by tag: %v %v", m["tag"], got)
	}
	f.expect(f.do("POST", path, f.write, `{"sequence":"nope"}`), 422, "POST", route)
	f.expect(f.do("POST", path, f.read, `{"sequence":"talent-pool-warmup"}`), 403, "POST", route)
	if m := f.expect(f.do("POST", "/api/v1/tags/none/enroll", f.write, `{"sequence":"talent-pool-warmup","consent":true}`), 200, "POST", route); len(m["results"].([]any)) != 0 {
		t.Errorf("unknown tag: %v", m)
	}
}
