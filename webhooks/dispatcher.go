package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Delivery statuses.
const (
	Pending   = "pending"   // waiting for its next attempt
	Delivered = "delivered" // the receiver answered 2xx
	Failed    = "failed"    // given up (retries used up, or 410 Gone)
)

// Delivery is one event for one endpoint.
type Delivery struct {
	ID             int64      `db:"id" json:"id"`
	Endpoint       string     `db:"endpoint" json:"endpoint"`
	EventID        int64      `db:"event_id" json:"event_id"`
	EventType      string     `db:"event_type" json:"event_type"`
	Payload        string     `db:"payload" json:"-"`
	Status         string     `db:"status" json:"status"`
	Attempts       int        `db:"attempts" json:"attempts"`
	NextAttemptAt  *time.Time `db:"next_attempt_at" json:"next_attempt_at,omitempty"`
	LastStatusCode int        `db:"last_status_code" json:"last_status_code,omitempty"`
	LastError      string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	RetryFrom      time.Time  `db:"retry_from" json:"-"` // retries give up Backoff.GiveUp after this
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	DeliveredAt    *time.Time `db:"delivered_at" json:"delivered_at,omitempty"`
}

// NewDelivery is a delivery to create.
type NewDelivery struct {
	Endpoint    string
	EventID     int64
	EventType   string
	CandidateID int64
	Payload     []byte
}

// Attempt is the result of one POST, to record.
type Attempt struct {
	At            time.Time
	Status        string     // Pending (retry at NextAttemptAt), Delivered or Failed
	NextAttemptAt *time.Time // for Pending
	StatusCode    int        // 0 when there was no HTTP answer
	Error         string
}

// Filter selects deliveries for the log.
type Filter struct {
	Status   string // "" for all
	Endpoint string // "" for all
	BeforeID int64  // keyset pagination: only ids below this (0: from the newest)
	Limit    int    // default 50
}

// Store is what the dispatcher needs from the database.
type Store interface {
	// WebhookCursor is the id of the last event fanned out; ok is false
	// before the first run.
	WebhookCursor(ctx context.Context) (last int64, ok bool, err error)
	// LatestEventID is the newest event's id (0 with none).
	LatestEventID(ctx context.Context) (int64, error)
	// WebhookEvents lists up to limit events after id `after`, oldest first.
	WebhookEvents(ctx context.Context, after int64, limit int) ([]Event, error)
	// EnqueueDeliveries creates deliveries (once per endpoint and event)
	// and moves the cursor to `cursor`, in one transaction.
	EnqueueDeliveries(ctx context.Context, ds []NewDelivery, cursor int64, now time.Time) error
	// DueDeliveries lists an endpoint's pending deliveries due at now,
	// oldest first.
	DueDeliveries(ctx context.Context, endpoint string, now time.Time, limit int) ([]Delivery, error)
	// RecordAttempt stores the result of an attempt.
	RecordAttempt(ctx context.Context, id int64, a Attempt) error
	// DisabledEndpoints lists endpoints switched off by a 410, with why.
	DisabledEndpoints(ctx context.Context) (map[string]string, error)
	// DisableEndpoint switches an endpoint off.
	DisableEndpoint(ctx context.Context, endpoint, reason string, now time.Time) error
}

// Endpoint is one receiver.
type Endpoint struct {
	URL     string
	Secret  []byte
	Events  []string      // types to send; empty: all
	Timeout time.Duration // per attempt; default 10s
}

// Wants reports whether the endpoint takes events of type typ.
func (e Endpoint) Wants(typ string) bool {
	if len(e.Events) == 0 {
		return true
	}
	for _, t := range e.Events {
		if t == typ {
			return true
		}
	}
	return false
}

// Backoff is the retry schedule: waits double from Initial up to Max, each
// varied by ±20 %; a delivery whose next attempt would come later than
// GiveUp after it was created (or retried by hand) fails.
type Backoff struct {
	Initial, Max, GiveUp time.Duration
}

// DefaultBackoff retries for about a day: 30 s, 1 min, 2 min ... 4 h, then
// every 4 h, about 14 attempts.
var DefaultBackoff = Backoff{Initial: 30 * time.Second, Max: 4 * time.Hour, GiveUp: 24 * time.Hour}

