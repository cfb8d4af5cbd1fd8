package main

import (
	"fmt"
)

type tokenCmd struct {
	Create tokenCreateCmd `cmd:"" help:"Create an API token (shown once)."`
	List   tokenListCmd   `cmd:"" help:"List API tokens (never their secrets)."`
	Revoke tokenRevokeCmd `cmd:"" help:"Revoke an API token by name or id; it stops working at once."`
}

type tokenCreateCmd struct {
	Name  string `arg:"" help:"What uses it, e.g. ats or greenhouse-sync."`
	Scope string `default:"read" enum:"read,write" help:"read: list and read; write: also enroll, pause, resume, stop and suppress."`
}

func (c tokenCreateCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		t, secret, err := db.CreateToken(env.ctx, c.Name, c.Scope, env.clock())
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		fmt.Fprintf(env.stdout, "Created token %q (id %d, scope %s). Copy it now; it is not shown again:\n\n  %s\n\n", t.Name, t.ID, t.Scope, secret)
		fmt.Fprintln(env.stdout, "Use it as: Authorization: Bearer <token>   (API description: /api/v1/openapi.json)")
		return nil
	})
}

type tokenListCmd struct{}

func (tokenListCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		list, err := db.Tokens(env.ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(env.stdout, "No API tokens. Create one with: followup token create NAME --scope read|write")
			return nil
		}
		tb := &table{}
		tb.row("ID", "NAME", "SCOPE", "STARTS WITH", "CREATED", "LAST USED", "STATE")
		for _, t := range list {
			used, state := "never", "live"
			if t.LastUsedAt != nil {
				used = p.localTime(*t.LastUsedAt)
			}
			if t.RevokedAt != nil {
				state = "revoked " + p.localTime(*t.RevokedAt)
			}
			tb.row(fmt.Sprint(t.ID), t.Name, t.Scope, t.Prefix+"…", p.localTime(t.CreatedAt), used, state)
		}
		return tb.write(env.stdout)
	})
}

type tokenRevokeCmd struct {
	Token string `arg:"" help:"The token's name or id (see followup token list)."`
}

func (c tokenRevokeCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		ok, err := db.RevokeToken(env.ctx, c.Token, env.clock())
		if err != nil {
			return err
		}
		if !ok {
			return &exitError{code: 1, msg: fmt.Sprintf("no live token is named or numbered %q (see followup token list)", c.Token)}
		}
		fmt.Fprintf(env.stdout, "Revoked %s: requests with it now get 401.\n", c.Token)
		return nil
	})
}
