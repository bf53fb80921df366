package coord

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// ClientConfig configures a shard's side of the channel.
type ClientConfig struct {
	URL      string      // the coordinator, http(s)://host:port
	Token    string      // the run's token (TokenFromEnv)
	TLS      *tls.Config // for an https coordinator: its roots (RootCAs); nil: the system's
	Register Register
	Now      func() time.Time // this process's clock; nil: time.Now
}

// Client is a shard's end, registered with its coordinator. Its methods
// are safe for concurrent use.
type Client struct {
	base   string // URL without a trailing slash
	token  string
	index  int
	now    func() time.Time
	http   *http.Client
	offset time.Duration // shard clock minus coordinator clock
	rtt    time.Duration
	stamp  uint32 // the coordinator's run stamp; 0: it gave none
	// retryWait is the wait before retry n (1-based) of a request that
	// failed transiently.
	retryWait func(n int) time.Duration
}

// attempts is how many times a request that fails transiently (no answer,
// 5xx, 429) is tried in all.
const attempts = 4

// backoffWait doubles from 250ms: 250ms, 500ms, 1s.
func backoffWait(n int) time.Duration { return 250 * time.Millisecond << (n - 1) }

// Dial measures the clock offset to the coordinator at cfg.URL (several
// round trips, keeping the quickest) and registers the shard. Its error
// says what to fix: a refused token, another scenario, a duplicate index.
// Requests go straight to the coordinator, never through a proxy.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("coordinator URL %q: want http://HOST:PORT or https://HOST:PORT", cfg.URL)
	}
	if cfg.TLS != nil && u.Scheme == "http" {
		return nil, fmt.Errorf("coordinator URL %q is plain http but TLS settings were given: use https://", cfg.URL)
	}
	if err := checkToken(cfg.Token); err != nil {
		return nil, fmt.Errorf("run token %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.ForceAttemptHTTP2 = false
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
	}
	c := &Client{
		base:      u.Scheme + "://" + u.Host,
		token:     cfg.Token,
		index:     cfg.Register.Index,
		now:       now,
		http:      &http.Client{Transport: tr},
		retryWait: backoffWait,
	}
	if err := c.measureClock(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("register shard %d/%d: %w", cfg.Register.Index, cfg.Register.Count, err)
	}
	req := registerRequest{Register: cfg.Register, ClockOffsetNs: int64(c.offset), RTTNs: int64(c.rtt)}
	var rep registerReply
	if err := c.call(ctx, http.MethodPost, "/v1/register", req, &rep); err != nil {
		c.Close()
		return nil, fmt.Errorf("register shard %d/%d: %w", cfg.Register.Index, cfg.Register.Count, err)
	}
	c.stamp = rep.RunStamp
	return c, nil
}

// measureClock makes clockProbes round trips and keeps the quickest.
func (c *Client) measureClock(ctx context.Context) error {
	samples := make([]clockSample, 0, clockProbes)
	for range clockProbes {
		var rep clockReply
		sent := c.now()
		if err := c.call(ctx, http.MethodPost, "/v1/clock", nil, &rep); err != nil {
			return err
		}
		received := c.now()
		samples = append(samples, clockSample{sent: sent, coord: time.Unix(0, rep.CoordinatorUnixNs), received: received})
	}
	best := bestSample(samples)
	c.offset, c.rtt = best.offset(), best.rtt()
	return nil
}

// ClockOffset is this process's clock minus the coordinator's, measured
// when it registered (error at most RTT()/2).
func (c *Client) ClockOffset() time.Duration { return c.offset }

// RTT is the round trip of the probe ClockOffset came from.
func (c *Client) RTT() time.Duration { return c.rtt }

// RunStamp is the run id the coordinator handed out at registration for
// every device's payload stamp; ok is false when it gave none (a
// coordinator older than the field, or one that runs no end-to-end
// consumer): the shard then picks its own.
func (c *Client) RunStamp() (stamp uint32, ok bool) { return c.stamp, c.stamp != 0 }

