package sequences

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"sync"
	"time"

	"followup/mailer"
	"followup/templates"
)

// Sender delivers one message. Errors are *mailer.Error carrying a verdict.
type Sender interface {
	Send(ctx context.Context, msg *mailer.Message) error
}

// Mailbox is a recruiter's sending identity and the way to send from it.
type Mailbox struct {
	Name      string
	From      mail.Address
	Company   string
	Signature *templates.Template // may be nil
	Sender    Sender
}

// Domain is the part after @ of the mailbox address; it names Message-IDs.
func (m *Mailbox) Domain() string {
	if i := strings.LastIndexByte(m.From.Address, '@'); i >= 0 {
		return m.From.Address[i+1:]
	}
	return "localhost"
}

// Retry is the backoff for transient failures.
type Retry struct {
	Initial     time.Duration // first wait
	Max         time.Duration // cap on one wait
	MaxAttempts int           // attempts before holding the enrollment for a person
}

// DefaultRetry waits 1 min, 2, 4… up to 6 h, and gives up after 10 tries
// (about 1.5 days).
var DefaultRetry = Retry{Initial: time.Minute, Max: 6 * time.Hour, MaxAttempts: 10}

// wait returns the backoff before attempt n+1 (n ≥ 1), with ±20 % jitter.
func (r Retry) wait(n int) time.Duration {
	d := r.Initial
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Scheduler sends every step when it is due. Run is the service loop;
// RunOnce does one pass and is what tests call.
type Scheduler struct {
	Store     Store
	Templates *templates.Set
	Mailboxes map[string]*Mailbox
	Clock     Clock
	Log       *slog.Logger
	// DefaultLanguage picks the template when the candidate's language has none.
	DefaultLanguage string
	Batch           int           // due steps claimed per transaction
	Workers         int           // messages sent at once
	Retry           Retry         // transient failures
	Lease           time.Duration // a claim older than this was interrupted
	// Changes signals that another process changed the database (a new
	// enrollment from `followup enroll`): the loop looks again at once.
	Changes <-chan struct{}
	// Idle is the longest the loop sleeps without looking (default 1 min);
	// it bounds how late an enrollment made elsewhere is noticed when
	// Changes is nil.
	Idle time.Duration
	// OnSent, if set, is called after each message is recorded as sent.
	OnSent func(Claim, *mailer.Message)

	once     sync.Once
	wake     chan struct{}
	versions sync.Map // version id → *Sequence
	mu       sync.Mutex
	down     map[string]downState // mailbox → when to try again
}

type downState struct {
	until time.Time
	wait  time.Duration
}

// Result counts what one pass did.
type Result struct {
	Sent, Deferred, Failed, Held int
	Next                         time.Time // earliest due step left, if HasNext
	HasNext                      bool
}

func (s *Scheduler) init() {
	s.once.Do(func() {
		s.wake = make(chan struct{}, 1)
		s.down = map[string]downState{}
		if s.Batch <= 0 {
			s.Batch = 100
		}
		if s.Workers <= 0 {
			s.Workers = 1
		}
		if s.Retry.MaxAttempts <= 0 {
			s.Retry = DefaultRetry
		}
		if s.Lease <= 0 {
			s.Lease = 10 * time.Minute
		}
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
		if s.Clock == nil {
			s.Clock = RealClock{}
		}
		if s.Idle <= 0 {
			s.Idle = time.Minute
		}
	})
}

// Wake makes a sleeping Run look for due steps now (after an enrollment).
func (s *Scheduler) Wake() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due steps until ctx is cancelled. Cancelling stops it taking new
// work; a message already being transmitted is finished and recorded first.
func (s *Scheduler) Run(ctx context.Context) error {
	s.init()
	if n, err := s.Store.RecoverStale(ctx, s.Clock.Now().Add(-s.Lease), s.Clock.Now()); err != nil {
		return fmt.Errorf("recovering interrupted sends: %w", err)
	} else if n > 0 {
		s.Log.Warn("sends were interrupted by a crash; their enrollments are paused until a person decides", "count", n)
	}
	idle := s.Idle
	for {
		res, err := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := idle
		if err != nil {
			s.Log.Error("sending pass failed; retrying", "err", err)
			wait = 5 * time.Second
		} else if res.HasNext {
			wait = min(max(res.Next.Sub(s.Clock.Now()), 0), idle)
		}
		if wait == 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-s.Changes:
		case <-s.Clock.After(wait):
		}
	}
}

