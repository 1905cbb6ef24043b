package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
)

// The answers are fetched by a process of their own, as Prometheus and a
// browser fetch them: not by the benchmark's, whose goroutines also serve
// the farm of targets (1,667 connections a second at 100,000 monitors), so
// that a fetch would wait for the farm's goroutines besides serve. The
// fetcher is this binary run with fetcherArg first; it logs in itself, then
// fetches endpoint i for each line "i" on its standard input and answers
// with a line of JSON (fetchLine) on its standard output.
const fetcherArg = "-be-the-fetcher"

// The fetcher's environment: serve's address and the API token.
const (
	fetcherURL   = "MAILMON_BENCH_URL"
	fetcherToken = "MAILMON_BENCH_TOKEN"
)

// fetchLine is one fetch as the fetcher tells it.
type fetchLine struct {
	Took     time.Duration `json:"took"`
	Bytes    int64         `json:"bytes"`
	Encoding string        `json:"encoding,omitempty"`
	Unzipped int64         `json:"unzipped,omitempty"`
	Age      time.Duration `json:"age,omitempty"`
	Err      string        `json:"err,omitempty"`
}

func lineOf(f fetch) fetchLine {
	l := fetchLine{Took: f.took, Bytes: f.bytes, Encoding: f.encoding, Unzipped: f.unzipped, Age: f.age}
	if f.err != nil {
		l.Err = f.err.Error()
	}
	return l
}

func (l fetchLine) fetch() fetch {
	f := fetch{took: l.Took, bytes: l.Bytes, encoding: l.Encoding, unzipped: l.Unzipped, age: l.Age}
	if l.Err != "" {
		f.err = errors.New(l.Err)
	}
	return f
}

// beTheFetcher is the fetcher's main: the first line it writes is its
// endpoints' names, as JSON.
func beTheFetcher(in io.Reader, out io.Writer, base, token string) error {
	web, err := harness.Login(base, webUser, webPassword)
	if err != nil { // the board's fetches say so, as HTTP 303 to /login
		fmt.Fprintln(os.Stderr, "web login:", err)
		web = harness.NoRedirects()
	}
	eps := endpoints(base, token, web)
	enc := json.NewEncoder(out)
	var names []string
	for _, e := range eps {
		names = append(names, e.name)
	}
	if err := enc.Encode(names); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		i, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil || i < 0 || i >= len(eps) {
			return fmt.Errorf("fetcher: no endpoint %q", sc.Text())
		}
		if err := enc.Encode(lineOf(eps[i].fetch())); err != nil {
			return err
		}
	}
	return sc.Err()
}

// fetcher is the fetcher process as the benchmark drives it.
type fetcher struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *json.Decoder
	names []string // its endpoints
}

// startFetcher starts a fetcher of serve's answers at base.
func startFetcher(base, token string) (*fetcher, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, fetcherArg)
	cmd.Env = append(os.Environ(), fetcherURL+"="+base, fetcherToken+"="+token)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fetcher{cmd: cmd, in: in, out: json.NewDecoder(out)}
	if err := f.out.Decode(&f.names); err != nil {
		f.close()
		return nil, fmt.Errorf("the fetcher: %w", err)
	}
	return f, nil
}

// fetch has the fetcher fetch endpoint i and says how it went.
func (f *fetcher) fetch(i int) fetch {
	if _, err := fmt.Fprintf(f.in, "%d\n", i); err != nil {
		return fetch{err: fmt.Errorf("the fetcher: %w", err)}
	}
	var l fetchLine
	if err := f.out.Decode(&l); err != nil {
		return fetch{err: fmt.Errorf("the fetcher: %w", err)}
	}
	return l.fetch()
}

// close ends the fetcher.
func (f *fetcher) close() {
	f.in.Close()
	if err := f.cmd.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "the fetcher:", err)
	}
}
