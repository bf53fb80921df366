package confirm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/scenario"
)

// DefaultMQTTTopic is the subscription filter when the scenario sets none:
// every device's IoT Hub-style events.
const DefaultMQTTTopic = "devices/+/messages/events/#"

// mqttSource subscribes with one or more MQTT 3.1.1 clients (paho); with
// several, they share the subscription ($share/GROUP/FILTER) so the broker
// spreads messages over them.
type mqttSource struct {
	broker   string // tcp://host:port or ssl://host:port
	opts     func(clientID string) *mqtt.ClientOptions
	clientID string
	filter   string // as subscribed, with $share/ when shared
	clients  int
	ready    readyOnce
	stats    stats
}

func newMQTT(c *scenario.Confirm, d Deps) (Source, error) {
	u, err := parseURL(c.URL, "mqtt", "mqtts", "tcp", "ssl", "tls")
	if err != nil {
		return nil, err
	}
	secure := u.Scheme == "mqtts" || u.Scheme == "ssl" || u.Scheme == "tls"
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "1883", true: "8883"}[secure]
	}
	broker := map[bool]string{false: "tcp://", true: "ssl://"}[secure] + u.Hostname() + ":" + port
	var tlsConf *tls.Config
	if secure {
		if tlsConf, err = tlsConfig(c, d, u.Hostname()); err != nil {
			return nil, err
		}
	}
	user := c.Username
	if user == "" && u.User != nil {
		user = u.User.Username()
	}
	pass, err := lookupSecret(d, c.PasswordEnv, c.PasswordFile, "confirm.password")
	if err != nil {
		return nil, err
	}
	filter := c.Topic
	if filter == "" {
		filter = DefaultMQTTTopic
	}
	clients := max(c.Clients, 1)
	if clients > 1 {
		group := c.SharedGroup
		if group == "" {
			group = "fleetbench"
		}
		filter = "$share/" + group + "/" + filter
	}
	s := &mqttSource{broker: broker, clientID: d.ClientID, filter: filter, clients: clients, ready: newReady()}
	s.opts = func(clientID string) *mqtt.ClientOptions {
		o := mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).
			SetProtocolVersion(4).SetCleanSession(true).
			SetConnectTimeout(dialTimeout).SetKeepAlive(30 * time.Second).
			SetAutoReconnect(true).SetConnectRetry(false).SetMaxReconnectInterval(backoffMax).
			SetOrderMatters(true)
		if user != "" {
			o.SetUsername(user)
		}
		if pass != "" {
			o.SetPassword(pass)
		}
		if tlsConf != nil {
			o.SetTLSConfig(tlsConf.Clone())
		}
		return o
	}
	return s, nil
}

func (s *mqttSource) Ready() <-chan struct{} { return s.ready.ch }

func (s *mqttSource) Stats() SourceStats { return s.stats.snapshot() }

// Run implements Source. Messages arrive on paho's goroutine of each
// client, one at a time per client; the PUBACK goes out after deliver
// returns.
func (s *mqttSource) Run(ctx context.Context, deliver Deliver) error {
	handler := func(_ mqtt.Client, m mqtt.Message) {
		s.stats.received.Add(1)
		deliver(m.Payload(), time.Now(), time.Time{})
	}
	clients := make([]mqtt.Client, 0, s.clients)
	defer func() {
		for _, c := range clients {
			c.Disconnect(250)
		}
	}()
	for i := range s.clients {
		var connectedOnce atomic.Bool
		o := s.opts(fmt.Sprintf("%s-%d", s.clientID, i))
		o.SetDefaultPublishHandler(handler)
		o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			s.stats.fail(fmt.Errorf("connection lost: %w", err))
		})
		o.SetOnConnectHandler(func(c mqtt.Client) {
			if !connectedOnce.Swap(true) {
				return // the first connection is counted and subscribed by Run
			}
			// Clean session: subscribe again; the reconnection counts once
			// the subscription is back. Not waited on here (this runs on
			// paho's goroutine).
			tok := c.Subscribe(s.filter, 1, nil)
			go func() {
				if !tok.WaitTimeout(dialTimeout) {
					s.stats.fail(fmt.Errorf("subscribe again to %q: timed out", s.filter))
				} else if tok.Error() != nil {
					s.stats.fail(fmt.Errorf("subscribe again to %q: %w", s.filter, tok.Error()))
				} else {
					s.stats.connected(true)
				}
			}()
		})
		c := mqtt.NewClient(o)
		clients = append(clients, c)
		if err := wait(ctx, c.Connect()); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.stats.fail(err)
			return fmt.Errorf("confirm: mqtt consumer: connect to %s: %w", s.broker, err)
		}
		s.stats.connected(false)
		tok := c.Subscribe(s.filter, 1, nil)
		if err := wait(ctx, tok); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.stats.fail(err)
			return fmt.Errorf("confirm: mqtt consumer: subscribe to %q: %w", s.filter, err)
		}
		if st, ok := tok.(*mqtt.SubscribeToken); ok {
			for _, code := range st.Result() {
				if code == 0x80 {
					return fmt.Errorf("confirm: mqtt consumer: broker refused the subscription to %q (check the user's ACL)", s.filter)
				}
			}
		}
	}
	s.ready.done()
	<-ctx.Done()
	return nil
}

// wait waits for a paho token, ctx or dialTimeout.
func wait(ctx context.Context, tok mqtt.Token) error {
	t := time.NewTimer(dialTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("timed out")
	}
}
