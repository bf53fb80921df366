package confirm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/go-amqp"
	"golang.org/x/sync/errgroup"

	"github.com/fleetbench/fleetbench/scenario"
)

// DefaultCredit is the AMQP link credit when the scenario sets none.
const DefaultCredit = 500

// closeTimeout bounds closing a receiver: RabbitMQ 3.10 answers a detach
// with a non-closing detach, and Receiver.Close would hang.
const closeTimeout = 250 * time.Millisecond

// dialTimeout bounds connecting and attaching.
const dialTimeout = 15 * time.Second

// amqpConsumer receives from one or more AMQP 1.0 source addresses over
// one connection, reconnecting with back-off. It backs both the amqp and
// the aliyun sources.
type amqpConsumer struct {
	name    string // for errors: "amqp consumer for 127.0.0.1:5672"
	dial    func(ctx context.Context) (*amqp.Conn, error)
	sources []string
	credit  int32
	// accept turns a message into (payload, enqueued); ok false drops it
	// (aliyun: a redelivery). nil means amqpPayload.
	accept func(m *amqp.Message) (payload []byte, enqueued time.Time, ok bool)
	ready  readyOnce
	stats  stats
}

func (c *amqpConsumer) Ready() <-chan struct{} { return c.ready.ch }

func (c *amqpConsumer) Stats() SourceStats { return c.stats.snapshot() }

// Run implements Source.
func (c *amqpConsumer) Run(ctx context.Context, deliver Deliver) error {
	for attempt := 0; ; {
		attached, err := c.session(ctx, deliver)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("connection closed")
		}
		c.stats.fail(err)
		if !c.ready.isDone() {
			return fmt.Errorf("confirm: %s: %w", c.name, err)
		}
		if attached {
			attempt = 0
		}
		if !sleepCtx(ctx, backoff(attempt, jitter())) {
			return nil
		}
		attempt++
	}
}

// session connects, attaches a receiver per source and delivers until an
// error or ctx ends. attached reports whether every receiver attached.
func (c *amqpConsumer) session(ctx context.Context, deliver Deliver) (attached bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := c.dial(dctx)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	sess, err := conn.NewSession(dctx, nil)
	if err != nil {
		return false, fmt.Errorf("session: %w", err)
	}
	receivers := make([]*amqp.Receiver, 0, len(c.sources))
	defer func() {
		for _, r := range receivers {
			cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			_ = r.Close(cctx)
			cancel()
		}
	}()
	for _, src := range c.sources {
		// Credit is managed by hand (see receive).
		r, err := sess.NewReceiver(dctx, src, &amqp.ReceiverOptions{Credit: -1})
		if err != nil {
			return false, fmt.Errorf("attach to source %q: %w (check confirm.sources; RabbitMQ wants /amq/queue/NAME for an existing queue)", src, err)
		}
		receivers = append(receivers, r)
		if err := r.IssueCredit(uint32(c.credit)); err != nil {
			return false, fmt.Errorf("issue credit on %q: %w", src, err)
		}
	}
	c.stats.connected(c.ready.isDone())
	c.ready.done()
	g, gctx := errgroup.WithContext(ctx)
	for i, r := range receivers {
		g.Go(func() error { return c.receive(gctx, r, c.sources[i], deliver) })
	}
	return true, g.Wait()
}

// receive delivers and accepts messages from one receiver until an error.
//
// Link credit is renewed only once it is used up, never while transfers
// may be in flight: RabbitMQ 3.10's AMQP 1.0 plugin loses track of credit
// when a flow frame crosses transfers (go-amqp's automatic credit stalled
// the link with messages still queued, in 1 of 2 runs on this test bed),
// and its drain breaks the connection. This costs one round trip per
// credit's worth of messages.
func (c *amqpConsumer) receive(ctx context.Context, r *amqp.Receiver, src string, deliver Deliver) error {
	accept := c.accept
	if accept == nil {
		accept = amqpPayload
	}
	left := c.credit
	for {
		m, err := r.Receive(ctx, nil)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("receive from %q: %w", src, err)
		}
		now := time.Now()
		if payload, enqueued, ok := accept(m); ok {
			c.stats.received.Add(1)
			deliver(payload, now, enqueued)
		}
		if err := r.AcceptMessage(ctx, m); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("accept message from %q: %w", src, err)
		}
		if left--; left == 0 {
			left = c.credit
			if err := r.IssueCredit(uint32(c.credit)); err != nil {
				return fmt.Errorf("issue credit on %q: %w", src, err)
			}
		}
	}
}

// amqpPayload returns a message's body (the data section(s), or an AMQP
// value holding bytes or a string) and its x-opt-enqueued-time annotation
// (set by Event Hubs and Azure IoT Hub), if any.
func amqpPayload(m *amqp.Message) (payload []byte, enqueued time.Time, ok bool) {
	switch {
	case len(m.Data) == 1:
		payload = m.Data[0]
	case len(m.Data) > 1:
		for _, d := range m.Data {
			payload = append(payload, d...)
		}
	default:
		switch v := m.Value.(type) {
		case []byte:
			payload = v
		case string:
			payload = []byte(v)
		}
	}
	if t, isTime := m.Annotations["x-opt-enqueued-time"].(time.Time); isTime {
		enqueued = t
	}
	return payload, enqueued, true
}

// newAMQP builds the generic AMQP 1.0 source.
func newAMQP(c *scenario.Confirm, d Deps) (Source, error) {
	u, err := parseURL(c.URL, "amqp", "amqps")
	if err != nil {
		return nil, err
	}
	if len(c.Sources) == 0 {
		return nil, errors.New("confirm: amqp needs at least one source address (set confirm.sources, e.g. /amq/queue/fleetbench for RabbitMQ)")
	}
	opts := &amqp.ConnOptions{ContainerID: d.ClientID, HostName: u.Hostname()}
	if c.IdleTimeout > 0 {
		opts.IdleTimeout = c.IdleTimeout
	}
	if u.Scheme == "amqps" {
		if opts.TLSConfig, err = tlsConfig(c, d, u.Hostname()); err != nil {
			return nil, err
		}
	}
	user := c.Username
	if user == "" && u.User != nil {
		user = u.User.Username()
	}
	switch c.SASL {
	case "anonymous":
		opts.SASLType = amqp.SASLTypeAnonymous()
	case "", "plain":
		if user == "" && c.PasswordEnv == "" && c.PasswordFile == "" {
			opts.SASLType = amqp.SASLTypeAnonymous()
			break
		}
		pass, err := lookupSecret(d, c.PasswordEnv, c.PasswordFile, "confirm.password")
		if err != nil {
			return nil, err
		}
		opts.SASLType = amqp.SASLTypePlain(user, pass)
	default:
		return nil, fmt.Errorf("confirm: sasl %q not supported (use plain or anonymous)", c.SASL)
	}
	credit := int32(c.Credit)
	if credit <= 0 {
		credit = DefaultCredit
	}
	addr := u.Scheme + "://" + u.Host // no user info: credentials go through SASL
	return &amqpConsumer{
		name:    "amqp consumer for " + u.Host,
		dial:    func(ctx context.Context) (*amqp.Conn, error) { return amqp.Dial(ctx, addr, opts) },
		sources: c.Sources,
		credit:  credit,
		ready:   newReady(),
	}, nil
}
