package surveys

import (
	"fmt"
	"sort"
)

// Row is one stored response, for reports.
type Row struct {
	Sequence, Job, Mailbox, Month string
	Score                         *int
	Answers                       Answers
}

// NPS is a Net Promoter Score: % promoters (9–10) − % detractors (0–6).
type NPS struct {
	Promoters, Passives, Detractors, Total int
	Score                                  float64
}

// ComputeNPS scores a list of 0–10 answers.
func ComputeNPS(scores []int) NPS {
	var n NPS
	for _, s := range scores {
		switch {
		case s >= 9:
			n.Promoters++
		case s >= 7:
			n.Passives++
		default:
			n.Detractors++
		}
	}
	n.Total = len(scores)
	if n.Total > 0 {
		n.Score = 100 * float64(n.Promoters-n.Detractors) / float64(n.Total)
	}
	return n
}

// Count is how often an option was chosen.
type Count struct {
	ID, Label string
	N         int
}

// Group is a segment's score.
type Group struct {
	Key   string
	N     int
	NPS   NPS     // for 0–10 scales
	Mean  float64 // for other scales
	Count int
}

// Summary is what a survey's responses say.
type Summary struct {
	Survey       *Survey
	Responses    int
	IsNPS        bool
	NPS          NPS
	Mean         float64
	Distribution []int // count per score, Min..Max of the scale question
	Choices      map[string][]Count
	ByMonth      []Group
	BySequence   []Group
	ByJob        []Group
	ByMailbox    []Group
}

// Summarize reads a survey's responses.
func Summarize(s *Survey, rows []Row, lang string) Summary {
	sum := Summary{Survey: s, Responses: len(rows), Choices: map[string][]Count{}}
	q, hasScale := s.ScaleQuestion()
	sum.IsNPS = hasScale && q.Min == 0 && q.Max == 10
	score := func(r Row) (int, bool) {
		if r.Score != nil {
			return *r.Score, true
		}
		return 0, false
	}
	group := func(key func(Row) string) []Group {
		scores := map[string][]int{}
		for _, r := range rows {
			if n, ok := score(r); ok {
				scores[key(r)] = append(scores[key(r)], n)
			}
		}
		var out []Group
		for k, v := range scores {
			g := Group{Key: k, N: len(v)}
			if sum.IsNPS {
				g.NPS = ComputeNPS(v)
			}
			g.Mean = mean(v)
			out = append(out, g)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	if hasScale {
		var all []int
		sum.Distribution = make([]int, q.Max-q.Min+1)
		for _, r := range rows {
			if n, ok := score(r); ok && n >= q.Min && n <= q.Max {
				all = append(all, n)
				sum.Distribution[n-q.Min]++
			}
		}
		if sum.IsNPS {
			sum.NPS = ComputeNPS(all)
		}
		sum.Mean = mean(all)
		sum.ByMonth = group(func(r Row) string { return r.Month })
		sum.BySequence = group(func(r Row) string { return r.Sequence })
		sum.ByJob = group(func(r Row) string { return r.Job })
		sum.ByMailbox = group(func(r Row) string { return r.Mailbox })
	}
	for _, qq := range s.Questions {
		if qq.Kind != Single && qq.Kind != Multi {
			continue
		}
		counts := map[string]int{}
		for _, r := range rows {
			switch v := r.Answers[qq.ID].(type) {
			case string:
				counts[v]++
			case []string:
				for _, id := range v {
					counts[id]++
				}
			case []any:
				for _, id := range v {
					counts[fmt.Sprint(id)]++
				}
			}
		}
		var list []Count
		for _, o := range qq.Options {
			list = append(list, Count{ID: o.ID, Label: o.Label.In(lang), N: counts[o.ID]})
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].N > list[j].N })
		sum.Choices[qq.ID] = list
	}
	return sum
}

func mean(v []int) float64 {
	if len(v) == 0 {
		return 0
	}
	t := 0
	for _, x := range v {
		t += x
	}
	return float64(t) / float64(len(v))
}
