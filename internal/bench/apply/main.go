// Command apply measures "mailmon apply -f" on generated files of 10,000,
// 50,000 and 100,000 monitors (applygen): seconds and peak resident memory
// of the first apply (everything created) and of a second one (nothing
// changed). "make bench-apply" runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/applygen"
	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
)

type run struct {
	seconds, cpu float64 // wall and CPU (user + system) seconds
	rssMiB       float64
}

type row struct {
	monitors    int
	fileMiB     float64
	first, then run
}

func main() {
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary")
	sizes := flag.String("monitors", "10000,50000,100000", "monitor counts to run")
	out := flag.String("out", "", "a Markdown file for the results (default: only printed)")
	flag.Parse()

	work, err := os.MkdirTemp("", "mailmon-bench-apply-")
	check(err)
	defer os.RemoveAll(work)
	var rows []row
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		r := measure(*bin, work, n)
		fmt.Printf("%d monitors (%.1f MiB): first apply %.1f s (%.1f s CPU), %.0f MiB peak RSS; again %.1f s (%.1f s CPU), %.0f MiB\n",
			r.monitors, r.fileMiB, r.first.seconds, r.first.cpu, r.first.rssMiB, r.then.seconds, r.then.cpu, r.then.rssMiB)
		rows = append(rows, r)
	}
	table := report(rows)
	fmt.Print("\n" + table)
	if *out != "" {
		check(os.WriteFile(*out, []byte(table), 0o644))
		fmt.Println("written to", *out)
	}
}

func measure(bin, work string, n int) row {
	dir := filepath.Join(work, strconv.Itoa(n))
	check(os.MkdirAll(dir, 0o700))
	cfg := filepath.Join(dir, "config.yaml")
	f, err := os.Create(cfg)
	check(err)
	check(applygen.Write(f, n))
	check(f.Close())
	fi, err := os.Stat(cfg)
	check(err)
	db := filepath.Join(dir, "mailmon.db")
	r := row{monitors: n, fileMiB: float64(fi.Size()) / (1 << 20)}
	r.first = applyOnce(bin, cfg, db)
	r.then = applyOnce(bin, cfg, db)
	return r
}

// applyOnce runs one apply; its peak RSS is the kernel's ru_maxrss.
func applyOnce(bin, cfg, db string) run {
	a, err := harness.Apply(bin, db, cfg, applygen.PasswordEnv+"=bench-password")
	check(err)
	return run{seconds: a.Wall.Seconds(), cpu: a.CPU, rssMiB: a.PeakRSSMiB}
}

func report(rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon apply, %s\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s.\n\n", procstat.Machine())
	b.WriteString("Generated files (applygen: ten monitors of five kinds to a device, depends_on, alerts, passwords from the environment), applied to a new SQLite database, then applied again unchanged.\n\n")
	b.WriteString("| monitors | file MiB | first apply s | CPU s | peak RSS MiB | again s | CPU s | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f | %.0f |\n", r.monitors, r.fileMiB,
			r.first.seconds, r.first.cpu, r.first.rssMiB, r.then.seconds, r.then.cpu, r.then.rssMiB)
	}
	return b.String()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-apply:", err)
		os.Exit(1)
	}
}
