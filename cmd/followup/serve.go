package main

import (
	"context"
	"errors"
	"fmt"
	"followup/web"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"followup/sequences"
)

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
	archives, err := p.sentArchives(mbs)
	if err != nil {
		return err
	}
	p.log.Info("followup serve started", "version", version, "config", p.cfg.File, "database", p.cfg.Database.Path,
		"mailboxes", len(mbs), "watched", len(watchers), "sequences", len(p.catalog.Sequences))
	var wg sync.WaitGroup
	if h := p.cfg.HTTP; h != nil {
		srv, err := web.New(db, []byte(h.Secret.Reveal()), p.log)
		if err != nil {
			return err
		}
		srv.Surveys = &web.Surveys{Set: p.surveys, Store: db, Secret: []byte(h.Secret.Reveal()), Now: env.clock,
			Answered: p.surveyActions(db, mbs, env.clock)}
		dash, err := p.dashboard(db, env.clock)
		if err != nil {
			return err
		}
		srv.Routes = append(srv.Routes, dash.Routes)
		hs := &http.Server{Addr: h.Listen, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
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
