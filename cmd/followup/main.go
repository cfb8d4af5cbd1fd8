// Command followup runs recruiters' follow-up email sequences.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	_ "time/tzdata" // candidates' time zones work on machines without zoneinfo
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type cli struct {
	Config string `short:"c" help:"Config file." default:"followup.yaml" env:"FOLLOWUP_CONFIG" type:"path"`

	Init     initCmd     `cmd:"" help:"Create a ready-to-edit project: config, starter sequences and templates (zh-CN and en)."`
	Check    checkCmd    `cmd:"" help:"Validate the config, every sequence and every template; list all problems with file:line."`
	Enroll   enrollCmd   `cmd:"" help:"Enroll one candidate into a sequence."`
	Import   importCmd   `cmd:"" help:"Enroll candidates in bulk from a CSV file."`
	List     listCmd     `cmd:"" help:"List enrollments."`
	Show     showCmd     `cmd:"" help:"Show a candidate's timeline: every message and event."`
	Pause    pauseCmd    `cmd:"" help:"Pause a candidate's active enrollments."`
	Resume   resumeCmd   `cmd:"" help:"Resume a candidate's paused enrollments."`
	Stop     stopCmd     `cmd:"" help:"Stop a candidate's enrollments for good."`
	Preview  previewCmd  `cmd:"" help:"Render a step for a candidate: text to the terminal, HTML to a file."`
	Serve    serveCmd    `cmd:"" help:"Run the daemon: send every step when it is due, and read replies."`
	Inbox    inboxCmd    `cmd:"" help:"Check mailbox access, or see how saved emails are classified."`
	Suppress suppressCmd `cmd:"" help:"The suppression list: addresses that are never mailed again."`
	Forget   forgetCmd   `cmd:"" help:"Erase a candidate's personal data everywhere (PIPL, GDPR)."`
	Review   reviewCmd   `cmd:"" help:"Steps marked for review: list, approve (optionally in your own words), reject."`
	Consent  consentCmd  `cmd:"" help:"Record whether a candidate agreed to stay in the talent pool."`
	Report   reportCmd   `cmd:"" help:"Reports: reply rates per step and variant."`
	Token    tokenCmd    `cmd:"" help:"API tokens for an ATS or a script: create, list, revoke."`
	Webhooks webhooksCmd `cmd:"" help:"Webhook deliveries: the log, sending again, turning an endpoint on again."`
	Demo     demoCmd     `cmd:"" help:"Run the whole loop on this machine with a sandbox mail server and sample candidates."`
	User     userCmd     `cmd:"" help:"Dashboard users: add, list, remove, passwd."`
	Version  versionCmd  `cmd:"" help:"Print the version."`
}

// exitError carries an exit status for a failure already explained to the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) (code int) {
	defer func() {
		// Last line of defence: a bug must not show a Go stack trace to a
		// recruiter; say what happened and exit non-zero.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "followup: internal error: %v\nPlease report this with the command you ran.\n", r)
			code = 70
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &runEnv{ctx: ctx, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if err := runWith(env, args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintln(os.Stderr, "followup:", err)
		return 1
	}
	return 0
}

// runWith parses args and runs the command in env (tests call it directly).
func runWith(env *runEnv, args []string) error {
	var c cli
	helped := false
	parser, err := kong.New(&c,
		kong.Name("followup"),
		kong.Description("Followup sends recruiters' follow-up emails at the right moments, from their own mailbox, and stops when candidates reply."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Writers(env.stdout, env.stderr),
		// --help prints and asks to exit: note it and return instead, so
		// tests can run commands in-process.
		kong.Exit(func(int) { helped = true }),
	)
	if err != nil {
		return err
	}
	kctx, err := parser.Parse(args)
	if helped {
		return nil
	}
	if err != nil {
		return &exitError{code: 2, msg: "followup: " + err.Error() + " (see followup --help)"}
	}
	env.configPath = c.Config
	return kctx.Run(env)
}

type versionCmd struct{}

func (versionCmd) Run(env *runEnv) error {
	fmt.Fprintln(env.stdout, "followup", version)
	return nil
}
