package sequences

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
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
	Limits    Limits
	// UnsubscribeURL, when the web server is configured, is the one-click
	// unsubscribe link of an enrollment (by UID).
	UnsubscribeURL func(uid string) string
	// Archive, if set, keeps a copy of each sent message (the mailbox's Sent
	// folder over IMAP); it must not block.
	Archive func(raw []byte)
	// SurveyLinks, when the web server is configured, gives an enrollment's
	// personal survey links for a message dated at.
	SurveyLinks func(uid string, at time.Time) templates.SurveyLinks
	// Track, when open or click tracking is on, rewrites a message's HTML
	// part (an open pixel, links through the redirect).
	Track func(messageID, html string) string
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

// DefaultRetry waits 1 min, 2, 4… (at most 6 h a wait) and gives up after
// 10 tries, about 8.5 hours after the first.
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
	// Cap is the per-candidate frequency cap (zero: none).
	Cap Cap
	// Location is the project's time zone: daily caps count from its
	// midnight.
	Location *time.Location
	// Calendars give regional working days (holidays, 调休) for business-day
	// delays and working-day windows.
	Calendars *Calendars
	// Guard, if set, makes sure the mailbox was read recently (reading it
	// now if not) before a message leaves, so a reply that has just arrived
	// stops the step. An error defers the step a minute.
	Guard func(ctx context.Context, mailbox string) error
	// OnSent, if set, is called after each message is recorded as sent.
	OnSent func(Claim, *mailer.Message)

	once     sync.Once
	wake     chan struct{}
	versions sync.Map // version id → *Sequence
	mu       sync.Mutex
	down     map[string]downState   // mailbox → when to try again
	limiters map[string]*limiter    // mailbox → rate and daily count
	flying   map[int64]bool         // candidates with a message in flight
	recent   map[int64][]SentRecord // sends not yet known to be recorded, for the cap
	halted   atomic.Bool            // a group commit failed: stop sending
}

type downState struct {
	until time.Time
	wait  time.Duration
}

// Result counts what one pass did.
type Result struct {
	Sent, Deferred, Failed, Held, Skipped, Review int
	Next                                          time.Time // earliest due step left, if HasNext
	HasNext                                       bool
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
	// Claims made before this process started can only be from a process
	// that died mid-send (SQLite has one sending process).
	if err := s.recover(ctx, s.Clock.Now()); err != nil {
		return err
	}
	lastRecovery := time.Now()
	idle := s.Idle
	for {
		if time.Since(lastRecovery) > 5*time.Minute {
			if err := s.recover(ctx, s.Clock.Now().Add(-s.Lease)); err != nil {
				s.Log.Error("recovering interrupted sends", "err", err)
			}
			lastRecovery = time.Now()
		}
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

// recover turns claims made before `before` that never got a result into
// "unknown" deliveries held for a person.
func (s *Scheduler) recover(ctx context.Context, before time.Time) error {
	n, err := s.Store.RecoverStale(ctx, before, s.Clock.Now())
	if err != nil {
		return fmt.Errorf("recovering interrupted sends: %w", err)
	}
	if n > 0 {
		s.Log.Warn("sends were interrupted (the process stopped mid-send); their enrollments are paused until a person decides", "count", n)
	}
	return nil
}

// RunOnce claims and sends every step due now, then reports the next due
// time. Work is proportional to the number of due steps.
//
// Each batch of claims flows through a pipeline so the SMTP connection is
// never idle waiting for the database or the renderer: composers render the
// next messages while senders transmit, and one recorder commits outcomes in
// groups (one transaction for everything that finished meanwhile).
func (s *Scheduler) RunOnce(ctx context.Context) (Result, error) {
	s.init()
	s.halted.Store(false)
	var res Result
	rec := s.startRecorder(ctx, &res)
	todo := make(chan Claim, s.Batch)
	var claimErr error
	go func() { // the claimer keeps the pipeline fed, one transaction per batch
		defer close(todo)
		for ctx.Err() == nil && !rec.failed() {
			claims, err := s.Store.ClaimDue(ctx, s.Clock.Now(), s.Batch, s.messageID)
			if err != nil {
				claimErr = err
				return
			}
			for _, c := range claims {
				todo <- c
			}
			if len(claims) < s.Batch {
				return
			}
		}
	}()
	s.pipeline(ctx, todo, rec.in)
	err := rec.finish()
	if claimErr != nil {
		err = claimErr
	}
	if err != nil {
		return res, err
	}
	next, ok, err := s.Store.NextDue(context.WithoutCancel(ctx))
	res.Next, res.HasNext = next, ok
	return res, err
}

// prepared is a composed message waiting for a sender.
type prepared struct {
	claim Claim
	mb    *Mailbox
	msg   *mailer.Message
	seq   *Sequence
}

// pipeline turns every claim from todo into one outcome on out.
func (s *Scheduler) pipeline(ctx context.Context, todo <-chan Claim, out chan<- Outcome) {
	ready := make(chan prepared, 2*s.Workers)
	var composers, senders sync.WaitGroup
	for i := 0; i < s.Workers; i++ {
		composers.Add(1)
		go func() {
			defer composers.Done()
			for c := range todo {
				if p, o, ok := s.prepare(ctx, c); ok {
					ready <- p
				} else {
					out <- o
				}
			}
		}()
	}
	go func() { composers.Wait(); close(ready) }()
	for i := 0; i < s.Workers; i++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for p := range ready {
				out <- s.deliver(ctx, p)
			}
		}()
	}
	senders.Wait()
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

func giveBack(c Claim, now time.Time, reason string) Outcome {
	return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: now, Reason: reason}
}