// Wait is the pause after the n-th failed attempt (n ≥ 1); jitter is in
// [0, 1).
func (b Backoff) Wait(n int, jitter float64) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return time.Duration(float64(d) * (0.8 + 0.4*jitter))
}

// Outcomes counted by Dispatcher.Observe.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
	OutcomeDisabled  = "disabled"
)

// Dispatcher fans events out to endpoints and delivers them. Run is the
// service; Fanout and DeliverDue are its passes, which tests call directly.
type Dispatcher struct {
	Store     Store
	Endpoints []Endpoint
	Now       func() time.Time
	Log       *slog.Logger
	// Client sends the requests; nil: a client that does not follow
	// redirects (a 3xx is a failed attempt).
	Client *http.Client
	// Poll is how often Run looks for new events and due retries
	// (default 1s).
	Poll    time.Duration
	Backoff Backoff // zero: DefaultBackoff
	// Concurrency is how many requests one endpoint has in flight at most
	// (default 4). Each endpoint has its own: a slow one holds up no other.
	Concurrency int
	// UserAgent is sent with each request.
	UserAgent string
	// Observe, if set, counts each attempt's outcome (metrics).
	Observe func(outcome string)
	// Jitter returns a number in [0, 1) for the backoff (default
	// math/rand).
	Jitter func() float64

	once sync.Once
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
		if d.Client == nil {
			d.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		if d.Poll <= 0 {
			d.Poll = time.Second
		}
		if d.Backoff.Initial <= 0 {
			d.Backoff = DefaultBackoff
		}
		if d.Concurrency <= 0 {
			d.Concurrency = 4
		}
		if d.UserAgent == "" {
			d.UserAgent = "followup"
		}
		if d.Jitter == nil {
			d.Jitter = rand.Float64
		}
	})
}

// fanoutBatch is how many events one Fanout pass reads.
const fanoutBatch = 500

