// Package metrics exposes Followup's Prometheus metrics on an explicit
// registry (never the global default one): messages sent and failed per
// mailbox, the sending queue, mailbox connection states, how fast a reply
// stops its sequences, HTTP latency by route pattern, and webhook
// deliveries.
package metrics

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"followup/inbox"
	"followup/sequences"
)

// Source is what the metrics read from the database.
type Source interface {
	// MessageTotals counts, per mailbox, messages sent and send failures
	// recorded so far.
	MessageTotals(ctx context.Context) (sent, failed map[string]int, err error)
	// DueCount counts active enrollments due at now.
	DueCount(ctx context.Context, now time.Time) (int, error)
	// NextDue is the earliest due time of an active enrollment.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// PendingDeliveries counts webhook deliveries waiting for an attempt.
	PendingDeliveries(ctx context.Context) (int, error)
}

// Options wire the metrics to the running parts.
type Options struct {
	Source Source
	Now    func() time.Time // default time.Now
	Log    *slog.Logger
	// Mailboxes are the configured mailbox names.
	Mailboxes []string
	// IMAPConnected reports a mailbox's IMAP connection; watched is false
	// for a mailbox without imap settings.
	IMAPConnected func(mailbox string) (connected, watched bool)
	// SMTPDown reports a mailbox whose SMTP server is being retried after
	// it could not be reached.
	SMTPDown func(mailbox string) bool
}

// Metrics holds the registry and the instruments updated as things happen.
type Metrics struct {
	Registry *prometheus.Registry

	sent, failed *prometheus.CounterVec
	replyLatency prometheus.Histogram
	httpDuration *prometheus.HistogramVec
	webhooks     *prometheus.CounterVec
}

// New builds the registry. The sent and failed counters start from the
// totals in the database, so they stay right across restarts; after that
// they count what this process records (CountSettled).
func New(ctx context.Context, o Options) (*Metrics, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "followup_messages_sent_total",
			Help: "Messages the SMTP server accepted, by mailbox (all time, from the database)."}, []string{"mailbox"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "followup_messages_failed_total",
			Help: "Messages that failed for good (refused address, refused message, retries used up), by mailbox."}, []string{"mailbox"}),
		replyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "followup_reply_stop_latency_seconds",
			Help:    "Time from a candidate's answer reaching the mailbox to their sequences being stopped or paused.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600}}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "followup_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern and status code.", Buckets: prometheus.DefBuckets}, []string{"route", "code"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "followup_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: delivered, retry, failed, disabled."}, []string{"outcome"}),
	}
	sent, failed, err := o.Source.MessageTotals(ctx)
	if err != nil {
		return nil, err
	}
	for _, mb := range o.Mailboxes {
		m.sent.WithLabelValues(mb).Add(float64(sent[mb]))
		m.failed.WithLabelValues(mb).Add(float64(failed[mb]))
	}
	for _, out := range []string{"delivered", "retry", "failed", "disabled"} {
		m.webhooks.WithLabelValues(out)
	}
	m.Registry.MustRegister(m.sent, m.failed, m.replyLatency, m.httpDuration, m.webhooks,
		&stateCollector{o: o},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m, nil
}

// CountSettled counts the outcomes of a committed group of sends.
func (m *Metrics) CountSettled(outcomes []sequences.Outcome) {
	for _, o := range outcomes {
		mb := o.Claim.Enrollment.Mailbox
		switch {
		case o.Kind == sequences.OutSent:
			m.sent.WithLabelValues(mb).Inc()
		case o.Kind == sequences.OutFailed, o.Kind == sequences.OutHeld && o.Event == sequences.EvSendFailed:
			m.failed.WithLabelValues(mb).Inc()
		}
	}
}

// CountingStore wraps the scheduler's store so that every committed group
// of outcomes is counted.
func (m *Metrics) CountingStore(st sequences.Store) sequences.Store {
	return countingStore{Store: st, m: m}
}

type countingStore struct {
	sequences.Store
	m *Metrics
}

