package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed starter
var starter embed.FS

type initCmd struct {
	Dir   string `arg:"" help:"Folder to create the project in." type:"path"`
	Force bool   `help:"Overwrite files that already exist."`
}

func (c initCmd) Run(env *runEnv) error {
	n, err := writeStarter(c.Dir, c.Force)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Created a Followup project in %s (%d files).\n\n", c.Dir, n)
	fmt.Fprintf(env.stdout, `Next:
  1. Edit %s: your company, your mailbox, its SMTP (and IMAP) server.
  2. export FOLLOWUP_SMTP_PASSWORD=…   (your mailbox password or app password)
  3. cd %s && followup check
  4. followup preview rejected-after-interview -n 李雷 -f job_title=工程师 -f strengths=… -f gaps=…
  5. Try it on yourself first: followup enroll YOU@yourcompany.com -s post-interview-thanks -f job_title=Test
  6. followup serve

candidates.csv shows the import format; its addresses are examples (followup.test does not
exist), so import your own file, not that one. "followup demo" runs everything against a sandbox.
`, filepath.Join(c.Dir, "followup.yaml"), c.Dir)
	return nil
}

// writeStarter copies the embedded starter project into dir.
func writeStarter(dir string, force bool) (int, error) {
	n := 0
	err := fs.WalkDir(starter, "starter", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("starter", path)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if _, err := os.Stat(target); err == nil && !force {
			return fmt.Errorf("%s already exists; use --force to overwrite the starter files", target)
		}
		content, err := starter.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(target, content, 0o644)
	})
	if err != nil {
		return n, fmt.Errorf("creating the project: %w", err)
	}
	return n, nil
}
