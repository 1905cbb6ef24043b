package config

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// A YAML decoder builds the whole document's node tree before it fills a
// struct: at 100,000 monitors that tree (about 25 nodes of 150 bytes per
// monitor) was most of "mailmon apply"'s peak memory. decodeSplit decodes
// a file a part at a time instead: the file without its devices' items,
// then runs of devices (a large device: runs of its monitors), each as a
// document of its own, so that only one run's tree is alive at a time.
//
// The text is cut only where the YAML's own structure puts a boundary (a
// "- " at the indentation of a block sequence's items), and only in files
// that cannot tie one item to another: no anchors or aliases ("&", "*"
// anywhere), no directives or document markers. A cut in the wrong place
// (inside a quoted or flow scalar spanning lines) leaves a piece that does
// not decode. Whatever does not go through cleanly (no devices block, a
// piece that fails to decode, a problem of the validation) makes the
// caller decode the file whole, as before: the file's problems, their
// lines and columns come from that one path only.

// groupBytes is about how much YAML one document of decodeSplit holds:
// a few hundred monitors, a tree of ~2 MB. A document each monitor cost
// a decoder's buffers each (4.4 times the allocations of the whole
// decode, twice its CPU). A variable for the fuzz target, which cuts
// every item.
var groupBytes = 64 << 10

// decodeSplit decodes a valid file piece by piece; ok is false when the
// file is not one it cuts, or has any problem.
func decodeSplit(data []byte) (f *File, ok bool) {
	if bytes.ContainsAny(data, "&*") {
		return nil, false
	}
	rest, items, ok := splitSequence(data, "devices", 0)
	if !ok {
		return nil, false
	}
	f = &File{}
	if !decodeStrict(rest, f) || f.Devices != nil {
		return nil, false
	}
	f.Devices = make([]Device, 0, len(items))
	for _, g := range groups(items) {
		if len(g) == 1 && g[0].end-g[0].start > groupBytes {
			d, ok := decodeDevice(data[g[0].start:g[0].end], g[0].indent)
			if !ok {
				return nil, false
			}
			f.Devices = append(f.Devices, d)
			continue
		}
		var ds []Device
		if !decodeStrict(data[g[0].start:g[len(g)-1].end], &ds) || len(ds) != len(g) {
			return nil, false
		}
		f.Devices = append(f.Devices, ds...)
	}
	if len(f.Validate()) > 0 {
		return nil, false
	}
	return f, true
}

// decodeDevice decodes one large device's item (a one-item block
// sequence at indentation indent), its monitors a group at a time.
func decodeDevice(item []byte, indent int) (Device, bool) {
	var ds []Device
	rest, items, split := splitSequence(item, "monitors", indent+2)
	if !split {
		if !decodeStrict(item, &ds) || len(ds) != 1 {
			return Device{}, false
		}
		return ds[0], true
	}
	if !decodeStrict(rest, &ds) || len(ds) != 1 || ds[0].Monitors != nil {
		return Device{}, false
	}
	d := ds[0]
	d.Monitors = make([]Monitor, 0, len(items))
	for _, g := range groups(items) {
		var ms []Monitor
		if !decodeStrict(item[g[0].start:g[len(g)-1].end], &ms) || len(ms) != len(g) {
			return Device{}, false
		}
		d.Monitors = append(d.Monitors, ms...)
	}
	return d, true
}

// groups cuts consecutive items into runs of about groupBytes; an item
// larger than that is a run of its own.
func groups(items []piece) [][]piece {
	var gs [][]piece
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].end-items[i].start <= groupBytes {
			j++
		}
		gs = append(gs, items[i:j])
		i = j
	}
	return gs
}

// decodeStrict decodes one document as Parse does (unknown keys are
// errors); false on any error.
func decodeStrict(data []byte, v any) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v) == nil
}

// piece is one item of a block sequence: where its lines start and end
// in the text, and the indentation of its "-".
type piece struct {
	start, end int
	indent     int
}

// splitSequence finds the line "key:" at indentation keyIndent (nothing
// after it but a comment) and the block sequence that follows it. It
// returns the text without the sequence's items (key: is then null) and
// each item's lines. ok is false when there is no such key, when it is
// there twice, when its value is not a block sequence, or when a line
// starts a document or a directive.
func splitSequence(data []byte, key string, keyIndent int) (rest []byte, items []piece, ok bool) {
	const (
		before = iota // looking for the key
		first         // after the key: its first item
		in            // in the items
		after         // after the sequence
	)
	state := before
	itemIndent := -1
	keyEnd, seqEnd := -1, -1
	var starts []int
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		line := bytes.TrimRight(data[off:next], "\r\n")
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.HasPrefix(line, []byte("%")) {
			return nil, nil, false
		}
		body := bytes.TrimLeft(line, " ")
		indent := len(line) - len(body)
		blank := len(bytes.TrimSpace(body)) == 0 || body[0] == '#'
		switch {
		case blank:
		case state == before || state == after:
			if indent == keyIndent && isKeyLine(body, key) {
				if state == after {
					return nil, nil, false // twice: the whole decode says so
				}
				state, keyEnd = first, next
			}
		case state == first:
			if !isDash(body) || indent < keyIndent {
				return nil, nil, false
			}
			state, itemIndent = in, indent
			starts = append(starts, off)
		case indent > itemIndent:
		case indent == itemIndent && isDash(body):
			starts = append(starts, off)
		case indent == keyIndent: // the key's next sibling (items may stand at the key's indentation)
			state, seqEnd = after, off
		default:
			return nil, nil, false
		}
		off = next
	}
	if state == before || state == first {
		return nil, nil, false
	}
	if seqEnd < 0 {
		seqEnd = len(data)
	}
	for i, s := range starts {
		e := seqEnd
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		items = append(items, piece{start: s, end: e, indent: itemIndent})
	}
	rest = make([]byte, 0, keyEnd+len(data)-seqEnd+1)
	rest = append(rest, data[:keyEnd]...)
	if len(rest) > 0 && rest[len(rest)-1] != '\n' {
		rest = append(rest, '\n')
	}
	rest = append(rest, data[seqEnd:]...)
	return rest, items, true
}

// isKeyLine: body is "key:", then nothing but spaces or a comment.
func isKeyLine(body []byte, key string) bool {
	after, ok := bytes.CutPrefix(body, []byte(key+":"))
	if !ok {
		return false
	}
	after = bytes.TrimSpace(after)
	return len(after) == 0 || after[0] == '#'
}

// isDash: body starts a block sequence's item.
func isDash(body []byte) bool {
	return len(body) > 0 && body[0] == '-' && (len(body) == 1 || body[1] == ' ' || body[1] == '\r')
}