func held(c Claim, now time.Time, status MessageStatus, event, reason string) Outcome {
	return Outcome{Claim: c, Kind: OutHeld, At: now, Status: status, Event: event, Reason: reason}
}

// prepare composes a claim's message, or says why it cannot go now.
func (s *Scheduler) prepare(ctx context.Context, c Claim) (prepared, Outcome, bool) {
	db := context.WithoutCancel(ctx)
	now := s.Clock.Now()
	if ctx.Err() != nil { // shutting down: give the claim back untouched
		return prepared{}, giveBack(c, now, ""), false
	}
	mb, ok := s.Mailboxes[c.Enrollment.Mailbox]
	if !ok {
		return prepared{}, held(c, now, MsgDeferred, EvRenderFailed,
			fmt.Sprintf("mailbox %q is not in the config any more: add it back or re-enroll", c.Enrollment.Mailbox)), false
	}
	if until, down := s.mailboxDown(mb.Name, now); down {
		return prepared{}, Outcome{Claim: c, Kind: OutDeferred, At: now, Until: until, Reason: "mailbox " + mb.Name + " is unreachable"}, false
	}
	seq, err := s.version(db, c.Enrollment.VersionID)
	if err != nil {
		return prepared{}, held(c, now, MsgDeferred, EvRenderFailed, err.Error()), false
	}
	// A retry, a resume or a late claim may fall outside the sending window:
	// it waits for the next opening in the candidate's time zone.
	key := fmt.Sprintf("%s.%d", c.Enrollment.UID, c.Step)
	loc, cal := Location(c.Enrollment.Timezone), seq.Calendar(c.Enrollment.Timezone)
	if st := seq.Steps[min(c.Step, len(seq.Steps)-1)]; !st.On.IsZero() && now.After(st.On.In(loc).Add(24*time.Hour)) {
		// A dated step (a holiday greeting) whose day has passed is
		// skipped, not sent late.
		o := Outcome{Claim: c, Kind: OutSkipped, At: now, Reason: fmt.Sprintf("step %d was for %s, which has passed", c.Step+1, st.On)}
		if c.Step+1 < len(seq.Steps) {
			due := seq.Due(c.Step+1, now, c.Enrollment.Timezone, fmt.Sprintf("%s.%d", c.Enrollment.UID, c.Step+1))
			o.Sent.NextDue = &due
		}
		return prepared{}, o, false
	}
	if next := seq.Window.Next(now, loc, cal, key); next.After(now) {
		return prepared{}, Outcome{Claim: c, Kind: OutDeferred, At: now, Until: next, Reason: "outside the sending window"}, false
	}
	msg, err := s.compose(db, c, seq, mb, now)
	if err != nil {
		s.Log.Error("cannot compose message; enrollment paused", "email", c.Enrollment.Email, "sequence", c.Enrollment.Sequence, "step", c.Step+1, "err", err)
		return prepared{}, held(c, now, MsgDeferred, EvRenderFailed, err.Error()), false
	}
	if seq.Steps[c.Step].Review && !c.Approved {
		// An unapproved review step never goes out: it waits, rendered,
		// for `followup review approve`.
		return prepared{}, Outcome{Claim: c, Kind: OutReview, At: now, Draft: msg.Text,
			Sent: Sent{From: msg.From.Address, To: msg.To.Address, Subject: msg.Subject, Template: ChooseTemplate(seq.Steps[c.Step], c.Enrollment.UID, c.Step)}}, false
	}
	return prepared{claim: c, mb: mb, msg: msg, seq: seq}, Outcome{}, true
}

