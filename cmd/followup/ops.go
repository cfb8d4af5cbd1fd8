package main

import (
	"context"
	"time"

	"followup/inbox"
	"followup/metrics"
	"followup/sequences"
	"followup/web"
	"followup/webhooks"
)

// readyChecks are what /readyz looks at: the database answers a read, each
// watched mailbox's IMAP connection is up, and no mailbox's SMTP server is
// being retried after it could not be reached (known only once a send was
// tried).
func (p *project) readyChecks(db dbT, watchers []*inbox.Watcher, sched *sequences.Scheduler) []web.ReadyCheck {
	checks := []web.ReadyCheck{{Name: "database", Check: func(ctx context.Context) string {
		if err := db.Ping(ctx); err != nil {
			p.log.Error("readiness: the database does not answer", "err", err)
			return "not answering"
		}
		return ""
	}}}
	for _, w := range watchers {
		checks = append(checks, web.ReadyCheck{Name: "imap:" + w.Name, Check: func(context.Context) string {
			if !w.Connected() {
				return "not connected"
			}
			return ""
		}})
	}
	for _, m := range p.cfg.Mailboxes {
		checks = append(checks, web.ReadyCheck{Name: "smtp:" + m.Name, Check: func(context.Context) string {
			if until, down := sched.MailboxDown(m.Name); down {
				return "unreachable; next try " + until.UTC().Format(time.RFC3339)
			}
			return ""
		}})
	}
	return checks
}

// metrics builds the Prometheus registry for this process.
func (p *project) metrics(ctx context.Context, db dbT, watchers []*inbox.Watcher, sched *sequences.Scheduler) (*metrics.Metrics, error) {
	byName := map[string]*inbox.Watcher{}
	for _, w := range watchers {
		byName[w.Name] = w
	}
	return metrics.New(ctx, metrics.Options{
		Source: db, Log: p.log, Mailboxes: p.cfg.MailboxNames(),
		IMAPConnected: func(mb string) (bool, bool) {
			w, ok := byName[mb]
			return ok && w.Connected(), ok
		},
		SMTPDown: func(mb string) bool { _, down := sched.MailboxDown(mb); return down },
	})
}

// opsRoutes adds /readyz and, when configured, /metrics.
func (p *project) opsRoutes(checks []web.ReadyCheck, m *metrics.Metrics) func(web.Mux) {
	return func(mux web.Mux) {
		mux.Handle("GET /readyz", web.Readiness(checks, 5*time.Second, p.log))
		if m != nil {
			mux.Handle("GET /metrics", m.Handler(p.cfg.HTTP.MetricsToken.Reveal()))
		}
	}
}

// webhookDispatcher sends the configured webhooks; nil without any.
func (p *project) webhookDispatcher(db dbT, m *metrics.Metrics) *webhooks.Dispatcher {
	if len(p.cfg.Webhooks) == 0 {
		return nil
	}
	d := &webhooks.Dispatcher{Store: db, Log: p.log, UserAgent: "followup/" + version}
	for _, h := range p.cfg.Webhooks {
		d.Endpoints = append(d.Endpoints, webhooks.Endpoint{URL: h.URL, Secret: []byte(h.Secret.Reveal()), Events: h.Events, Timeout: h.TimeoutD})
	}
	if m != nil {
		d.Observe = m.WebhookOutcome
	}
	return d
}
