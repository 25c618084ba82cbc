package main

import (
	"net"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// freePortCmd sets an environment variable to a port of 127.0.0.1 that is
// free for both TCP and UDP, for a listener the script starts (a syslog
// source listens on one port with both):
//
//	freeport PORT
func freePortCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		ts.Setenv(args[0], strconv.Itoa(port))
		return
	}
	ts.Fatalf("freeport: no port free for both TCP and UDP")
}
