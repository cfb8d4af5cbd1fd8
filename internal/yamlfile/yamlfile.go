// Package yamlfile decodes the project's YAML files (config, sequences, surveys)
// and reports every problem it finds with file:line:column, so that
// `followup check` can show all mistakes at once rather than the first one.
package yamlfile

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Problem is one mistake in one file, at a position when one is known.
type Problem struct {
	File string
	Line int // 1-based; 0 when the problem concerns the whole file
	Col  int
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return p.Msg
}

// Problems collects problems across files.
type Problems []Problem

// Addf appends a problem.
func (ps *Problems) Addf(file string, line, col int, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// Sort orders problems by file, then position.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns nil when there are no problems, else an error listing them all.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

// Error carries every problem found; errors.As it to list them.
type Error struct{ Problems Problems }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// AsProblems extracts the problems of err, or wraps a plain error as one problem.
func AsProblems(err error) Problems {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return Problems{{Msg: err.Error()}}
}

// Doc is a decoded file that can still tell where a value was written.
type Doc struct {
	File string
	ast  *ast.File
}

// Decode parses data (named file in messages) into v, a pointer to a struct with
// yaml tags. It reports syntax errors, every unknown key (not only the first)
// and type mismatches, each with its position.
func Decode(file string, data []byte, v any) (*Doc, Problems) {
	doc := &Doc{File: file}
	var ps Problems
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		ps = append(ps, doc.fromYAMLError(err))
		return doc, ps
	}
	doc.ast = f
	body := doc.body()
	if body == nil {
		return doc, ps // empty file: zero value
	}
	unknownKeys(doc, body, reflect.TypeOf(v), &ps)
	if err := yaml.NodeToValue(body, v); err != nil {
		ps = append(ps, doc.fromYAMLError(err))
	}
	return doc, ps
}

func (d *Doc) body() ast.Node {
	if d.ast == nil || len(d.ast.Docs) == 0 {
		return nil
	}
	return d.ast.Docs[0].Body
}

func (d *Doc) fromYAMLError(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
		pos := ye.GetToken().Position
		return Problem{File: d.File, Line: pos.Line, Col: pos.Column, Msg: ye.GetMessage()}
	}
	return Problem{File: d.File, Msg: err.Error()}
}

// Pos returns the position of the value at path ("$.steps[1].after"). When that
// value is absent it falls back to the nearest parent that exists, so a missing
// key is reported where its mapping starts.
func (d *Doc) Pos(path string) (line, col int) {
	if d == nil || d.ast == nil {
		return 0, 0
	}
	for path != "" {
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(d.ast); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		path = parentPath(path)
	}
	return 0, 0
}

func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i <= 1 { // "$" or "$.x"
		return ""
	}
	return path[:i]
}

// Problemf builds a problem located at path.
func (d *Doc) Problemf(path, format string, args ...any) Problem {
	line, col := d.Pos(path)
	return Problem{File: d.File, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// unknownKeys walks node against type t and reports every key t has no field for.
func unknownKeys(d *Doc, node ast.Node, t reflect.Type, ps *Problems) {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		if t.Kind() != reflect.Pointer {
			if seq, ok := node.(*ast.SequenceNode); ok {
				for _, item := range seq.Values {
					unknownKeys(d, item, t.Elem(), ps)
				}
			}
			return
		}
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return
	}
	if tn, ok := node.(*ast.TagNode); ok {
		node = tn.Value
	}
	var pairs []*ast.MappingValueNode
	switch n := node.(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{n}
	default:
		return
	}
	fields := yamlFields(t)
	for _, kv := range pairs {
		key := kv.Key.String()
		ft, ok := fields[key]
		if !ok {
			pos := kv.Key.GetToken().Position
			*ps = append(*ps, Problem{File: d.File, Line: pos.Line, Col: pos.Column,
				Msg: fmt.Sprintf("unknown key %q (known keys: %s)", key, knownKeys(fields))})
			continue
		}
		unknownKeys(d, kv.Value, ft, ps)
	}
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range yamlFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func knownKeys(fields map[string]reflect.Type) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
