package sequences

import (
	"context"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Cap is a frequency cap per candidate across all sequences: at most Emails
// in any Window (e.g. 2 in 7 days). A step that would exceed it waits until
// the oldest of those emails is Window old; nothing is dropped.
type Cap struct {
	Emails int
	Window time.Duration
}

// Limits are a mailbox's sending rate and daily cap.
type Limits struct {
	PerMinute int // 0: no rate limit
	PerDay    int // 0: no daily cap
}

// limiter tracks one mailbox's rate and today's count.
type limiter struct {
	rate  *rate.Limiter
	mu    sync.Mutex
	day   time.Time // start of the counted day
	count int       // sends today (recorded or in flight)
	known bool      // count was loaded from the database for day
}

func (s *Scheduler) limiter(mb *Mailbox) *limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limiters == nil {
		s.limiters = map[string]*limiter{}
	}
	l, ok := s.limiters[mb.Name]
	if !ok {
		l = &limiter{}
		if mb.Limits.PerMinute > 0 {
			// Burst 1: sends are spread evenly, never bunched.
			l.rate = rate.NewLimiter(rate.Limit(float64(mb.Limits.PerMinute)/60), 1)
		}
		s.limiters[mb.Name] = l
	}
	return l
}

// takeDaily reserves one of today's sends for mb. When the cap is reached
// it returns the start of the next day instead.
func (s *Scheduler) takeDaily(ctx context.Context, mb *Mailbox, now time.Time) (time.Time, bool, error) {
	if mb.Limits.PerDay <= 0 {
		return time.Time{}, true, nil
	}
	l := s.limiter(mb)
	l.mu.Lock()
	defer l.mu.Unlock()
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	if !l.known || !l.day.Equal(day) {
		n, err := s.Store.SentFrom(ctx, mb.From.Address, day)
		if err != nil {
			return time.Time{}, false, err
		}
		l.day, l.count, l.known = day, n, true
	}
	if l.count >= mb.Limits.PerDay {
		return day.AddDate(0, 0, 1), false, nil
	}
	l.count++
	return time.Time{}, true, nil
}

// releaseDaily gives back a reservation whose message was not sent.
func (s *Scheduler) releaseDaily(mb *Mailbox) {
	if mb.Limits.PerDay <= 0 {
		return
	}
	l := s.limiter(mb)
	l.mu.Lock()
	if l.count > 0 {
		l.count--
	}
	l.mu.Unlock()
}

// capWait says until when a candidate must wait under the frequency cap
// (zero when they may get an email now). It counts what the database has
// recorded and what this process sent that the recorder has not committed
// yet.
func (s *Scheduler) capWait(ctx context.Context, candidateID int64, now time.Time) (time.Time, error) {
	if s.Cap.Emails <= 0 {
		return time.Time{}, nil
	}
	since := now.Add(-s.Cap.Window)
	recorded, err := s.Store.SentTo(ctx, candidateID, since)
	if err != nil {
		return time.Time{}, err
	}
	seen := map[string]bool{}
	var times []time.Time
	for _, r := range recorded {
		seen[r.MessageID] = true
		times = append(times, r.At)
	}
	s.mu.Lock()
	var keep []SentRecord
	for _, r := range s.recent[candidateID] {
		if r.At.After(since) {
			keep = append(keep, r)
			if !seen[r.MessageID] {
				times = append(times, r.At)
			}
		}
	}
	if len(keep) == 0 {
		delete(s.recent, candidateID)
	} else {
		s.recent[candidateID] = keep
	}
	s.mu.Unlock()
	if len(times) < s.Cap.Emails {
		return time.Time{}, nil
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	// The oldest email that counts must leave the window first.
	return times[len(times)-s.Cap.Emails].Add(s.Cap.Window + time.Minute), nil
}

// noteSent remembers a send until the recorder has committed it.
func (s *Scheduler) noteSent(candidateID int64, messageID string, at time.Time) {
	if s.Cap.Emails <= 0 {
		return
	}
	s.mu.Lock()
	if s.recent == nil {
		s.recent = map[int64][]SentRecord{}
	}
	s.recent[candidateID] = append(s.recent[candidateID], SentRecord{MessageID: messageID, At: at})
	s.mu.Unlock()
}

// inFlight keeps one message per candidate in flight at a time, so two
// sequences due at the same moment cannot both pass the cap.
func (s *Scheduler) startFlight(candidateID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flying == nil {
		s.flying = map[int64]bool{}
	}
	if s.flying[candidateID] {
		return false
	}
	s.flying[candidateID] = true
	return true
}

func (s *Scheduler) endFlight(candidateID int64) {
	s.mu.Lock()
	delete(s.flying, candidateID)
	s.mu.Unlock()
}
