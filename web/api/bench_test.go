package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"followup/sequences"
)

// BenchmarkEnroll enrolls candidates in batches of 100: through the API
// (HTTP on loopback, token, JSON, validation, idempotency key, one
// transaction) against the limit, the same validated requests handed to
// the store directly, in the same run. Reported as enrollments/s.
func BenchmarkEnroll(b *testing.B) {
	const batch = 100
	body := func(round int) string {
		var in []EnrollInput
		for i := 0; i < batch; i++ {
			in = append(in, EnrollInput{Email: fmt.Sprintf("c%d-%d@example.com", round, i), Name: "候选人", Sequence: "post-interview-thanks",
				Fields: map[string]string{"job_title": "后端工程师", "interview_date": "2026-11-20 15:00", "source": "Boss直聘"}})
		}
		j, _ := json.Marshal(map[string]any{"enrollments": in})
		return string(j)
	}
	b.Run("api", func(b *testing.B) {
		f := newFixture(b)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/enrollments", strings.NewReader(body(i)))
			req.Header.Set("Authorization", "Bearer "+f.write)
			req.Header.Set("Idempotency-Key", fmt.Sprint("k", i))
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatal(res, err)
			}
			res.Body.Close()
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "enrollments/s")
	})
	b.Run("store", func(b *testing.B) {
		f := newFixture(b)
		cat := f.catalog
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var in struct{ Enrollments []EnrollInput }
			_ = json.Unmarshal([]byte(body(i)), &in)
			reqs := make([]sequences.EnrollRequest, 0, batch)
			for _, e := range in.Enrollments {
				r, _, err := cat.Validate(sequences.EnrollRequest{Candidate: sequences.Candidate{Email: e.Email, Name: e.Name},
					Sequence: e.Sequence, Fields: e.Fields}, f.defaults)
				if err != nil {
					b.Fatal(err)
				}
				reqs = append(reqs, r)
			}
			if _, err := f.db.Enroll(context.Background(), reqs, cat.Sequences, f.now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "enrollments/s")
	})
}
