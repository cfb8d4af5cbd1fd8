package main

import (
	"errors"
	"fmt"
	"strconv"

	"followup/store"
	"followup/webhooks"
)

type webhooksCmd struct {
	Log    webhooksLogCmd    `cmd:"" default:"withargs" help:"The delivery log, newest first."`
	Retry  webhooksRetryCmd  `cmd:"" help:"Send deliveries again now, with a fresh day of retries (serve sends them)."`
	Enable webhooksEnableCmd `cmd:"" help:"Turn on again an endpoint that answered 410 Gone."`
}

type webhooksLogCmd struct {
	Failed  bool   `help:"Only deliveries that failed for good."`
	Pending bool   `help:"Only deliveries waiting for their next attempt."`
	Before  int64  `help:"Only deliveries with an id below this (to page back)."`
	Limit   int    `help:"At most this many rows." default:"50"`
	URL     string `name:"url" help:"Only this endpoint (its url as in the config)."`
}

func (c webhooksLogCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		f := webhooks.Filter{Endpoint: c.URL, BeforeID: c.Before, Limit: c.Limit}
		switch {
		case c.Failed && c.Pending:
			return &exitError{code: 2, msg: "followup: give --failed or --pending, not both"}
		case c.Failed:
			f.Status = webhooks.Failed
		case c.Pending:
			f.Status = webhooks.Pending
		}
		off, err := db.DisabledEndpoints(env.ctx)
		if err != nil {
			return err
		}
		for url, why := range off {
			fmt.Fprintf(env.stdout, "disabled: %s (%s); turn it on again with `followup webhooks enable URL`\n", webhooks.Redact(url), why)
		}
		ds, err := db.ListDeliveries(env.ctx, f)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			if len(p.cfg.Webhooks) == 0 {
				fmt.Fprintln(env.stdout, "No webhook deliveries. (No webhooks are configured: see \"webhooks:\" in docs/CONFIG.md.)")
			} else {
				fmt.Fprintln(env.stdout, "No webhook deliveries match.")
			}
			return nil
		}
		var tb table
		tb.row("ID", "CREATED", "EVENT", "STATUS", "TRIES", "LAST RESULT", "NEXT TRY", "ENDPOINT")
		for _, d := range ds {
			last := d.LastError
			if d.Status == webhooks.Delivered {
				last = "HTTP " + strconv.Itoa(d.LastStatusCode)
			}
			next := "-"
			if d.Status == webhooks.Pending && d.NextAttemptAt != nil {
				next = p.localTime(*d.NextAttemptAt)
			}
			tb.row(strconv.FormatInt(d.ID, 10), p.localTime(d.CreatedAt), d.EventType, d.Status, strconv.Itoa(d.Attempts),
				truncateWidth(last, 40), next, webhooks.Redact(d.Endpoint))
		}
		return tb.write(env.stdout)
	})
}

type webhooksRetryCmd struct {
	IDs []int64 `arg:"" name:"id" help:"Delivery ids (from followup webhooks log)."`
}

func (c webhooksRetryCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		var missing []int64
		for _, id := range c.IDs {
			d, err := db.RetryDelivery(env.ctx, id, env.clock())
			if errors.Is(err, store.ErrNotFound) {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "delivery %d (%s, event %d) to %s queued again\n", d.ID, d.EventType, d.EventID, webhooks.Redact(d.Endpoint))
		}
		if len(missing) > 0 {
			return &exitError{code: 1, msg: fmt.Sprintf("no webhook delivery with id %v (see followup webhooks log)", missing)}
		}
		return nil
	})
}

type webhooksEnableCmd struct {
	URL string `arg:"" name:"url" help:"The endpoint's url, as in the config."`
}

func (c webhooksEnableCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		was, err := db.EnableEndpoint(env.ctx, c.URL)
		if err != nil {
			return err
		}
		if !was {
			fmt.Fprintf(env.stdout, "%s was not disabled.\n", webhooks.Redact(c.URL))
			return nil
		}
		fmt.Fprintf(env.stdout, "%s is on again: new events are delivered to it (those from while it was off are not).\n", webhooks.Redact(c.URL))
		return nil
	})
}
