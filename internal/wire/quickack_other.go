//go:build !linux

package wire

import "net"

func withQuickAck(c net.Conn) net.Conn { return c }

func quickAckFromNow(net.Conn) {}