// deliver sends a prepared message and turns the server's answer into an
// outcome.
func (s *Scheduler) deliver(ctx context.Context, p prepared) Outcome {
	c, mb, msg := p.claim, p.mb, p.msg
	now := s.Clock.Now()
	if ctx.Err() != nil {
		return giveBack(c, now, "")
	}
	if until, down := s.mailboxDown(mb.Name, now); down {
		return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: until, Reason: "mailbox " + mb.Name + " is unreachable"}
	}
	// One message per candidate in flight: a second sequence due at the
	// same moment waits a minute, then sees the first under the cap.
	if !s.startFlight(c.Enrollment.CandidateID) {
		return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: now.Add(time.Minute), Reason: "another email to this candidate is being sent"}
	}
	defer s.endFlight(c.Enrollment.CandidateID)
	// The frequency cap, counted with this candidate's sends still on their
	// way to the database.
	if until, err := s.capWait(context.WithoutCancel(ctx), c.Enrollment.CandidateID, now); err != nil {
		return giveBack(c, now, "could not check the frequency cap: "+err.Error())
	} else if !until.IsZero() {
		loc, cal := Location(c.Enrollment.Timezone), p.seq.Calendar(c.Enrollment.Timezone)
		until = p.seq.Window.Next(until, loc, cal, fmt.Sprintf("%s.%d", c.Enrollment.UID, c.Step))
		return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: until,
			Reason: fmt.Sprintf("frequency cap: %d emails in %s", s.Cap.Emails, s.Cap.Window)}
	}
	if next, ok, err := s.takeDaily(context.WithoutCancel(ctx), mb, now); err != nil {
		return giveBack(c, now, "could not count today's sends: "+err.Error())
	} else if !ok {
		until := p.seq.Window.Next(next, Location(c.Enrollment.Timezone), p.seq.Calendar(c.Enrollment.Timezone), fmt.Sprintf("%s.%d", c.Enrollment.UID, c.Step))
		return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: until, Reason: fmt.Sprintf("mailbox %s reached its daily cap of %d", mb.Name, mb.Limits.PerDay)}
	}
	sent := false
	defer func() {
		if !sent {
			s.releaseDaily(mb)
		}
	}()
	if l := s.limiter(mb); l.rate != nil {
		if err := l.rate.Wait(ctx); err != nil { // shutting down while waiting for a slot
			return giveBack(c, now, "")
		}
		now = s.Clock.Now()
	}
	// The window again, at the moment of sending: a rate-limit wait or a
	// long queue may have carried it past closing time.
	{
		loc, cal := Location(c.Enrollment.Timezone), p.seq.Calendar(c.Enrollment.Timezone)
		if next := p.seq.Window.Next(now, loc, cal, fmt.Sprintf("%s.%d", c.Enrollment.UID, c.Step)); next.After(now) {
			return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: next, Reason: "outside the sending window"}
		}
	}
	// The inbox must be fresh: a reply delivered a second ago is read (and
	// stops the enrollment) before this message can leave.
	if s.Guard != nil {
		if err := s.Guard(context.WithoutCancel(ctx), mb.Name); err != nil {
			return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: now.Add(time.Minute),
				Reason: "cannot confirm the candidate has not replied (" + err.Error() + ")"}
		}
	}
	// Last look, just before the message leaves: a reply recorded by the
	// inbox since the claim stops it.
	if st, err := s.Store.Status(context.WithoutCancel(ctx), c.Enrollment.ID); err != nil {
		return giveBack(c, now, "could not read the enrollment's status: "+err.Error())
	} else if st != Active {
		return giveBack(c, now, "the enrollment was "+string(st)+" before sending")
	}
	msg.Date = now
	// The send itself is not cancelled by shutdown: the message in flight
	// finishes (bounded by the SMTP timeout) and is recorded.
	if s.halted.Load() { // results can no longer be recorded: send nothing more
		return giveBack(c, now, "")
	}
	// Shutdown may still interrupt the wait for a free connection (ctx),
	// but not a transmission under way (go-mail does not cancel one).
	sendErr := mb.Sender.Send(ctx, msg)
	if sendErr != nil && ctx.Err() != nil {
		var me *mailer.Error
		if errors.As(sendErr, &me) && me.Verdict == mailer.MailboxDown {
			return giveBack(c, s.Clock.Now(), "") // never started: shutting down
		}
	}
	now = s.Clock.Now()
	if sendErr == nil {
		sent = true
		s.noteSent(c.Enrollment.CandidateID, c.MessageID, now)
		s.mailboxUp(mb.Name)
		sent := Sent{At: now, From: msg.From.Address, To: msg.To.Address, Subject: msg.Subject, InReplyTo: msg.InReplyTo,
			Template: ChooseTemplate(p.seq.Steps[c.Step], c.Enrollment.UID, c.Step), Body: msg.Text, Tracked: mb.Track != nil}
		if c.Step+1 < len(p.seq.Steps) {
			due := p.seq.Due(c.Step+1, now, c.Enrollment.Timezone, fmt.Sprintf("%s.%d", c.Enrollment.UID, c.Step+1))
			sent.NextDue = &due
		}
		return Outcome{Claim: c, Kind: OutSent, At: now, Sent: sent, msg: msg}
	}
	var me *mailer.Error
	if !errors.As(sendErr, &me) {
		me = &mailer.Error{Verdict: mailer.Transient, Stage: "send", Err: sendErr}
	}
	log := s.Log.With("email", c.Enrollment.Email, "sequence", c.Enrollment.Sequence, "step", c.Step+1, "message_id", msg.MessageID)
	switch me.Verdict {
	case mailer.Permanent:
		log.Warn("refused permanently; enrollment stopped and address marked undeliverable", "err", me)
		return Outcome{Claim: c, Kind: OutFailed, At: now, Reason: me.Error()}
	case mailer.Unknown:
		sent = true // it may have gone: it counts against the daily cap
		log.Error("delivery unknown; enrollment paused until a person decides", "err", me)
		o := held(c, now, MsgUnknown, EvDeliveryUnknown,
			fmt.Sprintf("%v — it may have been delivered: check the Sent folder, then run `followup resume %s --assume-sent` or `--resend`", me, c.Enrollment.Email))
		o.Sent = Sent{At: now, From: msg.From.Address, To: msg.To.Address, Subject: msg.Subject, InReplyTo: msg.InReplyTo}
		return o
	case mailer.Rejected:
		log.Warn("the server refused this message; enrollment paused", "err", me)
		return held(c, now, MsgDeferred, EvSendFailed,
			fmt.Sprintf("%v — the server refused the message itself (content or policy), not the address: fix the template or the candidate's data, then `followup resume %s`", me, c.Enrollment.Email))
	case mailer.MailboxDown:
		until := s.markDown(mb.Name, now)
		log.Warn("mailbox cannot send; will retry", "mailbox", mb.Name, "retry_at", until, "err", me)
		return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: until, Reason: me.Error()}
	}
	attempts := c.Attempts + 1
	if attempts >= s.Retry.MaxAttempts {
		log.Warn("giving up after repeated temporary failures; enrollment paused", "attempts", attempts, "err", me)
		return held(c, now, MsgDeferred, EvSendFailed, fmt.Sprintf("gave up after %d attempts: %v", attempts, me))
	}
	until := now.Add(s.Retry.wait(attempts))
	log.Info("temporary failure; will retry", "attempt", attempts, "retry_at", until, "err", me)
	return Outcome{Claim: c, Kind: OutDeferred, At: now, Until: until, CountAttempt: true, Reason: me.Error()}
}