// WaitStart waits (long-polling) for the coordinator's epoch and returns
// it on THIS process's clock (the coordinator's epoch plus ClockOffset).
// It returns an error if the coordinator stops the run before it starts,
// or ctx ends.
func (c *Client) WaitStart(ctx context.Context) (epoch time.Time, err error) {
	path := "/v1/start?index=" + strconv.Itoa(c.index)
	for {
		var rep startReply
		if err := c.call(ctx, http.MethodGet, path, nil, &rep); err != nil {
			return time.Time{}, fmt.Errorf("wait for the coordinator's start: %w", err)
		}
		switch {
		case rep.Started:
			return toShardClock(time.Unix(0, rep.EpochUnixNs), c.offset), nil
		case rep.Stop:
			return time.Time{}, fmt.Errorf("the coordinator stopped the run before it started: %s", rep.Reason)
		}
	}
}

// SendProgress sends p (its Index set to this shard's) and returns the
// coordinator's orders.
func (c *Client) SendProgress(ctx context.Context, p Progress) (Control, error) {
	p.Index = c.index
	var ctl Control
	if err := c.call(ctx, http.MethodPost, "/v1/progress", p, &ctl); err != nil {
		return Control{}, fmt.Errorf("send progress: %w", err)
	}
	return ctl, nil
}

// PollControl asks for the coordinator's orders without sending progress.
func (c *Client) PollControl(ctx context.Context) (Control, error) {
	var ctl Control
	if err := c.call(ctx, http.MethodGet, "/v1/control?index="+strconv.Itoa(c.index), nil, &ctl); err != nil {
		return Control{}, fmt.Errorf("poll the coordinator: %w", err)
	}
	return ctl, nil
}

// SendFinal uploads the shard's final summary (as summary.json; WriteJSON
// sets s.Schema when empty), retrying with back-off when the coordinator
// does not answer or answers 5xx.
func (c *Client) SendFinal(ctx context.Context, s *report.Summary) error {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, s); err != nil {
		return err
	}
	if err := c.call(ctx, http.MethodPost, "/v1/final?index="+strconv.Itoa(c.index), rawJSON(buf.Bytes()), nil); err != nil {
		return fmt.Errorf("send the final summary: %w", err)
	}
	return nil
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// rawJSON is a body already encoded.
type rawJSON []byte

// call makes one request (body encoded as JSON unless nil or rawJSON),
// decodes a 200 answer into out (when not nil), and retries transient
// failures up to attempts times in all.
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case rawJSON:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return err
		}
	}
	for n := 1; ; n++ {
		err := c.once(ctx, method, path, payload, out)
		if err == nil || !transient(err) || n == attempts || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(c.retryWait(n))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// statusError is a coordinator's answer other than 2xx.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// transient reports whether a failed request may succeed if repeated: an
// answer of 5xx or 429, or none at all, unless the coordinator's
// certificate was refused (no retry will change that) or the context
// ended.
func transient(err error) bool {
	if se, ok := errors.AsType[*statusError](err); ok {
		return se.status >= 500 || se.status == http.StatusTooManyRequests
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return false
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return false // not TLS at the other end
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any) error {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("coordinator %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return &statusError{status: resp.StatusCode, msg: fmt.Sprintf("coordinator %s refused the run token (401): %s", c.base, howToPassToken)}
	case resp.StatusCode/100 != 2:
		var er errorReply
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		msg := string(bytes.TrimSpace(data))
		if json.Unmarshal(data, &er) == nil && er.Error != "" {
			msg = er.Error
		}
		return &statusError{status: resp.StatusCode, msg: fmt.Sprintf("coordinator %s answered %d: %s", c.base, resp.StatusCode, msg)}
	case out != nil && resp.StatusCode != http.StatusNoContent: // 204: nothing to decode, out keeps its zero value
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxBodyBytes)).Decode(out); err != nil {
			return fmt.Errorf("coordinator %s: unreadable answer to %s %s: %w", c.base, method, path, err)
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return nil
}
