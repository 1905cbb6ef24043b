// Package applygen writes large configuration files for the apply
// benchmarks: n monitors of every kind, ten to a device, each depending on
// its device's first monitor and notifying one of two alerts, the
// mailbox monitors with a password from $APPLYGEN_PW.
package applygen

import (
	"bufio"
	"fmt"
	"io"
)

// PasswordEnv is the variable the generated passwords are read from.
const PasswordEnv = "APPLYGEN_PW"

// PerDevice is the number of monitors on each device.
const PerDevice = 10

// Write writes a file of n monitors.
func Write(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, `alerts:
  - name: ops
    webhook: {url: "https://hooks.example.com/x", format: generic}
  - name: pager
    command: {argv: ["/usr/local/bin/page", "--urgent"], timeout: 10s}
devices:
`)
	for i := 0; i < n; i++ {
		d, k := i/PerDevice, i%PerDevice
		if k == 0 {
			fmt.Fprintf(bw, "  - name: mail%d\n    address: mail%d.example.com\n    monitors:\n", d, d)
		}
		alert := "ops"
		if k%2 == 1 {
			alert = "pager"
		}
		fmt.Fprintf(bw, "      - name: check %d\n", k)
		switch k % 5 {
		case 0:
			fmt.Fprintf(bw, "        type: tcp\n        port: 25\n        expect: \"220\"\n")
		case 1:
			fmt.Fprintf(bw, "        type: smtp\n        port: 587\n        tls: starttls\n        ehlo: monitor.example.com\n")
		case 2:
			fmt.Fprintf(bw, "        type: imap\n        port: 993\n        tls: implicit\n        user: probe%d@example.com\n        password: {env: %s}\n        mailbox: INBOX\n", d, PasswordEnv)
		case 3:
			fmt.Fprintf(bw, "        type: pop3\n        port: 995\n        tls: implicit\n        user: probe%d@example.com\n        password: {env: %s}\n        stat: true\n", d, PasswordEnv)
		case 4:
			fmt.Fprintf(bw, "        type: smtp\n        port: 25\n        timing: {max_duration: 10s, up_every: 2m, down_every: 30s, lost_every: 10m, warn_rtt: 2s}\n")
		}
		fmt.Fprintf(bw, "        notify: {failures_per_alert: 3, max_alerts: 5, alerts: [%s]}\n", alert)
		if k > 0 {
			fmt.Fprintf(bw, "        depends_on: [\"check 0\"]\n")
		}
	}
	return bw.Flush()
}
