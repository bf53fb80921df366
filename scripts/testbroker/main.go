// Command testbroker starts a local mosquitto or RabbitMQ on fixed
// 127.0.0.1 ports for manual runs of scenarios/mosquitto.yaml and
// scenarios/rabbitmq.yaml, prints how to use it, and stops it on Ctrl-C.
// It is run by scripts/mosquitto.sh and scripts/rabbitmq.sh; see
// docs/brokers.md for the ports.
//
//	testbroker mosquitto|rabbitmq [-dir DIR]
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fleetbench/fleetbench/internal/testbed"
)

// Fixed ports, documented in docs/brokers.md and used by scenarios/*.yaml.
const (
	mosquittoPlain = 11883
	mosquittoTLS   = 18883

	rabbitAMQP    = 15673
	rabbitAMQPS   = 15676
	rabbitMQTT    = 11884
	rabbitMQTTTLS = 18884
	rabbitDist    = 25673
	rabbitEpmd    = 14369
	rabbitCtlMin  = 25680 // to 25684

	user       = "fleet"
	queue      = "fleetbench"
	bindingKey = "devices.*.messages.events.#"
	passEnv    = "FLEETBENCH_PASSWORD"
	marker     = ".fleetbench-testbroker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testbroker:", err)
		if errors.Is(err, testbed.ErrNotInstalled) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) < 1 || (args[0] != "mosquitto" && args[0] != "rabbitmq") {
		return errors.New("usage: testbroker mosquitto|rabbitmq [-dir DIR]")
	}
	kind := args[0]
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(os.TempDir(), "fleetbench", kind), "directory for config, certificates, data and logs (wiped at start)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := freshDir(*dir); err != nil {
		return err
	}
	password, fromEnv := os.LookupEnv(passEnv)
	if !fromEnv || password == "" {
		password = randomPassword()
		if err := os.WriteFile(filepath.Join(*dir, "password"), []byte(password), 0o600); err != nil {
			return err
		}
	}
	exportLine := fmt.Sprintf("export %s=\"$(cat %s)\"", passEnv, filepath.Join(*dir, "password"))
	if fromEnv && os.Getenv(passEnv) != "" {
		exportLine = fmt.Sprintf("(%s already set in this shell; the broker uses it)", passEnv)
	}

	var stopBroker func() error
	switch kind {
	case "mosquitto":
		m, err := testbed.StartMosquittoIn(*dir, testbed.MosquittoOptions{
			PlainPort: mosquittoPlain, TLSPort: mosquittoTLS, Username: user, Password: password})
		if err != nil {
			return err
		}
		stopBroker = m.Stop
		fmt.Fprintf(out, "mosquitto is running (log: %s)\n", filepath.Join(m.Dir, "mosquitto.log"))
		fmt.Fprintf(out, "  MQTT TLS   %s   (CA: %s, server name localhost or 127.0.0.1)\n", m.TLSAddr, m.CAFile)
		fmt.Fprintf(out, "  MQTT plain %s\n", m.PlainAddr)
		fmt.Fprintf(out, "  user       %s, password in $%s\n", user, passEnv)
		fmt.Fprintf(out, "In another shell:\n  %s\n  go run ./cmd/fleetbench run scenarios/mosquitto.yaml\n", exportLine)
	case "rabbitmq":
		fmt.Fprintln(out, "starting RabbitMQ (about 10 s)...")
		sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		r, err := testbed.StartRabbitMQWith(sctx, *dir, testbed.RabbitMQOptions{
			AMQPPort: rabbitAMQP, AMQPSPort: rabbitAMQPS, MQTTPort: rabbitMQTT, MQTTTLSPort: rabbitMQTTTLS,
			DistPort: rabbitDist, EpmdPort: rabbitEpmd, CtlPortMin: rabbitCtlMin, User: user, Password: password})
		if err != nil {
			return err
		}
		stopBroker = r.Stop
		if err := r.Declare(queue, bindingKey, nil); err != nil {
			r.Stop()
			return err
		}
		fmt.Fprintf(out, "RabbitMQ node %s is running (logs: %s)\n", r.Node, filepath.Join(r.Dir, "log"))
		fmt.Fprintf(out, "  MQTT TLS   %s   (CA: %s, server name localhost or 127.0.0.1)\n", r.MQTTTLSAddr, r.CAFile)
		fmt.Fprintf(out, "  MQTT plain %s\n", r.MQTTAddr)
		fmt.Fprintf(out, "  AMQP       %s   (0-9-1 and 1.0; TLS on %s)\n", r.AMQPAddr, r.AMQPSAddr)
		fmt.Fprintf(out, "  queue      %s bound to amq.topic with %s; AMQP 1.0 source /amq/queue/%s\n", queue, bindingKey, queue)
		fmt.Fprintf(out, "  user       %s, password in $%s\n", user, passEnv)
		fmt.Fprintf(out, "In another shell:\n  %s\n  go run ./cmd/fleetbench run scenarios/rabbitmq.yaml\n", exportLine)
	}
	fmt.Fprintln(out, "Ctrl-C stops the broker.")
	<-ctx.Done()
	fmt.Fprintln(out, "stopping...")
	return stopBroker()
}

// freshDir empties dir if it is one of ours (or absent), so the broker
// starts from a clean state (RabbitMQ creates its user on first boot only).
func freshDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return fmt.Errorf("%s is not empty and was not made by testbroker; pick another -dir", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, marker), nil, 0o644)
}

func randomPassword() string { return rand.Text() }
