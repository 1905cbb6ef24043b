package config

import (
	"fmt"
	"io"
	"os"
)

// MaxFileSize is the largest configuration apply reads: 64 MiB, about
// 270,000 monitors of ten short lines each. A larger configuration is
// applied in several files (apply creates and updates, never deletes, so
// each file leaves the others' objects alone).
const MaxFileSize = 64 << 20

// ReadFile reads a configuration file, or stdin when name is "-". A file
// larger than MaxFileSize is refused before it is read, and a stream is
// read no further than that.
func ReadFile(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
			return nil, tooLarge(fmt.Sprintf("%s is %.1f MiB,", name, float64(fi.Size())/(1<<20)))
		}
		r = f
	} else if r == nil {
		return nil, fmt.Errorf("-f -: no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		if name == "-" {
			name = "standard input"
		}
		return nil, tooLarge(name + " holds")
	}
	return data, nil
}

func tooLarge(what string) error {
	return fmt.Errorf("%s more than the %d MiB apply reads: split the configuration into several files and apply each (apply never deletes, so each file leaves the others' objects alone)",
		what, MaxFileSize>>20)
}
