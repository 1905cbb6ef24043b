package config

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PlaceholderPrefix begins the names of the environment variables that
// "mailmon export" writes in place of secrets.
const PlaceholderPrefix = "MAILMON_SECRET_"

// PlaceholderName is the variable export names for a secret: the prefix,
// then the parts (a device and monitor name, "PASSWORD") in capitals,
// each run of other characters than A-Z and 0-9 an underscore:
// MAILMON_SECRET_MAIL1_IMAP_LOGIN_PASSWORD.
func PlaceholderName(parts ...string) string {
	var b strings.Builder
	b.WriteString(PlaceholderPrefix)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		under := false
		for _, r := range strings.ToUpper(p) {
			if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
				under = false
			} else if !under {
				b.WriteByte('_')
				under = true
			}
		}
	}
	return b.String()
}

// IsPlaceholder reports whether s is a placeholder export wrote: an
// {env} whose name has PlaceholderPrefix. apply keeps the stored secret
// when its variable is not set.
func (s SecretRef) IsPlaceholder() bool { return strings.HasPrefix(s.Env, PlaceholderPrefix) }

// Marshal writes a configuration as YAML. A secret's value is never
// written; where it is read from ({env: VAR}, {file: PATH}) is.
func Marshal(f *File) ([]byte, error) { return marshal(f, func(SecretRef) {}) }

// marshal is Marshal, calling seen with each secret it writes a
// reference to.
func marshal(f *File, seen func(SecretRef)) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(f); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	secretRefs(reflect.ValueOf(f), &n, seen)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b.Bytes(), nil
}

// MarshalExport is Marshal for "mailmon export": the placeholders the
// file holds are listed in a comment at its top, which says what to do
// with them.
func MarshalExport(f *File) ([]byte, error) {
	var names []string
	out, err := marshal(f, func(s SecretRef) {
		if s.IsPlaceholder() {
			names = append(names, s.Env)
		}
	})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# mailmon export: the configuration, without its secrets.\n")
	if len(names) > 0 {
		b.WriteString("# Each secret is a placeholder, {env: " + PlaceholderPrefix + "…}. Applied to this\n" +
			"# database, a placeholder whose variable is not set keeps the stored secret;\n" +
			"# to apply to a new database, set these variables to the secrets first:\n")
		for _, n := range names {
			b.WriteString("#   " + n + "\n")
		}
	}
	b.Write(out)
	return b.Bytes(), nil
}

// secretRefs writes into n, the encoding of v, the {env} and {file} of
// v's secrets: the encoder leaves every secret out (SecretRef.IsZero).
func secretRefs(v reflect.Value, n *yaml.Node, seen func(SecretRef)) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i := range min(v.Len(), len(n.Content)) {
				secretRefs(v.Index(i), n.Content[i], seen)
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		at := 0 // where the next key goes: after the one before it
		for i, f := range fieldsOf(v.Type()) {
			fv := v.Field(i)
			switch {
			case f == "":
				continue
			case fv.Type() == secretRefType:
				s := fv.Interface().(SecretRef)
				if ref := s.refNode(); ref != nil {
					key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f}
					n.Content = append(n.Content[:at], append([]*yaml.Node{key, ref}, n.Content[at:]...)...)
					at += 2
					seen(s)
				}
				continue
			case fv.Type() == secretHeadersType:
				// A templated webhook's headers: each value a secret,
				// written as a reference as a SecretRef is.
				h := fv.Interface().(SecretHeaders)
				m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
				for _, name := range slices.Sorted(maps.Keys(h)) {
					if ref := h[name].refNode(); ref != nil {
						m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, ref)
						seen(h[name])
					}
				}
				if len(m.Content) > 0 {
					key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f}
					n.Content = append(n.Content[:at], append([]*yaml.Node{key, m}, n.Content[at:]...)...)
					at += 2
				}
				continue
			}
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == f {
					secretRefs(fv, n.Content[k+1], seen)
					at = k + 2
					break
				}
			}
		}
	}
}

var secretHeadersType = reflect.TypeFor[SecretHeaders]()

var secretRefType = reflect.TypeFor[SecretRef]()

// fieldsOf is each field's key in the YAML, "" for one that has none.
func fieldsOf(t reflect.Type) []string {
	out := make([]string, t.NumField())
	for i := range out {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "-" {
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out[i] = name
		}
	}
	return out
}

// refNode is where the secret is read from, as a node; nil for a value
// (never written) or none.
func (s SecretRef) refNode() *yaml.Node {
	key, val := "env", s.Env
	if s.File != "" {
		key, val = "file", s.File
	}
	if val == "" {
		return nil
	}
	return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: val},
	}}
}
