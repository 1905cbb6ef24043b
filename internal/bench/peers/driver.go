package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// driver GETs one URL of a prober over kept-alive HTTP/1.1 connections,
// one per worker at most, as cheaply as it can: the request is built once
// and the response parsed by http.ReadResponse. The harness also runs the
// target farm, so whatever the driver spends is taken from the servers;
// net/http's Transport (a pool and two goroutines per connection) cost it
// about 0.18 ms of CPU per check, 7% of a STARTTLS check's whole cost.
// The HTTP-driven tools (mailmon, blackbox_exporter) share this driver.
//
// With client set (-driver net/http, the default) the same GETs go through
// net/http's Client instead, kept alive, one idle connection per worker:
// how Prometheus drives a prober, at the driver's extra CPU.
type driver struct {
	addr string // host:port
	req  []byte
	idle chan *driverConn

	client *http.Client
	url    string
	header http.Header
}

type driverConn struct {
	c    net.Conn
	br   *bufio.Reader
	body bytes.Buffer
}

// newDriver drives base+path (base is http://host:port) with the header.
func newDriver(base, path string, header http.Header, workers int) *driver {
	addr := strings.TrimPrefix(base, "http://")
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, addr)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return &driver{addr: addr, req: []byte(b.String()), idle: make(chan *driverConn, workers)}
}

// newHTTPDriver drives base+path through a net/http Client that keeps up
// to workers connections alive, as Prometheus's scrape client does.
func newHTTPDriver(base, path string, header http.Header, workers int) *driver {
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, IdleConnTimeout: time.Minute,
		DisableCompression: true, ResponseHeaderTimeout: 10 * time.Second}
	return &driver{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, url: base + path, header: header,
		idle: make(chan *driverConn, workers)}
}

// getHTTP is get through the Client: the body is read whole (capped), so
// that the connection goes back to the Client's pool.
func (d *driver) getHTTP() (*driverConn, int, error) {
	req, err := http.NewRequest("GET", d.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header = d.header
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	dc := &driverConn{}
	if err := dc.readBody(resp.Body); err != nil {
		return nil, 0, err
	}
	return dc, resp.StatusCode, nil
}

// readBody reads a response's body into dc.body, up to 1 MiB.
func (dc *driverConn) readBody(body io.Reader) error {
	dc.body.Reset()
	_, err := dc.body.ReadFrom(io.LimitReader(body, 1<<20))
	if err == nil && dc.body.Len() == 1<<20 {
		err = fmt.Errorf("more than 1 MiB of response")
	}
	return err
}

// get sends the request and returns the response's status and body, valid
// until the connection's next use (given back with put).
func (d *driver) get() (*driverConn, int, error) {
	if d.client != nil {
		return d.getHTTP()
	}
	var dc *driverConn
	select {
	case dc = <-d.idle:
	default:
		c, err := net.DialTimeout("tcp", d.addr, 5*time.Second)
		if err != nil {
			return nil, 0, err
		}
		dc = &driverConn{c: c, br: bufio.NewReader(c)}
	}
	dc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := dc.c.Write(d.req); err != nil {
		dc.c.Close()
		return nil, 0, err
	}
	resp, err := http.ReadResponse(dc.br, nil)
	if err != nil {
		dc.c.Close()
		return nil, 0, err
	}
	err = dc.readBody(resp.Body)
	resp.Body.Close()
	if err != nil {
		dc.c.Close()
		return nil, 0, err
	}
	if resp.Close {
		dc.c.Close()
		dc.c = nil
	}
	return dc, resp.StatusCode, nil
}

// put gives a connection back for the next request.
func (d *driver) put(dc *driverConn) {
	if dc.c == nil {
		return
	}
	select {
	case d.idle <- dc:
	default:
		dc.c.Close()
	}
}

// close closes the idle connections.
func (d *driver) close() {
	if d.client != nil {
		d.client.CloseIdleConnections()
		return
	}
	for {
		select {
		case dc := <-d.idle:
			dc.c.Close()
		default:
			return
		}
	}
}
