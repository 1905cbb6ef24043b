package main

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary be the fetcher, as the benchmark's binary
// is (startFetcher runs os.Executable with fetcherArg).
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == fetcherArg {
		if err := beTheFetcher(os.Stdin, os.Stdout, os.Getenv(fetcherURL), os.Getenv(fetcherToken)); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFetcherProcess: the answers are fetched by another process, which
// asks as the benchmark says (/metrics gzipped, with the bearer token) and
// tells each fetch back: size, encoding, size unzipped, how old /metrics'
// values were, and a failure as such.
func TestFetcherProcess(t *testing.T) {
	var text bytes.Buffer
	text.WriteString("# a comment\nmailmon_metrics_rendered_timestamp_seconds 1700000000.5\n")
	text.WriteString(strings.Repeat("mailmon_up 1\n", 1000))
	var zipped bytes.Buffer
	z := gzip.NewWriter(&zipped)
	z.Write(text.Bytes())
	z.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			if r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("Accept-Encoding") != "gzip" {
				http.Error(w, "asked wrong", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(zipped.Bytes())
		case "/api/v1/monitors":
			http.Error(w, "no", http.StatusForbidden)
		default:
			http.Redirect(w, r, "/login", http.StatusSeeOther) // no web login here
		}
	}))
	defer srv.Close()

	f, err := startFetcher(srv.URL, "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if f.cmd.Process.Pid == os.Getpid() {
		t.Fatal("the fetcher is this process")
	}
	idx := map[string]int{}
	for i, n := range f.names {
		idx[n] = i
	}
	if len(f.names) != 3 {
		t.Fatalf("endpoints %q, want /metrics, the board and the API", f.names)
	}
	m := f.fetch(idx["/metrics"])
	if m.err != nil || m.bytes != int64(zipped.Len()) || m.encoding != "gzip" || m.unzipped != int64(text.Len()) || m.age <= 0 || m.took <= 0 {
		t.Errorf("/metrics: %+v, want %d bytes gzip, %d unzipped, an age and a time", m, zipped.Len(), text.Len())
	}
	if a := f.fetch(idx["GET /api/v1/monitors"]); a.err == nil || !strings.Contains(a.err.Error(), "HTTP 403") {
		t.Errorf("the API's 403: %+v, want it told as an error", a)
	}
	if b := f.fetch(idx["board /"]); b.err == nil || !strings.Contains(b.err.Error(), "HTTP 303") {
		t.Errorf("the board without a login: %+v, want HTTP 303", b)
	}
}
