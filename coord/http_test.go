package coord

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

// These tests run the real HTTP stack over real sockets on 127.0.0.1.

// startServer starts a coordinator for shards shards on 127.0.0.1 and
// returns it with its http:// URL. edit, when not nil, adjusts the Server
// before it listens.
func startServer(t *testing.T, cfg ServerConfig, edit func(*Server)) (*Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Token == "" {
		cfg.Token = NewToken()
	}
	if cfg.ScenarioSHA256 == "" {
		cfg.ScenarioSHA256 = testSHA
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(s)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	return s, scheme + "://" + addr
}

func dial(t *testing.T, url, token string, idx, count int) *Client {
	t.Helper()
	c, err := Dial(t.Context(), ClientConfig{URL: url, Token: token, Register: reg(idx, count).Register})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// scriptedClock returns the given instants one per call.
type scriptedClock struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *scriptedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.times) == 0 {
		panic("scriptedClock: read more often than scripted")
	}
	t := c.times[0]
	c.times = c.times[1:]
	return t
}

// The shard's clock runs 5s ahead of the coordinator's. The coordinator
// always reads C; the shard's probes take 9, 3, 5, 3, 7, 8, 6, 4 ms. The
// quickest (the first 3ms one, sent at S+100ms) gives offset
// (S+100ms+1.5ms) − C = 5.1015s, shard minus coordinator; the epoch the
// shard receives is the coordinator's plus that.
func TestClockOffsetAndEpochOverHTTP(t *testing.T) {
	coordNow := time.Unix(1_800_000_000, 0)
	shardNow := coordNow.Add(5 * time.Second)
	rtts := []int{9, 3, 5, 3, 7, 8, 6, 4}
	clk := &scriptedClock{}
	for k, r := range rtts {
		sent := shardNow.Add(time.Duration(k) * 100 * time.Millisecond)
		clk.times = append(clk.times, sent, sent.Add(time.Duration(r)*time.Millisecond))
	}
	token := NewToken()
	s, url := startServer(t, ServerConfig{Token: token, Shards: 1, Now: func() time.Time { return coordNow }}, nil)
	c, err := Dial(t.Context(), ClientConfig{URL: url, Token: token, Register: reg(0, 1).Register, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantOffset := 5*time.Second + 100*time.Millisecond + 1500*time.Microsecond
	if c.ClockOffset() != wantOffset || c.RTT() != 3*time.Millisecond {
		t.Fatalf("client: offset %v rtt %v, want %v and 3ms", c.ClockOffset(), c.RTT(), wantOffset)
	}
	st := s.Shards()
	if len(st) != 1 || st[0].ClockOffset != wantOffset || st[0].RTT != 3*time.Millisecond {
		t.Fatalf("coordinator's view: %+v, want offset %v rtt 3ms", st, wantOffset)
	}
	epoch := coordNow.Add(10 * time.Second)
	s.SetEpoch(epoch)
	got, err := c.WaitStart(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := epoch.Add(wantOffset); !got.Equal(want) {
		t.Fatalf("epoch on the shard's clock %v, want %v (coordinator's %v plus the offset)", got, want, epoch)
	}
}

func TestWaitStartIsReleasedBySetEpoch(t *testing.T) {
	token := NewToken()
	polls := make(chan struct{}, 16)
	s, url := startServer(t, ServerConfig{Token: token, Shards: 2}, func(s *Server) {
		s.pollTimeout = 20 * time.Millisecond // the shard must poll again, and again
		s.onPoll = func() { polls <- struct{}{} }
	})
	c0, c1 := dial(t, url, token, 0, 2), dial(t, url, token, 1, 2)
	if err := s.WaitRegistered(t.Context()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		epoch time.Time
		err   error
	}
	done := make(chan result, 1)
	go func() {
		e, err := c0.WaitStart(t.Context())
		done <- result{e, err}
	}()
	<-polls
	<-polls // a second poll: the first timed out with no epoch and the shard asked again
	select {
	case r := <-done:
		t.Fatalf("WaitStart returned before SetEpoch: %+v", r)
	default:
	}
	epoch := time.Now().Add(time.Second).Truncate(time.Microsecond)
	s.SetEpoch(epoch)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Both processes share one clock: the converted epoch is within the
	// measured round trip of the coordinator's.
	if d := r.epoch.Sub(epoch).Abs(); d > c0.RTT() {
		t.Fatalf("epoch %v, coordinator's %v: %v apart, more than the RTT %v", r.epoch, epoch, d, c0.RTT())
	}
	// A WaitStart after SetEpoch returns at once, without a long poll.
	if _, err := c1.WaitStart(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-polls:
		t.Fatal("a WaitStart after SetEpoch long-polled")
	default:
	}
}

func TestWaitStartAfterStopIsAnError(t *testing.T) {
	token := NewToken()
	s, url := startServer(t, ServerConfig{Token: token, Shards: 1}, nil)
	c := dial(t, url, token, 0, 1)
	s.Stop("interrupted")
	_, err := c.WaitStart(t.Context())
	if err == nil || !strings.Contains(err.Error(), "stopped the run before it started: interrupted") {
		t.Fatalf("WaitStart after Stop: %v", err)
	}
}

func TestRegistrationRefusedWithTheCoordinatorsReason(t *testing.T) {
	token := NewToken()
	_, url := startServer(t, ServerConfig{Token: token, Shards: 2}, nil)
	first := reg(0, 2).Register
	if _, err := Dial(t.Context(), ClientConfig{URL: url, Token: token, Register: first}); err != nil {
		t.Fatal(err)
	}
	// The same process again: idempotent.
	if _, err := Dial(t.Context(), ClientConfig{URL: url, Token: token, Register: first}); err != nil {
		t.Fatalf("re-registering the same shard: %v", err)
	}
	dup := first
	dup.PID = 4242
	wrongSHA := reg(1, 2).Register
	wrongSHA.ScenarioSHA256 = "0123456789abcdef0123"
	for _, tc := range []struct {
		r    Register
		want string
	}{
		{dup, "409: shard 0 is already registered by pid 100 on h"},
		{reg(1, 4).Register, "409: this coordinator runs 2 shards, the shard says it is 1/4: start every shard with --shard I/2"},
		{wrongSHA, "409: shard 1 runs another scenario (sha256 0123456789ab…"},
	} {
		_, err := Dial(t.Context(), ClientConfig{URL: url, Token: token, Register: tc.r})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dial %+v: %v, want an error saying %q", tc.r, err, tc.want)
		}
	}
}

// Every route, known or not, answers a request without the token, or
// with another, 401 and the same few words, whatever the run's state.
func TestEveryEndpointNeedsTheToken(t *testing.T) {
	token := NewToken()
	s, url := startServer(t, ServerConfig{Token: token, Shards: 1}, nil)
	c := dial(t, url, token, 0, 1)
	s.SetEpoch(time.Now())
	if _, err := c.SendProgress(t.Context(), Progress{Seq: 1, Phase: "publish"}); err != nil {
		t.Fatal(err)
	}
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/clock", ""},
		{"POST", "/v1/register", `{"index":0,"count":1}`},
		{"GET", "/v1/start?index=0", ""},
		{"POST", "/v1/progress", `{"index":0,"seq":2}`},
		{"GET", "/v1/control?index=0", ""},
		{"POST", "/v1/final?index=0", `{}`},
		{"GET", "/v1/status", ""},
		{"GET", "/", ""},
		{"DELETE", "/v1/nothing", ""},
	}
	headers := map[string]string{
		"no token":      "",
		"another token": "Bearer " + NewToken(),
		"a prefix":      "Bearer " + token[:20],
		"basic scheme":  "Basic " + token,
	}
	var want []byte
	for _, rt := range routes {
		for name, h := range headers {
			req, _ := http.NewRequest(rt.method, url+rt.path, strings.NewReader(rt.body))
			if h != "" {
				req.Header.Set("Authorization", h)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: %d, want 401", rt.method, rt.path, name, resp.StatusCode)
			}
			if want == nil {
				want = body
			}
			if !bytes.Equal(body, want) || bytes.Contains(body, []byte(testSHA[:8])) || bytes.Contains(body, []byte("publish")) {
				t.Errorf("%s %s with %s: body %q, want the same refusal for all", rt.method, rt.path, name, body)
			}
		}
	}
	if got := s.Shards()[0].Last.Seq; got != 1 {
		t.Fatalf("a refused request changed the state: last seq %d", got)
	}
}

func TestDialWithAWrongTokenSaysHowToPassIt(t *testing.T) {
	_, url := startServer(t, ServerConfig{Shards: 1}, nil)
	wrong := NewToken()
	_, err := Dial(t.Context(), ClientConfig{URL: url, Token: wrong, Register: reg(0, 1).Register})
	if err == nil {
		t.Fatal("Dial with a wrong token succeeded")
	}
	for _, w := range []string{"refused the run token (401)", TokenEnv, "--token-file"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error %q quotes the token", err)
	}
}

func TestProgressUpdatesAndStop(t *testing.T) {
	token := NewToken()
	s, url := startServer(t, ServerConfig{Token: token, Shards: 2}, nil)
	c0, c1 := dial(t, url, token, 0, 2), dial(t, url, token, 1, 2)
	p := Progress{
		Index:     7, // the client sets its own index
		Seq:       1,
		ElapsedNs: int64(1500 * time.Millisecond),
		Totals:    report.Totals{Connects: 10, Due: 300, Sent: 299, Acked: 290, Late: 2},
		Hists:     map[string]string{"publish": "SGlzdG9ncmFt"},
		Phase:     "publish",
	}
	p.Totals.FailedBy[report.FailTimeout] = 3
	ctl, err := c1.SendProgress(t.Context(), p)
	if err != nil || ctl.Stop {
		t.Fatalf("SendProgress: %+v, %v", ctl, err)
	}
	got := <-s.Updates()
	if got.Index != 1 || got.Totals != p.Totals || got.Hists["publish"] != "SGlzdG9ncmFt" || got.ElapsedNs != p.ElapsedNs || got.Phase != "publish" {
		t.Fatalf("update %+v, want %+v from shard 1", got, p)
	}
	s.Stop("abort_on_fail: publish.p99 > 200ms")
	for _, c := range []*Client{c0, c1} {
		ctl, err := c.SendProgress(t.Context(), Progress{Seq: 2})
		if err != nil || !ctl.Stop || ctl.Reason != "abort_on_fail: publish.p99 > 200ms" {
			t.Fatalf("after Stop: %+v, %v", ctl, err)
		}
		if ctl, err := c.PollControl(t.Context()); err != nil || !ctl.Stop {
			t.Fatalf("poll after Stop: %+v, %v", ctl, err)
		}
	}
}

func TestFinalSummaryRoundTrip(t *testing.T) {
	token := NewToken()
	s, url := startServer(t, ServerConfig{Token: token, Shards: 2}, nil)
	shards, _ := reporttest.Shards(2, 0)
	for i, sum := range shards {
		c := dial(t, url, token, i, 2)
		if err := c.SendFinal(t.Context(), sum); err != nil {
			t.Fatal(err)
		}
	}
	finals, missing := s.WaitFinals(t.Context(), nil)
	if len(missing) != 0 {
		t.Fatalf("missing %v", missing)
	}
	for i, sum := range shards {
		var want, got bytes.Buffer
		report.WriteJSON(&want, sum)
		report.WriteJSON(&got, finals[i])
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Fatalf("shard %d: the summary received differs from the one sent", i)
		}
	}
	if _, err := report.Merge(shards); err != nil {
		t.Fatalf("the finals received do not merge: %v", err)
	}
}

