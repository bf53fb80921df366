package run

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/confirm"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// The embedded hub's service identity, used by a `confirm: {type: mqtt}`
// consumer that names no broker of its own.
const (
	hubServiceUser   = "fleetbench-service"
	hubServiceSecret = "fleetbench internal: embedded hub service password" // a name no environment has
)

// confirmer runs the service-side consumer of one run.
type confirmer struct {
	src     confirm.Source
	matcher *confirm.Matcher
	cancel  context.CancelFunc
	done    chan error

	stopLag chan struct{}
	lagDone chan struct{}
	maxLag  int64 // most messages sent but not yet confirmed
	samples []confirmSample

	// The e2e interval log: one histogram a second (by time of receipt),
	// taken from the matcher by the lag watcher and once more at finish.
	since   func() time.Duration
	ivLog   *report.IntervalLog
	ivHist  *hdrhistogram.Histogram
	ivStart time.Duration
}

// takeInterval closes the current e2e interval at now.
func (cf *confirmer) takeInterval(now time.Duration) {
	cf.matcher.TakeInterval(cf.ivHist)
	_ = cf.ivLog.Add(cf.ivStart, now, cf.ivHist) // a failure sticks; Intervals reports it
	cf.ivHist.Reset()
	cf.ivStart = now
}

// confirmSample is the matcher's running confirmed count at one moment.
type confirmSample struct {
	at        time.Duration // since the fleet's start
	confirmed int64
}

// fillSeries spreads the sampled confirmations over the time series'
// intervals (each interval gets those confirmed by its end minus those by
// its start, read from the last sample at or before each instant).
func (cf *confirmer) fillSeries(s *report.Summary) {
	at := func(t time.Duration) int64 {
		i := sort.Search(len(cf.samples), func(i int) bool { return cf.samples[i].at > t })
		if i == 0 {
			return 0
		}
		return cf.samples[i-1].confirmed
	}
	for i := range s.Series {
		pt := &s.Series[i]
		end := time.Duration(pt.TMs * float64(time.Millisecond))
		start := end - time.Duration(pt.IntervalMs*float64(time.Millisecond))
		pt.Confirmed = at(end) - at(start)
	}
}

// watchLag samples how far the consumer is behind the devices (messages
// sent, as sent reads them, but not yet confirmed) until finish: a
// consumer that cannot keep up shows as growing lag, not as silent loss.
// since is the time since the run's start (the epoch at a coordinator).
func (cf *confirmer) watchLag(sent func() int64, since func() time.Duration) {
	cf.stopLag, cf.lagDone = make(chan struct{}), make(chan struct{})
	cf.since, cf.ivStart = since, since()
	cf.ivLog, cf.ivHist = report.NewIntervalLog(0), report.NewLatencyHistogram(0)
	go func() {
		defer close(cf.lagDone)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-cf.stopLag:
				return
			case <-t.C:
				now := since()
				confirmed := int64(cf.matcher.Counts().Confirmed)
				cf.maxLag = max(cf.maxLag, sent()-confirmed)
				cf.samples = append(cf.samples, confirmSample{now, confirmed})
				if now.Truncate(time.Second) > cf.ivStart.Truncate(time.Second) {
					cf.takeInterval(now) // on whole seconds of the run, like the recorder's
				}
			}
		}
	}()
}

