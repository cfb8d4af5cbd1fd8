package yamlfile

import (
	"strings"
	"testing"
)

type step struct {
	Template string `yaml:"template"`
	After    string `yaml:"after"`
}

type seq struct {
	Description string            `yaml:"description"`
	Steps       []step            `yaml:"steps"`
	Extra       map[string]string `yaml:"extra"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // problem strings, in order
	}{
		{"valid", "description: x\nsteps:\n  - template: a\n    after: 1h\nextra:\n  anything: goes\n", nil},
		{"empty", "", nil},
		{"all unknown keys at once", "descripton: x\nsteps:\n  - template: a\n    afer: 1h\n  - tmplate: b\n",
			[]string{`s.yaml:1:1: unknown key "descripton"`, `s.yaml:4:5: unknown key "afer"`, `s.yaml:5:5: unknown key "tmplate"`}},
		{"syntax error", "steps:\n  - template: a\n   after: [\n", []string{"s.yaml:3:"}},
		{"type mismatch", "steps: hello\n", []string{"s.yaml:1:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seq
			_, ps := Decode("s.yaml", []byte(tt.in), &s)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems %v, want %d", len(ps), ps, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ps[i].String(), w) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i], w)
				}
			}
		})
	}
}

func TestPosFallsBackToParent(t *testing.T) {
	var s seq
	doc, ps := Decode("s.yaml", []byte("description: x\nsteps:\n  - template: a\n  - template: b\n    after: 2d\n"), &s)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if line, _ := doc.Pos("$.steps[1].after"); line != 5 {
		t.Errorf("steps[1].after at line %d, want 5", line)
	}
	if line, _ := doc.Pos("$.steps[0].after"); line != 3 {
		t.Errorf("missing steps[0].after falls back to line %d, want 3", line)
	}
	if p := doc.Problemf("$.steps[1].template", "no template %q", "b"); p.String() != `s.yaml:4:15: no template "b"` {
		t.Errorf("Problemf = %q", p)
	}
}
