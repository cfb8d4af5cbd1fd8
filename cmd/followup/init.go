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
  1. Edit %s: your company, your mailbox and its SMTP server.
  2. export FOLLOWUP_SMTP_PASSWORD=…   (your mailbox password or app password)
  3. cd %s && followup check
  4. followup preview rejected-after-interview --email li.lei@followup.test   (after importing the sample)
  5. followup import candidates.csv && followup serve
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