// failingFront answers 503 to the first failures requests for /v1/final
// and passes everything else to the coordinator's handler.
func failingFront(t *testing.T, s *Server, failures int64) (url string, hits *atomic.Int64) {
	hits = new(atomic.Int64)
	h := s.handler()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/final" && hits.Add(1) <= failures {
			io.Copy(io.Discard, r.Body)
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL, hits
}

func TestSendFinalRetries(t *testing.T) {
	token := NewToken()
	shards, _ := reporttest.Shards(1, 0)
	t.Run("succeeds after two 503s", func(t *testing.T) {
		s, _ := startServer(t, ServerConfig{Token: token, Shards: 1}, nil)
		url, hits := failingFront(t, s, 2)
		c := dial(t, url, token, 0, 1)
		c.retryWait = func(int) time.Duration { return time.Millisecond }
		if err := c.SendFinal(t.Context(), shards[0]); err != nil {
			t.Fatal(err)
		}
		if hits.Load() != 3 {
			t.Fatalf("%d attempts, want 3", hits.Load())
		}
		if st := s.Shards(); st[0].Final == nil {
			t.Fatal("no final recorded")
		}
	})
	t.Run("gives up after the last attempt", func(t *testing.T) {
		s, _ := startServer(t, ServerConfig{Token: token, Shards: 1}, nil)
		url, hits := failingFront(t, s, 100)
		c := dial(t, url, token, 0, 1)
		c.retryWait = func(int) time.Duration { return time.Millisecond }
		err := c.SendFinal(t.Context(), shards[0])
		if err == nil || !strings.Contains(err.Error(), "503") || hits.Load() != attempts {
			t.Fatalf("err %v after %d attempts, want a 503 error after %d", err, hits.Load(), attempts)
		}
	})
	t.Run("a refusal is not retried", func(t *testing.T) {
		s, _ := startServer(t, ServerConfig{Token: token, Shards: 2}, nil)
		url, hits := failingFront(t, s, 0)
		c := dial(t, url, token, 0, 2)
		other, _ := reporttest.Shards(2, 0)
		err := c.SendFinal(t.Context(), other[1]) // shard 1's summary from shard 0
		if err == nil || !strings.Contains(err.Error(), "400") || hits.Load() != 1 {
			t.Fatalf("err %v after %d attempts, want one 400", err, hits.Load())
		}
	})
}

