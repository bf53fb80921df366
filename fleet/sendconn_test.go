package fleet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// tcpPair returns both ends of a real TCP connection on 127.0.0.1.
func tcpPair(t *testing.T) (client *net.TCPConn, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); server.Close() })
	return c.(*net.TCPConn), server
}

// A peer that stops reading fills the socket; a non-waiting write must then
// return at once, keep the rest, and a later waiting write must deliver
// every byte in order.
func TestSendConnNeverWaitsAndKeepsOrder(t *testing.T) {
	client, server := tcpPair(t)
	client.SetWriteBuffer(16 << 10)
	if sc, ok := server.(*net.TCPConn); ok {
		sc.SetReadBuffer(16 << 10)
	}
	c, err := newSendConn(client)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	chunk := make([]byte, 1000)
	c.noWait.Store(true)
	for i := 0; c.clear(); i++ {
		if i > 100000 {
			t.Fatal("the socket never filled up although the peer reads nothing")
		}
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		n, err := c.Write(chunk)
		if err != nil || n != len(chunk) {
			t.Fatalf("non-waiting write: %d, %v", n, err)
		}
		want.Write(chunk)
	}
	// More writes while bytes are queued go behind them.
	tail := []byte("after the backlog")
	c.Write(tail)
	want.Write(tail)
	c.noWait.Store(false)

	want.WriteString("last")
	total := int64(want.Len())
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(server, total))
		got <- b
	}()
	if _, err := c.Write([]byte("last")); err != nil { // waits; flushes the backlog first
		t.Fatal(err)
	}
	if !c.clear() {
		t.Fatal("backlog left after a waiting write")
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("peer got %d bytes, want %d (or out of order)", len(b), want.Len())
	}
}

// flush writes exactly the backlog, and a write error is reported, not
// swallowed into the backlog.
func TestSendConnFlushAndErrors(t *testing.T) {
	client, server := tcpPair(t)
	c, err := newSendConn(client)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.flush(); err != nil {
		t.Fatalf("flushing nothing: %v", err)
	}
	c.noWait.Store(true)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	c.Close()
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("a non-waiting write on a closed connection succeeded")
	}
	if !c.clear() {
		t.Fatal("a failed write was queued")
	}
}

// The pacer's write path must not allocate per message.
func BenchmarkSendConnWriteNow(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	c, err := newSendConn(client.(*net.TCPConn))
	if err != nil {
		b.Fatal(err)
	}
	c.noWait.Store(true)
	msg := make([]byte, 300)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// record is a TLS record of the given type with n body bytes.
func record(typ byte, n int) []byte {
	r := []byte{typ, 3, 3, byte(n >> 8), byte(n)}
	return append(r, make([]byte, n)...)
}

// The watch of a handshake's records finds TLS 1.3 by its first
// application_data record, however the reads split the records, and never
// in a TLS 1.2 handshake (handshake records, change_cipher_spec, and a body
// whose bytes happen to read as a type-23 header).
func TestScanRecordsFindsTLS13(t *testing.T) {
	tls12 := slices.Concat(record(22, 300), record(22, 9), record(20, 1), record(22, 40))
	copy(tls12[5:], []byte{23, 3, 3, 0, 1}) // inside a body, not a header
	tls13 := slices.Concat(record(22, 90), record(20, 1), record(23, 700), record(23, 53))
	at := len(record(22, 90)) + len(record(20, 1)) + 5 // where the first type-23 header is complete
	for _, chunk := range []int{1, 2, 3, 5, 7, 64, 4096} {
		var c sendConn
		for p := tls12; len(p) > 0; p = p[min(chunk, len(p)):] {
			c.scanRecords(p[:min(chunk, len(p))])
		}
		if c.tls13 {
			t.Errorf("chunks of %d: TLS 1.2 records taken for TLS 1.3", chunk)
		}
		c = sendConn{}
		for off := 0; off < len(tls13); off += chunk {
			end := min(off+chunk, len(tls13))
			c.scanRecords(tls13[off:end])
			if want := end >= at; c.tls13 != want {
				t.Fatalf("chunks of %d, after %d bytes: tls13 = %v, want %v", chunk, end, c.tls13, want)
			}
		}
	}
}

// Reads and waiting writes made through the raw poller path must behave as
// net's own: data, deadlines as timeouts, the peer's close as io.EOF, a
// reset as the errno, each classified as the connect code expects.
func TestSendConnReadsAndWaitsAsNetDoes(t *testing.T) {
	client, server := tcpPair(t)
	client.SetWriteBuffer(16 << 10)
	c, err := newSendConn(client)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := server.Write([]byte("connack")); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "connack" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}

	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || classify(err) != report.FailTimeout {
		t.Fatalf("read past the deadline: %v (classified %v)", err, classify(err))
	}
	if !strings.HasPrefix(err.Error(), "read tcp ") {
		t.Fatalf("read error %q does not read as net's", err)
	}
	c.SetReadDeadline(time.Time{})

	// A waiting write to a peer that reads nothing ends at its deadline,
	// having reported what it wrote.
	big := make([]byte, 64<<20) // more than the socket and the peer's window hold
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := c.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n >= len(big) {
		t.Fatalf("waiting write to a full socket: wrote %d of %d, %v", n, len(big), err)
	}
	c.SetWriteDeadline(time.Time{})

	server.(*net.TCPConn).SetLinger(0)
	server.Close() // a reset: the peer had unread bytes
	for {
		if _, err = c.Read(buf); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) || classify(err) != report.FailNetwork {
		t.Fatalf("read after the peer's reset: %v (classified %v)", err, classify(err))
	}

	a, b := tcpPair(t)
	ca, err := newSendConn(a)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if n, err := ca.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer's close: %d, %v; want io.EOF", n, err)
	}
	ca.Close()
	if _, err := ca.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after our close: %v; want net.ErrClosed", err)
	}
}