// RunOnce claims and sends every step due now, then reports the next due
// time. Work is proportional to the number of due steps.
func (s *Scheduler) RunOnce(ctx context.Context) (Result, error) {
	s.init()
	var res Result
	var mu sync.Mutex
	count := func(f func(*Result)) { mu.Lock(); f(&res); mu.Unlock() }
	for ctx.Err() == nil {
		now := s.Clock.Now()
		claims, err := s.Store.ClaimDue(ctx, now, s.Batch, s.messageID)
		if err != nil {
			return res, err
		}
		if len(claims) == 0 {
			break
		}
		work := make(chan Claim)
		var wg sync.WaitGroup
		var firstErr error
		for i := 0; i < min(s.Workers, len(claims)); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range work {
					if err := s.process(ctx, c, count); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
					}
				}
			}()
		}
		for _, c := range claims {
			work <- c
		}
		close(work)
		wg.Wait()
		if firstErr != nil {
			return res, firstErr
		}
		if len(claims) < s.Batch {
			break
		}
	}
	next, ok, err := s.Store.NextDue(context.WithoutCancel(ctx))
	res.Next, res.HasNext = next, ok
	return res, err
}

func (s *Scheduler) messageID(e Enrollment) string {
	domain := "localhost"
	if mb, ok := s.Mailboxes[e.Mailbox]; ok {
		domain = mb.Domain()
	}
	return MessageID(e.UID, e.NextStep, domain)
}

// MessageID is the deterministic Message-ID (without brackets) of step of the
// enrollment uid: a retry or a restart never produces a second identity for
// the same email, and replies can be matched to it.
func MessageID(uid string, step int, domain string) string {
	return fmt.Sprintf("%s.%d@%s", uid, step, domain)
}