// recorder commits outcomes in groups.
type recorder struct {
	in   chan Outcome
	done chan struct{}
	err  error
	bad  chan struct{} // closed on the first database error
}

func (r *recorder) failed() bool {
	select {
	case <-r.bad:
		return true
	default:
		return false
	}
}

func (r *recorder) finish() error {
	close(r.in)
	<-r.done
	return r.err
}

func (s *Scheduler) startRecorder(ctx context.Context, res *Result) *recorder {
	r := &recorder{in: make(chan Outcome, 256), done: make(chan struct{}), bad: make(chan struct{})}
	db := context.WithoutCancel(ctx) // the send record must land even while shutting down
	go func() {
		defer close(r.done)
		batch := make([]Outcome, 0, 256)
		for first := range r.in {
			batch = append(batch[:0], first)
		drain:
			for len(batch) < cap(batch) {
				select {
				case o, ok := <-r.in:
					if !ok {
						break drain
					}
					batch = append(batch, o)
				default:
					break drain
				}
			}
			if r.err != nil {
				continue // keep draining so nobody blocks; nothing more is written
			}
			if err := s.Store.Settle(db, batch); err != nil {
				// Accepted messages stay "sending" and are recovered as
				// "unknown" at the next start: never sent twice.
				s.Log.Error("recording send results failed", "count", len(batch), "err", err)
				r.err = err
				s.halted.Store(true)
				close(r.bad)
				continue
			}
			s.tally(batch, res)
		}
	}()
	return r
}

