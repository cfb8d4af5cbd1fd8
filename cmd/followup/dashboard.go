package main

import (
	"strings"
	"time"

	"followup/store"
	"followup/web/api"
	"followup/web/dashboard"
)

// dashboard builds the recruiters' dashboard for serve (when http: is
// configured). Cookies are Secure when the public URL is https.
func (p *project) dashboard(db *store.DB, now func() time.Time, a *api.API, pages ...dashboard.Page) (*dashboard.Dashboard, error) {
	return dashboard.New(dashboard.Config{
		Metrics: a.Metrics,
		Store:   db, Catalog: p.catalog, Defaults: p.cfg.Defaults(), Calendars: p.calendars, Surveys: p.surveys,
		Location: p.location(), Now: now, Log: p.log.With("part", "dashboard"),
		Pages: pages, Today: p.today,
		Secure: strings.HasPrefix(strings.ToLower(p.cfg.HTTP.PublicURL), "https://"),
	})
}
