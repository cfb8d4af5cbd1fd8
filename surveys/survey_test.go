package surveys

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStarterSurveysLoad(t *testing.T) {
	set, ps := Load(filepath.Join("..", "cmd", "followup", "starter", "surveys"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if got := strings.Join(set.Names(), ","); got != "declined-offer,interview-experience,nps" {
		t.Errorf("surveys: %s", got)
	}
	nps, _ := set.Get("nps")
	if q, ok := nps.ScaleQuestion(); !ok || q.Min != 0 || q.Max != 10 || !nps.Anonymous {
		t.Errorf("nps: %+v", nps)
	}
}

func TestParseReportsProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(`title: {en: T}
expires: soon
questions:
  - id: q1
    type: scale
    min: 5
    max: 1
    prompt: {en: p}
  - id: q1
    type: single
    prompt: {en: p}
    options: [{id: a, label: {en: A}}]
  - id: Q3
    type: essay
act:
  contact_again: q9
`), 0o644)
	_, ps := Load(dir)
	joined := ""
	for _, p := range ps {
		joined += p.String() + "\n"
	}
	for _, want := range []string{`expires "soon"`, "a scale needs min < max", `question id "q1" is used twice`, "needs at least two options", `id "Q3"`, `type "essay"`, `contact_again names "q9"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems lack %q:\n%s", want, joined)
		}
	}
}

func TestTokens(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	issued := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tok := NewToken(secret, "kfz3t6qz2m4u5l6n7o8p9q0r1s", "nps", issued)
	l, err := ParseToken(secret, tok, 30*day, issued.Add(29*day))
	if err != nil || l.UID != "kfz3t6qz2m4u5l6n7o8p9q0r1s" || l.Survey != "nps" {
		t.Fatalf("%+v %v", l, err)
	}
	if _, err := ParseToken(secret, tok, 30*day, issued.Add(32*day)); err != ErrExpiredToken {
		t.Errorf("an old link: %v", err)
	}
	for _, bad := range []string{tok + "x", "x" + tok, strings.Replace(tok, ".", "", 1), "", "....", NewToken([]byte("other"), "u", "nps", issued)} {
		if _, err := ParseToken(secret, bad, 30*day, issued); err != ErrInvalidToken {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if strings.Contains(tok, "nps") {
		t.Error("the token shows its content in clear")
	}
}

func TestFromForm(t *testing.T) {
	set, _ := Load(filepath.Join("..", "cmd", "followup", "starter", "surveys"))
	d, _ := set.Get("declined-offer")
	a, problems := d.FromForm(url.Values{"reasons": {"salary", "other", "salary"}, "reasons.other": {"<script>x</script>"}, "contact_again": {"yes"}}, "en")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if got := a["reasons"].([]string); len(got) != 2 || a["reasons.other"] != "<script>x</script>" || a["contact_again"] != "yes" {
		t.Errorf("answers %v", a)
	}
	tests := []struct {
		form url.Values
		q    string
		want string
	}{
		{url.Values{"contact_again": {"yes"}}, "reasons", "请回答这个问题"},
		{url.Values{"reasons": {"bribes"}, "contact_again": {"yes"}}, "reasons", "请从列表中选择"},
		{url.Values{"reasons": {"salary"}, "contact_again": {"maybe"}}, "contact_again", "请选择一个选项"},
		{url.Values{"reasons": {"salary\xff"}, "contact_again": {"no"}}, "reasons", "无法识别"},
	}
	for _, tt := range tests {
		_, problems := d.FromForm(tt.form, "zh-CN")
		if !strings.Contains(problems[tt.q], tt.want) {
			t.Errorf("%v: problems %v, want %q on %s", tt.form, problems, tt.want, tt.q)
		}
	}
	nps, _ := set.Get("nps")
	if _, p := nps.FromForm(url.Values{"score": {"11"}}, "en"); p["score"] == "" {
		t.Error("accepted a score of 11")
	}
	if a, p := nps.FromForm(url.Values{"score": {"9"}, "reason": {strings.Repeat("好", MaxText+1)}}, "en"); p["reason"] == "" {
		t.Errorf("accepted an overlong text: %v", a)
	}
}