// tally counts and reports recorded outcomes.
func (s *Scheduler) tally(batch []Outcome, res *Result) {
	for _, o := range batch {
		switch o.Kind {
		case OutSent:
			res.Sent++
			s.Log.Info("sent", "email", o.Claim.Enrollment.Email, "sequence", o.Claim.Enrollment.Sequence,
				"step", o.Claim.Step+1, "message_id", o.Claim.MessageID, "subject", o.Sent.Subject)
			if s.OnSent != nil {
				s.OnSent(o.Claim, o.msg)
			}
			if mb := s.Mailboxes[o.Claim.Enrollment.Mailbox]; mb != nil && mb.Archive != nil && o.msg != nil {
				if built, err := o.msg.Build(); err == nil {
					var buf bytes.Buffer
					if _, err := built.WriteTo(&buf); err == nil {
						mb.Archive(buf.Bytes())
					}
				}
			}
		case OutDeferred:
			res.Deferred++
		case OutFailed:
			res.Failed++
		case OutHeld:
			res.Held++
		case OutSkipped:
			res.Skipped++
		case OutReview:
			res.Review++
		}
	}
}

func (s *Scheduler) mailboxDown(name string, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.down[name]
	return d.until, ok && now.Before(d.until)
}

// MailboxDown reports whether a mailbox's SMTP server could not be reached
// or logged in to, and sending from it waits until `until` (readiness and
// metrics). Known only once a send was tried.
func (s *Scheduler) MailboxDown(name string) (until time.Time, down bool) {
	s.init()
	return s.mailboxDown(name, s.Clock.Now())
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
	seq.UseCalendars(s.Calendars)
	s.versions.Store(id, seq)
	return seq, nil
}
