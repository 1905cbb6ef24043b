package probe

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestResultAppendJSONKeys guards the hand-written encoder against drift:
// a field added to jsonResult, Error or TLSInfo (or a struct they hold)
// must be written by AppendJSON too. The keys are read from the structs'
// tags, and the result is filled by reflection, every field non-zero, so
// that a new field is covered without editing this test.
func TestResultAppendJSONKeys(t *testing.T) {
	r := &Result{}
	fill(reflect.ValueOf(r).Elem(), "Result")
	want, err := oldResultJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("AppendJSON wrote %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	keys := jsonKeys(reflect.TypeFor[jsonResult](), "")
	if !strings.Contains(strings.Join(keys, " "), "tls.") {
		t.Fatalf("the walk did not reach the nested structs: %v", keys)
	}
	for _, k := range keys {
		if !hasKey(w, strings.Split(k, ".")) {
			t.Errorf("json.Marshal left out key %q: the filled result is not full\n%s", k, want)
		}
		if !hasKey(g, strings.Split(k, ".")) {
			t.Errorf("AppendJSON left out key %q, which json.Marshal writes", k)
		}
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("AppendJSON and json.Marshal differ:\n got %s\nwant %s", got, want)
	}
}

// fill sets every field reachable from v to a non-zero value, so that
// omitempty and omitzero keep it; path names v in a failure.
func fill(v reflect.Value, path string) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 9, 47, 58, 633448000, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.ToLower(path))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1500000) // 1.5 ms as a time.Duration
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(2.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), path+"[0]")
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, path+".key")
		fill(e, path+"["+k.String()+"]")
		v.SetMapIndex(k, e)
	case reflect.Interface:
		v.Set(reflect.ValueOf(path))
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), path+"."+f.Name)
			}
		}
	default:
		panic("fill: no value for " + path + " of kind " + v.Kind().String())
	}
}

// jsonKeys are the keys encoding/json writes for type t, as dotted paths
// below prefix: exported fields by their tag's name (or the field's),
// json:"-" left out, embedded structs' fields at their own level, and
// pointers, slices and structs followed; a type that encodes itself
// (time.Time) or a map (its keys are data) is one key.
func jsonKeys(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.Implements(reflect.TypeFor[json.Marshaler]()) ||
		t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			keys = append(keys, jsonKeys(ft, prefix)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, prefix+name)
		keys = append(keys, jsonKeys(f.Type, prefix+name+".")...)
	}
	return keys
}

// hasKey reports whether the decoded JSON v holds the key path, in every
// element of the arrays on the way.
func hasKey(v any, path []string) bool {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return false
		}
		for _, e := range v {
			if !hasKey(e, path) {
				return false
			}
		}
		return true
	case map[string]any:
		e, ok := v[path[0]]
		return ok && (len(path) == 1 || hasKey(e, path[1:]))
	}
	return false
}