func (c countingStore) Settle(ctx context.Context, outcomes []sequences.Outcome) error {
	err := c.Store.Settle(ctx, outcomes)
	if err == nil {
		c.m.CountSettled(outcomes)
	}
	return err
}

// ObserveInbound records, for a candidate's answer (reply, not interested,
// unsubscribe) that stopped or paused their sequences, how long after it
// reached the mailbox that happened. It fits inbox.Watcher.Processed.
func (m *Metrics) ObserveInbound(in inbox.Inbound, recorded bool, now time.Time) {
	if !recorded || (!in.Action.Stop && !in.Action.Pause) || in.ReceivedAt.IsZero() {
		return
	}
	switch inbox.Kind(in.Kind) {
	case inbox.KindReply, inbox.KindNotInterested, inbox.KindUnsubscribe:
		m.replyLatency.Observe(max(0, now.Sub(in.ReceivedAt).Seconds()))
	}
}

// WebhookOutcome counts one webhook delivery attempt (webhooks.Dispatcher.Observe).
func (m *Metrics) WebhookOutcome(outcome string) {
	m.webhooks.WithLabelValues(outcome).Inc()
}

// Middleware measures every request by the pattern of the route that
// served it ("GET /s/{token}"), never the raw path, so the number of label
// values stays bounded; requests no route matched count as "unmatched".
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the ServeMux on this request
		if route == "" {
			route = "unmatched"
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		m.httpDuration.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Handler serves the metrics in Prometheus' text format. With a token, a
// scrape must send "Authorization: Bearer TOKEN".
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="followup metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// stateCollector reads the gauges when Prometheus scrapes: the queue from
// the database (indexed reads of due enrollments only) and the mailbox
// states from the running watchers and scheduler.
type stateCollector struct{ o Options }

var (
	dueDesc     = prometheus.NewDesc("followup_queue_due", "Active enrollments whose next step is due now (waiting for the sending window, a cap or a worker).", nil, nil)
	nextDesc    = prometheus.NewDesc("followup_next_due_timestamp_seconds", "When the earliest next step is due (unix seconds); absent when none is.", nil, nil)
	imapDesc    = prometheus.NewDesc("followup_imap_connected", "1 when the mailbox's IMAP watcher is logged in with its folder open, else 0 (mailboxes with imap settings only).", []string{"mailbox"}, nil)
	smtpDesc    = prometheus.NewDesc("followup_smtp_up", "0 while sending from the mailbox waits because its SMTP server could not be reached or logged in to, else 1.", []string{"mailbox"}, nil)
	pendingDesc = prometheus.NewDesc("followup_webhook_pending", "Webhook deliveries waiting for their next attempt.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dueDesc, nextDesc, imapDesc, smtpDesc, pendingDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fail := func(d *prometheus.Desc, err error) {
		c.o.Log.Error("reading a metric", "metric", d.String(), "err", err)
		ch <- prometheus.NewInvalidMetric(d, fmt.Errorf("reading the database: %w", err))
	}
	if n, err := c.o.Source.DueCount(ctx, c.o.Now()); err != nil {
		fail(dueDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(dueDesc, prometheus.GaugeValue, float64(n))
	}
	if t, ok, err := c.o.Source.NextDue(ctx); err != nil {
		fail(nextDesc, err)
	} else if ok {
		ch <- prometheus.MustNewConstMetric(nextDesc, prometheus.GaugeValue, float64(t.Unix()))
	}
	if n, err := c.o.Source.PendingDeliveries(ctx); err != nil {
		fail(pendingDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n))
	}
	for _, mb := range c.o.Mailboxes {
		if c.o.IMAPConnected != nil {
			if up, watched := c.o.IMAPConnected(mb); watched {
				ch <- prometheus.MustNewConstMetric(imapDesc, prometheus.GaugeValue, b2f(up), mb)
			}
		}
		if c.o.SMTPDown != nil {
			ch <- prometheus.MustNewConstMetric(smtpDesc, prometheus.GaugeValue, b2f(!c.o.SMTPDown(mb)), mb)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
