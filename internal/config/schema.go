package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mailmon/mailmon/internal/probe"
)

// schemaProblems checks a file's node tree against the configuration's
// types, as the decoder reads them, and says in the YAML's words what
// does not fit: a key that is not one (with the nearest one and the list
// of valid keys), a value of the wrong type or shape. Each problem is at
// its key's or value's line and column, under its path; covered says
// whether a field validation's problem would only repeat one of them.
//
// It runs only when decoding failed: the decoder's own messages name Go
// types ("field typ not found in type config.Monitor") and no path.
func schemaProblems(root *yaml.Node) (ps Problems, covered func(path string) bool) {
	s := &schema{}
	s.node(root, reflect.TypeFor[File](), "")
	return s.problems, s.isCovered
}

// isCovered says whether path is covered, or within a covered path.
func (s *schema) isCovered(path string) bool {
	if slices.Contains(s.exact, path) {
		return true
	}
	for _, c := range s.covered {
		if rest, ok := strings.CutPrefix(path, c); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return true
		}
	}
	return false
}

type schema struct {
	problems Problems
	covered  []string // paths and all below them
	exact    []string // paths only
}

func (s *schema) add(n *yaml.Node, path, format string, args ...any) {
	s.problems = append(s.problems, Problem{Line: n.Line, Col: n.Column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// wrong reports a value of the wrong type or shape; its field's
// validation would only say the same again.
func (s *schema) wrong(n *yaml.Node, path, format string, args ...any) {
	s.add(n, path, format, args...)
	s.covered = append(s.covered, path)
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (s *schema) node(n *yaml.Node, t reflect.Type, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			s.node(n.Content[0], t, path)
		}
		return
	case yaml.AliasNode:
		return // checked where its anchor stands
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // null is the zero value of anything
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		s.leaf(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		s.mapping(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			s.wrong(n, path, "want a list (- item per line, or [a, b]), got %s", describe(n))
			return
		}
		for i, c := range n.Content {
			s.node(c, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	default:
		s.leaf(n, t, path)
	}
}

// mapping checks the keys of a mapping that decodes into struct type t.
func (s *schema) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		s.wrong(n, path, "want a mapping (key: value), got %s", describe(n))
		return
	}
	names, types := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" { // <<: *anchor
			s.node(v, t, path)
			continue
		}
		if line, ok := seen[k.Value]; ok {
			s.add(k, join(path, k.Value), "is given twice (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := types[k.Value]
		if !ok {
			hint := ";"
			if guess := probe.Suggest(k.Value, names); guess != "" {
				hint = fmt.Sprintf("; did you mean %q?", guess)
				s.covered = append(s.covered, join(path, guess))
			}
			// The object's own checks ("exactly one of webhook, email or
			// command") miss the key too; its fields' checks stand.
			s.exact = append(s.exact, path)
			s.add(k, path, "unknown key %q%s valid keys: %s", k.Value, hint, strings.Join(names, ", "))
			continue
		}
		s.node(v, ft, join(path, k.Value))
	}
}

// leaf decodes one value into its type and words its failure.
func (s *schema) leaf(n *yaml.Node, t reflect.Type, path string) {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	var te *yaml.TypeError
	if reflect.PointerTo(t).Implements(unmarshalerType) && errors.As(err, &te) && len(te.Errors) > 0 {
		s.wrong(n, path, "%s", cleanMsg(te.Errors[0])) // its own words (a duration, a secret)
		return
	}
	s.wrong(n, path, "want %s, got %s", want(t), describe(n))
}

// want says what a value of type t is written as.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a " + t.Kind().String()
}

// describe says what a node holds, as the file shows it.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			return fmt.Sprintf("%q (in quotes: a string)", n.Value)
		}
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

// yamlFields lists a struct type's keys in the YAML, in its order, and
// their types.
func yamlFields(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for i, name := range fieldsOf(t) {
		if name != "" {
			names = append(names, name)
			types[name] = t.Field(i).Type
		}
	}
	return names, types
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