// newServicePassword makes the embedded hub's service password for this run.
func newServicePassword() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startConfirm connects and attaches the consumer before any device
// publishes, so that no message can pass before it listens.
func (r *runner) startConfirm(ctx context.Context, run uint32) (*confirmer, error) {
	sc := r.sc
	c := *sc.Confirm
	secret := r.env.LookupEnv
	if r.hub != nil && c.Type == scenario.ConfirmMQTT && c.URL == "" {
		c.URL = "mqtts://127.0.0.1:" + strconv.Itoa(r.hub.Port())
		c.CAFile = r.hub.CAFile()
		c.ServerName = "127.0.0.1"
		c.Username = hubServiceUser
		c.PasswordEnv, c.PasswordFile = hubServiceSecret, ""
		secret = func(name string) (string, bool) {
			if name == hubServiceSecret {
				return r.servicePassword, true
			}
			return r.env.LookupEnv(name)
		}
	}
	deps := confirm.Deps{
		Secret: secret, Start: time.Now(), ClientID: "fleetbench-confirm",
		CAPool: func(file string) (*x509.CertPool, error) {
			pem, err := r.env.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("confirm.ca_file: %w", err)
			}
			p := x509.NewCertPool()
			if !p.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("confirm.ca_file: %s holds no PEM certificate", file)
			}
			return p, nil
		},
	}
	src, err := confirm.New(&c, deps)
	if err != nil {
		return nil, err
	}
	cf := &confirmer{
		src: src, done: make(chan error, 1),
		matcher: confirm.NewMatcher(confirm.MatcherConfig{
			Run: run, Devices: sc.Devices.Count, FirstIndex: sc.Devices.FirstIndex,
			Start: deps.Start, ListLost: c.ListLost,
		}),
	}
	cctx, cancel := context.WithCancel(context.Background())
	cf.cancel = cancel
	go func() { cf.done <- src.Run(cctx, cf.matcher.Observe) }()
	attach := time.NewTimer(30 * time.Second)
	defer attach.Stop()
	select {
	case <-src.Ready():
		return cf, nil
	case err := <-cf.done:
		cancel()
		if err == nil {
			err = errors.New("the consumer stopped before attaching")
		}
		return nil, fmt.Errorf("confirm (%s): %w", c.Type, err)
	case <-attach.C:
		cancel()
		return nil, fmt.Errorf("confirm (%s): not attached after 30 s (last error: %s)", c.Type, src.Stats().LastError)
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
}

// finish waits until every sent message is confirmed or the deadline
// passes, stops the consumer and puts its verdict in the summary. sentBy
// and idOf give, for a fleet position (0 ≤ slot < devices.count), how
// many messages that device sent and its id: the fleet's own in one
// process, every shard's sent counts at a coordinator.
func (cf *confirmer) finish(sentBy func(slot int) uint64, idOf func(slot int) string, sc *scenario.Scenario, deadline time.Time, s *report.Summary) error {
	t := time.NewTicker(10 * time.Millisecond)
	for time.Now().Before(deadline) && int64(cf.matcher.Counts().Confirmed) < s.Publish.Sent {
		<-t.C
	}
	t.Stop()
	if cf.stopLag != nil {
		close(cf.stopLag)
		<-cf.lagDone
		cf.fillSeries(s)
	}
	cf.cancel()
	select {
	case <-cf.done:
	case <-time.After(5 * time.Second): // a consumer that will not close is not waited for
	}
	res := cf.matcher.Finish(func(device int) uint64 {
		slot := device - sc.Devices.FirstIndex
		if slot < 0 || slot >= sc.Devices.Count {
			return 0
		}
		return sentBy(slot)
	})
	st := cf.src.Stats()
	d := report.DeliveryStats{
		Confirmed: int64(res.Confirmed), Lost: int64(res.Lost), Duplicates: int64(res.Duplicates),
		Reordered: int64(res.Reordered), Foreign: int64(res.Foreign),
		ConsumerReconnects: int64(st.Reconnects), MaxLagMessages: cf.maxLag,
	}
	if s.Publish.TargetRate > 0 { // time behind, estimated at the mean offered rate
		d.MaxLagMs = float64(cf.maxLag) / s.Publish.TargetRate * 1000
	}
	for _, l := range res.FirstLost {
		d.FirstLost = append(d.FirstLost, report.LostMessage{Device: idOf(l.Device - sc.Devices.FirstIndex), Seq: l.Seq})
	}
	var d2h = res.DeviceToHub
	if d2h != nil && d2h.TotalCount() == 0 {
		d2h = nil
	}
	if err := s.SetDelivery(d, res.E2E, d2h); err != nil {
		return err
	}
	if cf.ivLog != nil {
		cf.takeInterval(cf.since()) // what arrived since the last tick, up to Finish
		ivs, err := cf.ivLog.Intervals()
		if err != nil {
			return err
		}
		s.SetIntervals(report.HistE2E, ivs)
	}
	if st.LastError != "" {
		s.Errors = append(s.Errors, "confirm: "+st.LastError)
	}
	return nil
}
