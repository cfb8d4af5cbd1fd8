package main

import (
	"context"
	"errors"
	"fmt"
	"followup/web"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"followup/inbox"
	"followup/metrics"
	"followup/sequences"
	"followup/web/api"
	"followup/web/dashboard"
)

// api is the JSON API over the project.
func (p *project) api(db dbT, now func() time.Time) *api.API {
	return &api.API{DB: db, Catalog: p.catalog, Calendars: p.calendars, Defaults: p.cfg.Defaults(), Surveys: p.surveys,
		Language: p.cfg.Language, Location: p.location(), Now: now, Log: p.log}
}

// webServer is the whole route table of the http section: unsubscribe and
// survey pages, tracking, the API, /readyz and /metrics, the dashboard.
func (p *project) webServer(db dbT, mbs map[string]*sequences.Mailbox, ready []web.ReadyCheck, m *metrics.Metrics, now func() time.Time) (http.Handler, error) {
	srv, err := p.webRoutes(db, mbs, ready, m, now)
	if err != nil {
		return nil, err
	}
	handler := srv.Handler()
	if m != nil {
		handler = m.Middleware(handler)
	}
	return handler, nil
}

func (p *project) webRoutes(db dbT, mbs map[string]*sequences.Mailbox, ready []web.ReadyCheck, m *metrics.Metrics, now func() time.Time) (*web.Server, error) {
	srv, _, err := p.webRoutesWith(db, mbs, ready, m, now, nil)
	return srv, err
}

// webRoutesWith is webRoutes with more dashboard pages (the demo's); it
// also returns the dashboard, for handlers that draw inside it.
func (p *project) webRoutesWith(db dbT, mbs map[string]*sequences.Mailbox, ready []web.ReadyCheck, m *metrics.Metrics, now func() time.Time, pages []dashboard.Page) (*web.Server, *dashboard.Dashboard, error) {
	secret := []byte(p.cfg.HTTP.Secret.Reveal())
	srv, err := web.New(db, secret, p.log)
	if err != nil {
		return nil, nil, err
	}
	srv.Surveys = &web.Surveys{Set: p.surveys, Store: db, Secret: secret, Now: now, Answered: p.surveyActions(db, mbs, now)}
	apiSrv := p.api(db, now)
	srv.Routes = append(srv.Routes, apiSrv.Register)
	if t := p.tracker(); t != nil {
		srv.Routes = append(srv.Routes, t.TrackRoutes(db, now, p.log.Warn))
	}
	srv.Routes = append(srv.Routes, p.opsRoutes(ready, m))
	dash, err := p.dashboard(db, now, apiSrv, pages...)
	if err != nil {
		return nil, nil, err
	}
	srv.Routes = append(srv.Routes, dash.Routes)
	return srv, dash, nil
}

// expireIdempotencyKeys forgets API idempotency keys after 24 hours.
func expireIdempotencyKeys(ctx context.Context, db dbT, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := db.ExpireIdempotent(ctx, now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Warn("expiring API idempotency keys", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type serveCmd struct{}

func (serveCmd) Run(env *runEnv) error {
	p, err := env.loadProject(true)
	if err != nil {
		return err
	}
	db, err := p.openDB(env.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	mbs, closeMailers, err := p.mailboxes(p.cfg.Sending.Workers)
	if err != nil {
		return err
	}
	defer closeMailers()
	sched := p.scheduler(db, mbs, sequences.RealClock{})
	sched.Changes = db.WatchChanges(env.ctx, time.Second)

	// Two-phase shutdown: the first SIGINT/SIGTERM (env.ctx) stops taking
	// new work and lets the message in flight finish and be recorded; a
	// second one exits at once.
	shutdownLogged := make(chan struct{})
	go func() {
		<-env.ctx.Done()
		p.log.Info("shutting down: finishing the message in flight (press Ctrl-C again to quit now)")
		close(shutdownLogged)
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		p.log.Error("second signal: quitting now; an interrupted send will be marked unknown at the next start")
		os.Exit(130)
	}()
	watchers, err := p.watchers(db, mbs)
	if err != nil {
		return err
	}
	sched.Guard = p.inboxGuard(watchers)
	var m *metrics.Metrics
	if h := p.cfg.HTTP; h != nil && h.Metrics {
		if m, err = p.metrics(env.ctx, db, watchers, sched); err != nil {
			return err
		}
		sched.Store = m.CountingStore(db)
		for _, w := range watchers {
			w.Processed = func(in inbox.Inbound, recorded bool) { m.ObserveInbound(in, recorded, time.Now()) }
		}
	}
	archives, err := p.sentArchives(mbs)
	if err != nil {
		return err
	}
	p.log.Info("followup serve started", "version", version, "config", p.cfg.File, "database", p.cfg.Database.Path,
		"mailboxes", len(mbs), "watched", len(watchers), "sequences", len(p.catalog.Sequences))
	var wg sync.WaitGroup
	if h := p.cfg.HTTP; h != nil {
		handler, err := p.webServer(db, mbs, p.readyChecks(db, watchers, sched), m, env.clock)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); expireIdempotencyKeys(env.ctx, db, env.clock, p.log) }()
		hs := &http.Server{Addr: h.Listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		ln, err := net.Listen("tcp", h.Listen)
		if err != nil {
			return fmt.Errorf("web server: %w", err)
		}
		p.log.Info("web server listening", "addr", ln.Addr().String(), "public_url", h.PublicURL)
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				p.log.Error("web server stopped", "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			<-env.ctx.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = hs.Shutdown(ctx)
		}()
	}
	if d := p.webhookDispatcher(db, m); d != nil {
		p.log.Info("webhooks on", "endpoints", len(d.Endpoints))
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(env.ctx) }()
	}
	for _, a := range archives {
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(env.ctx) }()
	}
	for _, w := range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = w.Run(env.ctx)
		}()
	}
	if len(watchers) == 0 {
		p.log.Warn("no mailbox has imap settings: replies are not read, so sequences will not stop when candidates answer")
	}
	err = sched.Run(env.ctx)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("sending loop: %w", err)
	}
	<-shutdownLogged
	p.log.Info("stopped")
	return nil
}
