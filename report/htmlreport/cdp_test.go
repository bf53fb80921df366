package htmlreport

// A minimal Chrome DevTools Protocol client, enough to load a page in
// headless Chromium, watch its console and network, evaluate a script and
// take a screenshot. Test-only.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chromiumFlags make headless Chromium quiet, offline and able to run as
// root in a container.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
	"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)`)

// browser is a running Chromium; stop it with close (registered as cleanup).
type browser struct {
	cmd    *exec.Cmd
	port   string
	stderr *lockedBuffer
}

// startChromium starts bin with a fresh profile in a temporary directory
// and waits for its DevTools endpoint.
func startChromium(t *testing.T, ctx context.Context, bin string) *browser {
	t.Helper()
	profile := t.TempDir()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile, "about:blank")
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	b := &browser{cmd: cmd, stderr: &lockedBuffer{}}
	t.Cleanup(b.close) // runs before the profile directory is removed

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			b.stderr.WriteString(line + "\n")
			if m := devtoolsURL.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[2]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	select {
	case b.port = <-found:
	case <-ctx.Done():
		t.Fatalf("chromium printed no DevTools endpoint: %v\nstderr:\n%s", ctx.Err(), b.stderr.String())
	}
	return b
}

// close ends Chromium's process group: SIGTERM, then SIGKILL after 5 s.
func (b *browser) close() {
	pgid := b.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
}

// page connects to the first page target (the about:blank tab).
func (b *browser) page(t *testing.T, ctx context.Context) *cdpConn {
	t.Helper()
	var targets []devtoolsTarget
	for len(targets) == 0 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+b.port+"/json/list", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("list DevTools targets: %v", err)
		}
		err = json.NewDecoder(resp.Body).Decode(&targets)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("list DevTools targets: %v", err)
		}
		targets = filterPages(targets)
		if len(targets) == 0 {
			select { // the first tab appears a moment after the endpoint
			case <-ctx.Done():
				t.Fatal("chromium has no page target")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, targets[0].WS, nil)
	if err != nil {
		t.Fatalf("connect to the page's DevTools socket: %v", err)
	}
	c := &cdpConn{conn: conn, pending: map[int64]chan cdpMessage{}, changed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { conn.Close() })
	return c
}

// devtoolsTarget is one entry of Chromium's /json/list.
type devtoolsTarget struct {
	Type string `json:"type"`
	WS   string `json:"webSocketDebuggerUrl"`
}

func filterPages(ts []devtoolsTarget) []devtoolsTarget {
	var out []devtoolsTarget
	for _, t := range ts {
		if t.Type == "page" && t.WS != "" {
			out = append(out, t)
		}
	}
	return out
}

// cdpMessage is a response (ID set) or an event (Method set).
type cdpMessage struct {
	ID     int64           `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type cdpConn struct {
	conn    *websocket.Conn
	writeMu sync.Mutex

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan cdpMessage
	events  []cdpMessage
	changed chan struct{} // closed and replaced when events grow
	readErr error
}

func (c *cdpConn) read() {
	for {
		var m cdpMessage
		if err := c.conn.ReadJSON(&m); err != nil {
			c.mu.Lock()
			c.readErr = err
			for _, ch := range c.pending {
				close(ch)
			}
			c.pending = map[int64]chan cdpMessage{}
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.pending[m.ID]; ok {
				ch <- m
				delete(c.pending, m.ID)
			}
		} else {
			c.events = append(c.events, m)
			close(c.changed)
			c.changed = make(chan struct{})
		}
		c.mu.Unlock()
	}
}

// call sends a command and decodes its result into out (may be nil).
func (c *cdpConn) call(ctx context.Context, method string, params, out any) error {
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return fmt.Errorf("%s: DevTools connection closed: %w", method, c.readErr)
	}
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()

	if params == nil {
		params = struct{}{}
	}
	c.writeMu.Lock()
	err := c.conn.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	c.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: DevTools connection closed", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	}
}

// waitEvent waits until an event named method has arrived (at any time
// since the connection opened).
func (c *cdpConn) waitEvent(ctx context.Context, method string) error {
	for {
		c.mu.Lock()
		for _, e := range c.events {
			if e.Method == method {
				c.mu.Unlock()
				return nil
			}
		}
		changed, err := c.changed, c.readErr
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", method, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		case <-changed:
		}
	}
}

// eventsNamed returns the events received so far with that method.
func (c *cdpConn) eventsNamed(method string) []cdpMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cdpMessage
	for _, e := range c.events {
		if e.Method == method {
			out = append(out, e)
		}
	}
	return out
}

// evaluate runs a JavaScript expression and decodes its JSON value.
func (c *cdpConn) evaluate(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := c.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return err
	}
	if res.Exception != nil {
		return errors.New("script threw: " + res.Exception.Text)
	}
	return json.Unmarshal(res.Result.Value, out)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// findChromium returns the browser binary, skipping the test when there is
// none, or failing it on CI (CI=true), where .ci/run installs it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "headless Chromium not found (install Debian's chromium package: apt-get install -y chromium)"
	if strings.EqualFold(os.Getenv("CI"), "true") {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg)
	return ""
}
