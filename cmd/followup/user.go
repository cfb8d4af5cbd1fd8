package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"followup/store"
	"followup/web/dashboard"
)

type userCmd struct {
	Add    userAddCmd    `cmd:"" help:"Create a dashboard user (a name or an email address to sign in with)."`
	List   userListCmd   `cmd:"" help:"List the dashboard users."`
	Remove userRemoveCmd `cmd:"" help:"Remove a dashboard user and end their sessions."`
	Passwd userPasswdCmd `cmd:"" help:"Set a dashboard user's password; their sessions end."`
}

type userAddCmd struct {
	Name         string `arg:"" help:"Login: a name or an email address."`
	PasswordFile string `help:"Read the password from this file (- for standard input) instead of asking." type:"path"`
	Lang         string `help:"Dashboard language: zh-CN or en (default: the browser's)." enum:",zh-CN,en" default:""`
}

func (c userAddCmd) Run(env *runEnv) error {
	login, err := dashboard.NormalizeLogin(c.Name)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error {
		hash, err := newPasswordHash(env, c.PasswordFile)
		if err != nil {
			return err
		}
		err = db.AddUser(env.ctx, login, hash, c.Lang, env.clock())
		if errors.Is(err, store.ErrExists) {
			return &exitError{code: 1, msg: fmt.Sprintf("user %s already exists (change the password with `followup user passwd %s`)", login, login)}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Added %s; they can sign in to the dashboard.\n", login)
		return nil
	})
}

type userListCmd struct{}

func (userListCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		users, err := db.Users(env.ctx)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			fmt.Fprintln(env.stdout, "No users yet: add one with `followup user add NAME`.")
			return nil
		}
		var tb table
		tb.row("LOGIN", "LANGUAGE", "CREATED")
		for _, u := range users {
			lang := u.Language
			if lang == "" {
				lang = "(browser)"
			}
			tb.row(u.Login, lang, p.localTime(u.CreatedAt))
		}
		return tb.write(env.stdout)
	})
}

type userRemoveCmd struct {
	Name string `arg:"" help:"Login."`
}

func (c userRemoveCmd) Run(env *runEnv) error {
	login, err := dashboard.NormalizeLogin(c.Name)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error {
		removed, err := db.RemoveUser(env.ctx, login)
		if err != nil {
			return err
		}
		if !removed {
			return &exitError{code: 1, msg: "no user " + login}
		}
		fmt.Fprintf(env.stdout, "Removed %s; their sessions are ended.\n", login)
		return nil
	})
}

type userPasswdCmd struct {
	Name         string `arg:"" help:"Login."`
	PasswordFile string `help:"Read the password from this file (- for standard input) instead of asking." type:"path"`
}

func (c userPasswdCmd) Run(env *runEnv) error {
	login, err := dashboard.NormalizeLogin(c.Name)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error {
		if _, err := db.UserByLogin(env.ctx, login); errors.Is(err, store.ErrNotFound) {
			return &exitError{code: 1, msg: "no user " + login}
		}
		hash, err := newPasswordHash(env, c.PasswordFile)
		if err != nil {
			return err
		}
		found, err := db.SetPassword(env.ctx, login, hash, env.clock())
		if err != nil {
			return err
		}
		if !found {
			return &exitError{code: 1, msg: "no user " + login}
		}
		fmt.Fprintf(env.stdout, "Changed the password of %s; their sessions are ended.\n", login)
		return nil
	})
}

// newPasswordHash reads a new password (from a file, standard input, or
// asked twice on the terminal without echo) and hashes it.
func newPasswordHash(env *runEnv, file string) (string, error) {
	var pw string
	switch {
	case file == "-":
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", &exitError{code: 1, msg: fmt.Sprintf("reading the password: %v", err)}
		}
		pw = strings.TrimRight(string(b), "\r\n")
	default:
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return "", &exitError{code: 1, msg: "no terminal to ask for the password: give --password-file FILE (or - for standard input)"}
		}
		ask := func(prompt string) (string, error) {
			fmt.Fprint(env.stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(env.stderr)
			return string(b), err
		}
		first, err := ask("New password: ")
		if err != nil {
			return "", err
		}
		again, err := ask("Again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", &exitError{code: 1, msg: "the two passwords differ; nothing changed"}
		}
		pw = first
	}
	hash, err := dashboard.HashPassword(pw, 0)
	if err != nil {
		return "", &exitError{code: 1, msg: err.Error()}
	}
	return hash, nil
}