func TestBodiesAreLimited(t *testing.T) {
	token := NewToken()
	_, url := startServer(t, ServerConfig{Token: token, Shards: 1}, nil)
	dial(t, url, token, 0, 1)
	big := `{"index":0,"seq":1,"phase":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	req, _ := http.NewRequest("POST", url+"/v1/progress", strings.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a %d-byte progress: %d, want 413", len(big), resp.StatusCode)
	}
}

func TestOverTLS(t *testing.T) {
	ca, err := pki.NewCA("fleetbench coordinator test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServer(time.Hour, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	token := NewToken()
	s, url := startServer(t, ServerConfig{Token: token, Shards: 1, TLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}}, nil)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("url %s", url)
	}
	cfg := ClientConfig{URL: url, Token: token, Register: reg(0, 1).Register}

	cfg.TLS = &tls.Config{RootCAs: ca.Pool()}
	c, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Dial trusting the CA: %v", err)
	}
	defer c.Close()
	s.SetEpoch(time.Now())
	if _, err := c.WaitStart(t.Context()); err != nil {
		t.Fatal(err)
	}

	cfg.TLS = &tls.Config{} // the system's roots: not our CA
	_, err = Dial(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Dial not trusting the CA: %v, want a certificate error", err)
	}
	if transient(err) {
		t.Errorf("a refused certificate counts as transient (retried): %v", err)
	}
	plain := cfg
	plain.TLS, plain.URL = nil, "http://"+strings.TrimPrefix(url, "https://")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := Dial(ctx, plain); err == nil {
		t.Fatal("plain HTTP to a TLS coordinator succeeded")
	}
}