// process delivers one claim and records the outcome. Only database errors
// are returned: every delivery problem is recorded on the enrollment.
func (s *Scheduler) process(ctx context.Context, c Claim, count func(func(*Result))) error {
	// Writes must land even while shutting down: the send record is the
	// promise of never doubling a message.
	db := context.WithoutCancel(ctx)
	now := s.Clock.Now()
	if ctx.Err() != nil { // shutting down: give the claim back untouched
		return s.Store.Defer(db, c, now, false, "", now)
	}
	mb, ok := s.Mailboxes[c.Enrollment.Mailbox]
	if !ok {
		count(func(r *Result) { r.Held++ })
		return s.Store.Hold(db, c, MsgDeferred, EvRenderFailed, fmt.Sprintf("mailbox %q is not in the config any more: add it back or re-enroll", c.Enrollment.Mailbox), now)
	}
	if until, down := s.mailboxDown(mb.Name, now); down {
		count(func(r *Result) { r.Deferred++ })
		return s.Store.Defer(db, c, until, false, "mailbox "+mb.Name+" is unreachable", now)
	}
	msg, seq, err := s.compose(db, c, mb, now)
	if err != nil {
		count(func(r *Result) { r.Held++ })
		s.Log.Error("cannot compose message; enrollment paused", "email", c.Enrollment.Email, "sequence", c.Enrollment.Sequence, "step", c.Step+1, "err", err)
		return s.Store.Hold(db, c, MsgDeferred, EvRenderFailed, err.Error(), now)
	}
	// Last look: a reply recorded by the inbox since the claim (a few
	// milliseconds ago) stops the send.
	if st, err := s.Store.Status(db, c.Enrollment.ID); err != nil {
		return err
	} else if st != Active {
		return s.Store.Defer(db, c, now, false, "enrollment "+string(st)+" before sending", now)
	}
	sendErr := mb.Sender.Send(db, msg)
	now = s.Clock.Now()
	log := s.Log.With("email", c.Enrollment.Email, "sequence", c.Enrollment.Sequence, "step", c.Step+1, "message_id", msg.MessageID)
	if sendErr == nil {
		s.mailboxUp(mb.Name)
		sent := Sent{At: now, From: msg.From.Address, To: msg.To.Address, Subject: msg.Subject, InReplyTo: msg.InReplyTo}
		if c.Step+1 < len(seq.Steps) {
			due := seq.Steps[c.Step+1].After.From(now)
			sent.NextDue = &due
		}
		if err := s.Store.RecordSent(db, c, sent); err != nil {
			// The server has it but we could not record it: never resend.
			log.Error("message sent but not recorded", "err", err)
			return err
		}
		count(func(r *Result) { r.Sent++ })
		log.Info("sent", "subject", msg.Subject)
		if s.OnSent != nil {
			s.OnSent(c, msg)
		}
		return nil
	}
	var me *mailer.Error
	if !errors.As(sendErr, &me) {
		me = &mailer.Error{Verdict: mailer.Transient, Stage: "send", Err: sendErr}
	}
	switch me.Verdict {
	case mailer.Permanent:
		count(func(r *Result) { r.Failed++ })
		log.Warn("refused permanently; enrollment stopped and address marked undeliverable", "err", me)
		return s.Store.Fail(db, c, me.Error(), now)
	case mailer.Unknown:
		count(func(r *Result) { r.Held++ })
		log.Error("delivery unknown; enrollment paused until a person decides", "err", me)
		return s.Store.Hold(db, c, MsgUnknown, EvDeliveryUnknown,
			fmt.Sprintf("%v — it may have been delivered: check the Sent folder, then run `followup resume %s --assume-sent` or `--resend`", me, c.Enrollment.Email), now)
	case mailer.MailboxDown:
		until := s.markDown(mb.Name, now)
		count(func(r *Result) { r.Deferred++ })
		log.Warn("mailbox cannot send; will retry", "mailbox", mb.Name, "retry_at", until, "err", me)
		return s.Store.Defer(db, c, until, false, me.Error(), now)
	default:
		attempts := c.Attempts + 1
		if attempts >= s.Retry.MaxAttempts {
			count(func(r *Result) { r.Held++ })
			log.Warn("giving up after repeated temporary failures; enrollment paused", "attempts", attempts, "err", me)
			return s.Store.Hold(db, c, MsgDeferred, EvSendFailed, fmt.Sprintf("gave up after %d attempts: %v", attempts, me), now)
		}
		until := now.Add(s.Retry.wait(attempts))
		count(func(r *Result) { r.Deferred++ })
		log.Info("temporary failure; will retry", "attempt", attempts, "retry_at", until, "err", me)
		return s.Store.Defer(db, c, until, true, me.Error(), now)
	}
}

func (s *Scheduler) mailboxDown(name string, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.down[name]
	return d.until, ok && now.Before(d.until)
}

func (s *Scheduler) markDown(name string, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.down[name]
	if now.Before(d.until) { // another worker already marked it
		return d.until
	}
	d.wait = min(max(2*d.wait, 30*time.Second), 15*time.Minute)
	d.until = now.Add(d.wait)
	s.down[name] = d
	return d.until
}

func (s *Scheduler) mailboxUp(name string) {
	s.mu.Lock()
	delete(s.down, name)
	s.mu.Unlock()
}

// version returns the pinned sequence an enrollment runs on.
func (s *Scheduler) version(ctx context.Context, id int64) (*Sequence, error) {
	if v, ok := s.versions.Load(id); ok {
		return v.(*Sequence), nil
	}
	seq, err := s.Store.Version(ctx, id)
	if err != nil {
		return nil, err
	}
	s.versions.Store(id, seq)
	return seq, nil
}
