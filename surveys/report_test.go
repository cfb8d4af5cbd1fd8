package surveys

import (
	"path/filepath"
	"testing"
)

func TestNPS(t *testing.T) {
	tests := []struct {
		scores []int
		want   float64
	}{
		{[]int{10, 9, 8, 7, 6, 0}, 0},
		{[]int{10, 10, 10, 6}, 50},
		{[]int{0, 1, 2}, -100},
		{nil, 0},
	}
	for _, tt := range tests {
		if got := ComputeNPS(tt.scores); got.Score != tt.want || got.Total != len(tt.scores) {
			t.Errorf("%v: %+v, want %v", tt.scores, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	set, _ := Load(filepath.Join("..", "cmd", "followup", "starter", "surveys"))
	d, _ := set.Get("declined-offer")
	rows := []Row{
		{Sequence: "offer-declined", Month: "2026-11", Answers: Answers{"reasons": []any{"salary", "other-offer"}, "contact_again": "yes"}},
		{Sequence: "offer-declined", Month: "2026-11", Answers: Answers{"reasons": []any{"salary"}, "contact_again": "no"}},
	}
	s := Summarize(d, rows, "en")
	if top := s.Choices["reasons"][0]; top.ID != "salary" || top.N != 2 || top.Label != "Salary below expectations" {
		t.Errorf("top reason %+v", top)
	}
	nps, _ := set.Get("nps")
	nine, three := 9, 3
	s = Summarize(nps, []Row{{Month: "2026-10", Score: &nine}, {Month: "2026-11", Score: &three}, {Month: "2026-11", Score: &nine}}, "en")
	if !s.IsNPS || s.NPS.Promoters != 2 || s.NPS.Detractors != 1 || len(s.ByMonth) != 2 || s.Distribution[9] != 2 {
		t.Errorf("summary %+v", s)
	}
}
