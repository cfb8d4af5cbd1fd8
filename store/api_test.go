package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"followup/sequences"
)

func TestTokensAreHashedScopedAndRevocable(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	if _, _, err := db.CreateToken(ctx, "ats", "admin", now); err == nil {
		t.Error("an unknown scope was accepted")
	}
	if _, _, err := db.CreateToken(ctx, " ", ScopeRead, now); err == nil {
		t.Error("a token without a name was accepted")
	}
	tok, secret, err := db.CreateToken(ctx, "ats", ScopeRead, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < 40 || !strings.HasPrefix(secret, tok.Prefix) {
		t.Errorf("secret %q, prefix %q", secret, tok.Prefix)
	}
	var stored int
	if err := db.r.Get(&stored, "SELECT COUNT(*) FROM api_tokens WHERE hash = ? OR prefix = ?", secret, secret); err != nil || stored != 0 {
		t.Errorf("the secret itself is stored (%d, %v)", stored, err)
	}
	got, err := db.Authenticate(ctx, secret, now)
	if err != nil || got.ID != tok.ID || !got.Allows(ScopeRead) || got.Allows(ScopeWrite) {
		t.Errorf("authenticate: %+v %v", got, err)
	}
	for _, bad := range []string{"", "fu_nope", secret + "x", strings.TrimPrefix(secret, TokenPrefix)} {
		if _, err := db.Authenticate(ctx, bad, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if ok, err := db.RevokeToken(ctx, "ats", now); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if _, err := db.Authenticate(ctx, secret, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a revoked token still works: %v", err)
	}
	if ok, _ := db.RevokeToken(ctx, "ats", now); ok {
		t.Error("revoked twice")
	}
}

func TestIdempotencyKeys(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Now()
	tok, _, err := db.CreateToken(ctx, "ats", ScopeWrite, now)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := db.BeginIdempotent(ctx, tok.ID, "k1", "h1", now); r != nil || err != nil {
		t.Fatalf("first use: %v %v", r, err)
	}
	if _, err := db.BeginIdempotent(ctx, tok.ID, "k1", "h1", now); !errors.Is(err, ErrInProgress) {
		t.Errorf("while in progress: %v", err)
	}
	if _, err := db.BeginIdempotent(ctx, tok.ID, "k1", "h2", now); !errors.Is(err, ErrKeyReused) {
		t.Errorf("another request with the key: %v", err)
	}
	if err := db.FinishIdempotent(ctx, tok.ID, "k1", 201, []byte(`{"ok":1}`)); err != nil {
		t.Fatal(err)
	}
	r, err := db.BeginIdempotent(ctx, tok.ID, "k1", "h1", now)
	if err != nil || r == nil || r.Status != 201 || string(r.Body) != `{"ok":1}` {
		t.Errorf("replay: %+v %v", r, err)
	}
	// An unfinished request whose process died is taken over by a retry.
	if _, err := db.BeginIdempotent(ctx, tok.ID, "k3", "h", now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginIdempotent(ctx, tok.ID, "k3", "h", now.Add(IdempotentTakeover/2)); !errors.Is(err, ErrInProgress) {
		t.Errorf("taken over too early: %v", err)
	}
	if r, err := db.BeginIdempotent(ctx, tok.ID, "k3", "h", now.Add(2*IdempotentTakeover)); r != nil || err != nil {
		t.Errorf("not taken over: %v %v", r, err)
	}
	// A failed request releases its key.
	if _, err := db.BeginIdempotent(ctx, tok.ID, "k2", "h", now); err != nil {
		t.Fatal(err)
	}
	if err := db.DropIdempotent(ctx, tok.ID, "k2"); err != nil {
		t.Fatal(err)
	}
	if r, err := db.BeginIdempotent(ctx, tok.ID, "k2", "h", now); r != nil || err != nil {
		t.Errorf("after drop: %v %v", r, err)
	}
	if n, err := db.ExpireIdempotent(ctx, now.Add(time.Hour)); n != 3 || err != nil {
		t.Errorf("expired %d, %v", n, err)
	}
}

func TestSearchFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seqs := map[string]*sequences.Sequence{"s": testSeq}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var reqs []sequences.EnrollRequest
	for _, e := range []string{"li.lei@example.com", "han_meimei@example.com", "100%@example.com", "wang@example.com"} {
		reqs = append(reqs, req(e))
	}
	reqs[0].Name = "李雷"
	if _, err := db.Enroll(ctx, reqs, seqs, now); err != nil {
		t.Fatal(err)
	}
	emails := func(f SearchFilter) string {
		es, err := db.Search(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Email)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		f    SearchFilter
		want string
	}{
		{SearchFilter{}, "wang@example.com 100%@example.com han_meimei@example.com li.lei@example.com"},
		{SearchFilter{Query: "李"}, "li.lei@example.com"},
		{SearchFilter{Query: "_"}, "han_meimei@example.com"}, // not a LIKE wildcard
		{SearchFilter{Query: "%"}, "100%@example.com"},
		{SearchFilter{Sequence: "other"}, ""},
		{SearchFilter{Status: "active", Mailbox: "m", Limit: 2}, "wang@example.com 100%@example.com"},
	} {
		if got := emails(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
	page, _ := db.Search(ctx, SearchFilter{Limit: 2})
	if got := emails(SearchFilter{BeforeID: page[1].ID}); got != "han_meimei@example.com li.lei@example.com" {
		t.Errorf("second page: %q", got)
	}
}

// TestMetrics builds a small history by hand and checks every number.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return day.Add(time.Duration(n * float64(time.Hour))) }
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.w.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO sequence_versions (id, sequence, hash, definition, created_at) VALUES (1, 'x', 'h', '{}', ?)`, day)
	type enr struct {
		id            int
		cand          int
		seq, fields   string
		source        string
		created       float64
		sent          []float64 // send times of steps 0, 1…
		reply, bounce float64   // 0: none
	}
	history := []enr{
		// post-interview: interview on Oct 5 (end of day), mailed 2 h later; replied 10 h after step 1.
		{1, 1, "post", `{"interview_date":"2026-10-05","source":"Boss直聘"}`, "api", 1, []float64{26}, 36, 0},
		// interview with a time, mailed 30 h later, replied to step 2.
		{2, 2, "post", `{"interview_date":"2026-10-05 10:00","source":"Boss直聘"}`, "api", 1, []float64{40, 60}, 70, 0},
		// bounced at step 1, no interview date.
		{3, 3, "post", `{}`, "import:c.csv:3", 1, []float64{5}, 0, 6},
		// enrolled, nothing sent yet.
		{4, 4, "post", `{"interview_date":"not a date"}`, "cli", 2, nil, 0, 0},
		// talent pool: candidate 5 replied; candidate 6 re-entered a process; 7 nothing.
		{5, 5, "pool", `{}`, "cli", 1, []float64{2}, 3, 0},
		{6, 6, "pool", `{}`, "cli", 1, []float64{2}, 0, 0},
		{7, 6, "post", `{}`, "cli", 50, []float64{51}, 0, 0},
		{8, 7, "pool", `{}`, "dashboard (wang)", 1, []float64{2}, 0, 0},
	}
	for _, c := range history {
		exec(`INSERT OR IGNORE INTO candidates (id, email, created_at, updated_at) VALUES (?, ?, ?, ?)`, c.cand, "c"+string(rune('0'+c.cand))+"@example.com", day, day)
		exec(`INSERT INTO enrollments (id, uid, candidate_id, sequence, version_id, mailbox, fields, status, source, created_at, updated_at)
		      VALUES (?, ?, ?, ?, 1, 'm', ?, 'active', ?, ?, ?)`, c.id, "u"+string(rune('0'+c.id)), c.cand, c.seq, c.fields, c.source, h(c.created), h(c.created))
		for step, at := range c.sent {
			exec(`INSERT INTO messages (enrollment_id, step, message_id, status, sent_at, created_at, updated_at) VALUES (?, ?, ?, 'sent', ?, ?, ?)`,
				c.id, step, "m"+string(rune('0'+c.id))+string(rune('0'+step)), h(at), h(at), h(at))
		}
		for kind, at := range map[string]float64{"reply": c.reply, "bounce": c.bounce} {
			if at != 0 {
				exec(`INSERT INTO inbound_messages (mailbox, message_id, uidvalidity, uid, kind, candidate_id, enrollment_id, received_at, created_at)
				      VALUES ('m', ?, 1, ?, ?, ?, ?, ?, ?)`, kind+string(rune('0'+c.id)), c.id, kind, c.cand, c.id, h(at), h(at))
			}
		}
	}
	m, err := db.Metrics(ctx, MetricsQuery{From: day, To: day.AddDate(0, 0, 30), PoolSequences: []string{"pool"}})
	if err != nil {
		t.Fatal(err)
	}
	f := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	steps := map[[2]any][4]int{}
	for _, s := range m.Steps {
		steps[[2]any{s.Sequence, s.Step}] = [4]int{s.Sent, s.Replied, s.Bounced, s.Unsubscribed}
	}
	if want := (map[[2]any][4]int{{"post", 1}: {4, 1, 1, 0}, {"post", 2}: {1, 1, 0, 0}, {"pool", 1}: {3, 1, 0, 0}}); !equalMaps(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	seqs := map[string]SequenceMetrics{}
	for _, s := range m.Sequences {
		seqs[s.Sequence] = s
	}
	post := seqs["post"]
	if post.Enrolled != 5 || post.Contacted != 4 || post.Replied != 2 || post.ReplyRate != 0.5 ||
		f(post.FirstReplyMedianHours) != 10.0 || f(post.FirstReplyP90Hours) != 30.0 {
		t.Errorf("post: %+v median %v p90 %v", post, f(post.FirstReplyMedianHours), f(post.FirstReplyP90Hours))
	}
	fc := m.FeedbackCycle
	// Enrollment 1: end of Oct 5 (23:59:59) → Oct 6 02:00 ≈ 2.0 h; 2: 10:00 → Oct 6 16:00 = 30 h.
	if fc.Field != "interview_date" || fc.Measured != 2 || f(fc.MedianHours) != 2.0 || f(fc.P90Hours) != 30.0 || f(fc.Within24h) != 0.5 {
		t.Errorf("feedback cycle %+v: %v %v %v", fc, f(fc.MedianHours), f(fc.P90Hours), f(fc.Within24h))
	}
	if p := m.TalentPool; p.Contacted != 3 || p.Activated != 2 || f(p.ActivationRate) != 0.667 {
		t.Errorf("pool %+v rate %v", p, f(p.ActivationRate))
	}
	src := map[string][3]int{}
	for _, s := range m.Sources {
		src[s.Source] = [3]int{s.Enrolled, s.Contacted, s.Replied}
	}
	if want := (map[string][3]int{"Boss直聘": {2, 2, 2}, "import": {1, 1, 0}, "cli": {4, 3, 1}, "dashboard": {1, 1, 0}}); !equalMaps(src, want) {
		t.Errorf("sources %v, want %v", src, want)
	}
	// An unsubscribe through the web page (the enrollment stopped as
	// suppressed) counts for the last step sent; the dashboard's overview
	// shows the same numbers, per template.
	exec(`UPDATE enrollments SET status = 'stopped', status_reason = 'suppressed: one-click unsubscribe (RFC 8058)', next_step = 1 WHERE id = 8`)
	exec(`UPDATE messages SET template = 'pool-b' WHERE enrollment_id = 8`)
	over, err := db.StepOverview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][4]int{}
	for _, s := range over {
		got[fmt.Sprintf("%s/%d/%s", s.Sequence, s.Step, s.Template)] = [4]int{s.Sent, s.Replied, s.Bounced, s.Unsubscribed}
	}
	if want := (map[string][4]int{"post/0/": {4, 1, 1, 0}, "post/1/": {1, 1, 0, 0}, "pool/0/": {2, 1, 0, 0}, "pool/0/pool-b": {1, 0, 0, 1}}); !equalMaps(got, want) {
		t.Errorf("overview %v, want %v", got, want)
	}
	// A period with nothing in it.
	empty, err := db.Metrics(ctx, MetricsQuery{From: day.AddDate(1, 0, 0), To: day.AddDate(1, 1, 0)})
	if err != nil || len(empty.Steps) != 0 || len(empty.Sequences) != 0 || empty.FeedbackCycle.MedianHours != nil || empty.TalentPool.ActivationRate != nil {
		t.Errorf("empty period: %+v %v", empty, err)
	}
}

func equalMaps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Forget also erases the text of the emails as sent and any API response
// kept for retries that names the candidate.
func TestForgetErasesBodiesAndKeptResponses(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	if _, err := db.Enroll(ctx, []sequences.EnrollRequest{req("li.lei@example.com")}, map[string]*sequences.Sequence{"s": testSeq}, now); err != nil {
		t.Fatal(err)
	}
	claims, err := db.ClaimDue(ctx, now.Add(2*time.Hour), 1, func(e sequences.Enrollment) string { return sequences.MessageID(e.UID, 0, "x.test") })
	if err != nil || len(claims) != 1 {
		t.Fatal(claims, err)
	}
	if err := db.Settle(ctx, []sequences.Outcome{{Claim: claims[0], Kind: sequences.OutSent, At: now,
		Sent: sequences.Sent{At: now, To: "li.lei@example.com", Subject: "您好", Body: "李雷您好，感谢参加面试"}}}); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := db.CreateToken(ctx, "ats", ScopeWrite, now)
	for _, k := range []string{"k1", "k2"} {
		if _, err := db.BeginIdempotent(ctx, tok.ID, k, "h", now); err != nil {
			t.Fatal(err)
		}
	}
	db.FinishIdempotent(ctx, tok.ID, "k1", 201, []byte(`{"enrollment":{"email":"li.lei@example.com"}}`))
	db.FinishIdempotent(ctx, tok.ID, "k2", 201, []byte(`{"enrollment":{"email":"li_lei@example.com"}}`))
	if ok, err := db.Forget(ctx, "li.lei@example.com", now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	var bodies, kept int
	db.r.Get(&bodies, "SELECT COUNT(*) FROM messages WHERE body != '' OR subject != ''")
	db.r.Get(&kept, "SELECT COUNT(*) FROM api_idempotency")
	if bodies != 0 || kept != 1 {
		t.Errorf("after forget: %d messages with text, %d kept responses (want 0 and the other candidate's 1)", bodies, kept)
	}
}

// Resuming and rejecting compute the next step's time with the holiday
// calendars: a step due on China's National Day waits for the next working
// day.
func TestStepDueUsesTheHolidayCalendars(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seq := &sequences.Sequence{Name: "s", Window: sequences.DefaultWindow, Steps: []sequences.Step{
		{Template: "a", After: sequences.Delay{D: time.Hour}}, {Template: "b", After: sequences.Delay{D: 24 * time.Hour}}}}
	r := req("li.lei@example.com")
	r.Timezone = "Asia/Shanghai"
	out, err := db.Enroll(ctx, []sequences.EnrollRequest{r}, map[string]*sequences.Sequence{"s": seq}, time.Date(2026, 9, 29, 1, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cals, ps := sequences.LoadCalendars("")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	sentAt := time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai, the day before the holiday
	shanghai := sequences.Location("Asia/Shanghai")
	without, err := db.StepDue(ctx, nil, out[0].Enrollment, 0, sentAt)
	if err != nil || without == nil || without.In(shanghai).Day() != 1 {
		t.Fatalf("without calendars: %v %v (want October 1)", without, err)
	}
	with, err := db.NextStepDue(ctx, cals)(out[0].Enrollment, sentAt)
	if err != nil || with == nil || with.In(shanghai).Before(time.Date(2026, 10, 8, 0, 0, 0, 0, shanghai)) {
		t.Errorf("with the China calendar: %v %v (want after the National Day holiday)", with, err)
	}
	if last, err := db.StepDue(ctx, cals, out[0].Enrollment, 1, sentAt); last != nil || err != nil {
		t.Errorf("after the last step: %v %v", last, err)
	}
}
