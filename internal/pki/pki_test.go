package pki

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// A server certificate issued by the CA is accepted by a client that trusts
// the CA, and refused by one that trusts another CA.
func TestServerCertVerifies(t *testing.T) {
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServer(time.Hour, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("trusted CA refused: %v", err)
	}
	c.Close()
	if c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: other.Pool(), ServerName: "127.0.0.1"}); err == nil {
		c.Close()
		t.Fatal("a client trusting another CA accepted the certificate")
	}
}
