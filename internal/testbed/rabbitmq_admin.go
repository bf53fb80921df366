package testbed

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// AMQPURL returns the amqp:// URL (AMQP 0-9-1) of the plain listener with
// the default user's credentials. It holds the password: never log it.
func (r *RabbitMQ) AMQPURL() string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(r.User, r.Password), Host: r.AMQPAddr, Path: "/"}
	return u.String()
}

// Dial opens an AMQP 0-9-1 connection as the default user. The caller
// closes it.
func (r *RabbitMQ) Dial() (*amqp091.Connection, error) {
	c, err := amqp091.DialConfig(r.AMQPURL(), amqp091.Config{Dial: amqp091.DefaultDial(10 * time.Second)})
	if err != nil {
		return nil, fmt.Errorf("testbed: AMQP 0-9-1 connect to %s as %s: %w", r.AMQPAddr, r.User, err)
	}
	return c, nil
}

// withChannel runs f on a fresh connection and channel.
func (r *RabbitMQ) withChannel(f func(ch *amqp091.Channel) error) error {
	c, err := r.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		return fmt.Errorf("testbed: AMQP channel: %w", err)
	}
	defer ch.Close()
	return f(ch)
}

// Declare declares a durable queue with args (x-max-length, x-overflow,
// x-dead-letter-exchange, ...) and, when bindingKey is not empty, binds it
// to exchange amq.topic, where RabbitMQ's MQTT plugin publishes (topic
// "devices/d1/messages/events/" arrives as routing key
// "devices.d1.messages.events."). Declaring an existing queue with other
// args fails.
func (r *RabbitMQ) Declare(queue, bindingKey string, args amqp091.Table) error {
	return r.withChannel(func(ch *amqp091.Channel) error {
		if _, err := ch.QueueDeclare(queue, true, false, false, false, args); err != nil {
			return fmt.Errorf("testbed: declare queue %q: %w", queue, err)
		}
		if bindingKey == "" {
			return nil
		}
		if err := ch.QueueBind(queue, bindingKey, "amq.topic", false, nil); err != nil {
			return fmt.Errorf("testbed: bind queue %q to amq.topic with %q: %w", queue, bindingKey, err)
		}
		return nil
	})
}

// Bind adds a binding of queue to exchange with key.
func (r *RabbitMQ) Bind(queue, exchange, key string) error {
	return r.withChannel(func(ch *amqp091.Channel) error {
		if err := ch.QueueBind(queue, key, exchange, false, nil); err != nil {
			return fmt.Errorf("testbed: bind queue %q to %q with %q: %w", queue, exchange, key, err)
		}
		return nil
	})
}

// Purge removes every ready message from queue and returns how many.
func (r *RabbitMQ) Purge(queue string) (int, error) {
	var n int
	err := r.withChannel(func(ch *amqp091.Channel) error {
		var err error
		n, err = ch.QueuePurge(queue, false)
		if err != nil {
			return fmt.Errorf("testbed: purge queue %q: %w", queue, err)
		}
		return nil
	})
	return n, err
}

// QueueDepth returns the number of ready messages in queue (not counting
// messages delivered to a consumer and not yet settled).
func (r *RabbitMQ) QueueDepth(queue string) (int, error) {
	var n int
	err := r.withChannel(func(ch *amqp091.Channel) error {
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		if err != nil {
			return fmt.Errorf("testbed: inspect queue %q: %w", queue, err)
		}
		n = q.Messages
		return nil
	})
	return n, err
}

// DeleteQueue deletes queue (and its messages). Detach AMQP 1.0 consumers
// first: deleting a queue under one crashes its session on the server.
func (r *RabbitMQ) DeleteQueue(queue string) error {
	return r.withChannel(func(ch *amqp091.Channel) error {
		if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
			return fmt.Errorf("testbed: delete queue %q: %w", queue, err)
		}
		return nil
	})
}

// Ctl runs rabbitmqctl against the node (e.g. "close_all_connections",
// "test") and returns its combined output.
func (r *RabbitMQ) Ctl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(r.sbin, "rabbitmqctl"), append([]string{"-n", r.Node}, args...)...)
	cmd.Env = r.env
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("testbed: rabbitmqctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
