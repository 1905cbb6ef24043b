package config

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration, at a place in a file.
type Problem struct {
	File  string
	Line  int
	Col   int
	Field string // path such as devices[0].monitors[2].timing.up_every
	Msg   string
}

func (p Problem) Error() string {
	pos := p.File
	if p.Line > 0 {
		pos += ":" + strconv.Itoa(p.Line)
		if p.Col > 0 { // a syntax error has a line only
			pos += ":" + strconv.Itoa(p.Col)
		}
	}
	if p.Field != "" {
		return pos + ": " + p.Field + ": " + p.Msg
	}
	return pos + ": " + p.Msg
}

// Problems is every problem of a file, reported at once.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// Parse decodes and validates a configuration file. Unknown keys and
// values of the wrong type are errors, in the YAML's words (the path, the
// valid keys, a "did you mean"); every problem of the file is reported at
// once, merged with the field validation's, each with its line, column
// and path. A file with problems of the first kind returns no File.
//
// The file is decoded once, straight into its structs: the node tree that
// places a problem on its line is built only when there are problems (at
// 100,000 monitors it cost as much memory as the rest of apply). A file
// without problems is decoded a monitor at a time (split.go); one with
// problems, or one that split.go does not cut, whole.
func Parse(name string, data []byte) (*File, error) {
	if f, ok := decodeSplit(data); ok {
		return f, nil
	}
	return parseWhole(name, data)
}

// parseWhole is Parse of the file decoded whole: the only path that
// reports problems.
func parseWhole(name string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// A type error does not stop the decoder: what fits is decoded, so
	// that the rest of the file is validated too.
	var te *yaml.TypeError
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) && !errors.As(err, &te) {
		return nil, Problems{{File: name, Line: yamlLine(err), Msg: cleanYAML(err)}}
	}
	errs := f.Validate()
	if te == nil && len(errs) == 0 {
		return &f, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: name, Line: yamlLine(err), Msg: cleanYAML(err)}}
	}
	var ps Problems
	covered := func(string) bool { return false }
	if te != nil {
		ps, covered = schemaProblems(&root)
		if len(ps) == 0 { // not foreseen: the decoder's words, then
			for _, e := range te.Errors {
				ps = append(ps, Problem{Line: lineOf(e), Msg: cleanMsg(e)})
			}
		}
	}
	idx := positions(&root)
	for _, e := range errs {
		if covered(e.Path) {
			continue
		}
		p := Problem{Field: e.Path, Msg: e.Msg}
		p.Line, p.Col = idx.find(e.Path)
		ps = append(ps, p)
	}
	for i := range ps {
		ps[i].File = name
	}
	sort.SliceStable(ps, func(a, b int) bool {
		if ps[a].Line != ps[b].Line {
			return ps[a].Line < ps[b].Line
		}
		return ps[a].Col < ps[b].Col
	})
	if te != nil {
		return nil, ps
	}
	return &f, ps
}

var lineRE = regexp.MustCompile(`line (\d+): `)

func lineOf(msg string) int {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func cleanMsg(msg string) string { return lineRE.ReplaceAllString(msg, "") }

func yamlLine(err error) int { return lineOf(err.Error()) }

func cleanYAML(err error) string {
	return strings.TrimPrefix(cleanMsg(err.Error()), "yaml: ")
}

// Locate returns a function that finds a field path's line and column in
// the file data (0, 0 when unknown), for problems found after Parse.
func Locate(data []byte) func(path string) (line, col int) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return func(string) (int, int) { return 0, 0 }
	}
	return positions(&root).find
}

// posIndex maps field paths to their place in the file.
type posIndex map[string][2]int

func positions(root *yaml.Node) posIndex {
	idx := posIndex{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				idx[p] = [2]int{k.Line, k.Column}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				idx[p] = [2]int{c.Line, c.Column}
				walk(c, p)
			}
		}
		if _, ok := idx[path]; !ok && path != "" {
			idx[path] = [2]int{n.Line, n.Column}
		}
	}
	walk(root, "")
	return idx
}

// find returns the place of path, or of its nearest parent in the file (a
// missing field is reported where its object starts).
func (idx posIndex) find(path string) (int, int) {
	for p := path; p != ""; {
		if lc, ok := idx[p]; ok {
			return lc[0], lc[1]
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0, 0
}
