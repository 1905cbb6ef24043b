package config

import (
	"strings"
	"testing"
)

// TestPingMonitor: a ping monitor needs only its device's address; a port
// or TLS mode on it is an error naming the field; it can be a parent.
func TestPingMonitor(t *testing.T) {
	f, err := Parse("ping.yaml", []byte(`devices:
  - name: mail1
    address: mail1.example.com
    monitors:
      - name: Ping
        type: ping
      - name: SMTP
        type: smtp
        depends_on: [Ping]
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := f.Devices[0].Monitors[0].ProbeConfig("mail1.example.com"); cfg.Type != "ping" || cfg.Port != 0 || cfg.Host != "mail1.example.com" {
		t.Errorf("probe config: %+v", cfg)
	}
	_, err = Parse("bad.yaml", []byte(`devices:
  - name: mail1
    address: mail1.example.com
    monitors:
      - name: Ping
        type: ping
        port: 7
        tls: implicit
`))
	for _, want := range []string{
		"bad.yaml:7:9: devices[0].monitors[0].port: a ping has no port",
		"bad.yaml:8:9: devices[0].monitors[0].tls: a ping knows no TLS",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}