// Fanout reads events after the cursor and creates their deliveries, then
// moves the cursor past them, in one transaction: a crash in between
// creates them again, and the (endpoint, event) key keeps them single. The
// first run starts from the newest event: history is not replayed. It
// returns how many events it read.
func (d *Dispatcher) Fanout(ctx context.Context) (int, error) {
	d.init()
	cursor, ok, err := d.Store.WebhookCursor(ctx)
	if err != nil {
		return 0, err
	}
	now := d.Now()
	if !ok {
		latest, err := d.Store.LatestEventID(ctx)
		if err != nil {
			return 0, err
		}
		return 0, d.Store.EnqueueDeliveries(ctx, nil, latest, now)
	}
	evs, err := d.Store.WebhookEvents(ctx, cursor, fanoutBatch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	disabled, err := d.Store.DisabledEndpoints(ctx)
	if err != nil {
		return 0, err
	}
	var ds []NewDelivery
	for _, ev := range evs {
		p, ok := NewPayload(ev)
		if !ok {
			continue
		}
		body := p.Body()
		for _, ep := range d.Endpoints {
			if _, off := disabled[ep.URL]; off || !ep.Wants(p.Type) {
				continue
			}
			ds = append(ds, NewDelivery{Endpoint: ep.URL, EventID: ev.ID, EventType: p.Type, CandidateID: ev.CandidateID, Payload: body})
		}
	}
	if err := d.Store.EnqueueDeliveries(ctx, ds, evs[len(evs)-1].ID, now); err != nil {
		return 0, err
	}
	return len(evs), nil
}

// deliverBatch is how many due deliveries one DeliverDue pass takes.
const deliverBatch = 50

// DeliverDue sends an endpoint's due deliveries, Concurrency at a time,
// and records each result. It returns how many it attempted.
func (d *Dispatcher) DeliverDue(ctx context.Context, ep Endpoint) (int, error) {
	d.init()
	disabled, err := d.Store.DisabledEndpoints(ctx)
	if err != nil {
		return 0, err
	}
	if _, off := disabled[ep.URL]; off {
		return 0, nil
	}
	due, err := d.Store.DueDeliveries(ctx, ep.URL, d.Now(), deliverBatch)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		gone bool
	)
	sem := make(chan struct{}, d.Concurrency)
	for _, del := range due {
		sem <- struct{}{}
		mu.Lock()
		stop := gone
		mu.Unlock()
		if stop || ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			a, outcome := d.attempt(ctx, ep, del)
			if ctx.Err() != nil {
				return // shutting down: the delivery stays pending, tried again at the next start
			}
			db := context.WithoutCancel(ctx)
			err := d.Store.RecordAttempt(db, del.ID, a)
			if err == nil && outcome == OutcomeDisabled {
				err = d.Store.DisableEndpoint(db, ep.URL, a.Error, a.At)
				d.Log.Error("webhook endpoint answered 410 Gone; it is disabled until `followup webhooks enable`", "endpoint", Redact(ep.URL))
			}
			if d.Observe != nil {
				d.Observe(outcome)
			}
			mu.Lock()
			defer mu.Unlock()
			if outcome == OutcomeDisabled {
				gone = true
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return len(due), errors.Join(errs...)
}

// attempt POSTs one delivery and decides what comes next.
func (d *Dispatcher) attempt(ctx context.Context, ep Endpoint, del Delivery) (Attempt, string) {
	timeout := ep.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	now := d.Now()
	body := []byte(del.Payload)
	code, err := d.post(ctx, ep, del, body, now, timeout)
	at := d.Now()
	log := d.Log.With("endpoint", Redact(ep.URL), "delivery", del.ID, "event", del.EventType)
	switch {
	case err == nil && code >= 200 && code < 300:
		log.Debug("webhook delivered", "status", code)
		return Attempt{At: at, Status: Delivered, StatusCode: code}, OutcomeDelivered
	case err == nil && code == http.StatusGone:
		return Attempt{At: at, Status: Failed, StatusCode: code, Error: "410 Gone: the receiver asked for no more deliveries"}, OutcomeDisabled
	}
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		why = "HTTP " + strconv.Itoa(code)
	}
	n := del.Attempts + 1
	next := at.Add(d.Backoff.Wait(n, d.Jitter()))
	if next.Sub(del.RetryFrom) > d.Backoff.GiveUp {
		log.Warn("webhook delivery failed for good", "attempts", n, "err", why)
		return Attempt{At: at, Status: Failed, StatusCode: code, Error: fmt.Sprintf("gave up after %d attempts: %s", n, why)}, OutcomeFailed
	}
	log.Info("webhook delivery failed; will retry", "attempt", n, "retry_at", next, "err", why)
	return Attempt{At: at, Status: Pending, NextAttemptAt: &next, StatusCode: code, Error: why}, OutcomeRetry
}

// post sends the request and returns the status code. The response body is
// read (a little of it) only to reuse the connection.
func (d *Dispatcher) post(ctx context.Context, ep Endpoint, del Delivery, body []byte, now time.Time, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.UserAgent)
	req.Header.Set(EventHeader, del.EventType)
	req.Header.Set(DeliveryHeader, strconv.FormatInt(del.ID, 10))
	req.Header.Set(SignatureHeader, Sign(ep.Secret, now, body))
	resp, err := d.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a token: do not repeat it
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// Run fans out and delivers until ctx is cancelled: one loop reads new
// events, and one loop per endpoint sends its deliveries.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	if len(d.Endpoints) == 0 {
		return nil
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.loop(ctx, "reading events for webhooks", func() (int, error) { return d.Fanout(ctx) })
	}()
	for _, ep := range d.Endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx, "delivering webhooks", func() (int, error) { return d.DeliverDue(ctx, ep) })
		}()
	}
	wg.Wait()
	return nil
}

// loop runs pass until ctx ends: again at once while it finds work, else
// after Poll (after a database error, after 5 s at least).
func (d *Dispatcher) loop(ctx context.Context, what string, pass func() (int, error)) {
	for {
		n, err := pass()
		if ctx.Err() != nil {
			return
		}
		wait := time.Duration(0)
		switch {
		case err != nil:
			d.Log.Error(what, "err", err)
			wait = max(d.Poll, 5*time.Second)
		case n == 0:
			wait = d.Poll
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// Redact shows an endpoint URL without its query string or user info,
// which may hold a token: for logs and the delivery log.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return strings.TrimSuffix(u.String(), "?")
}
