package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/hub"
)

// A device refused for a wrong key gets one readable line in `fleetbench
// hub`'s output naming it, the reason and the fix, and the exit summary
// counts it by reason; neither holds the token or the hub's key.
func TestHubPrintsRefusals(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	env := Env{Stdout: pw, Stderr: pw, LookupEnv: func(string) (string, bool) { return "", false }, ReadFile: os.ReadFile}
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"hub", "--addr", "127.0.0.1:0", "--dir", dir}, env)
		pw.Close()
		done <- code
	}()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended while waiting for %s", what)
			}
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("no output while waiting for %s", what)
		}
		return ""
	}
	addr, _, _ := strings.Cut(strings.TrimPrefix(next("the banner"), "fleetbench hub listening on "), " ")
	for l := next("the end of the banner"); !strings.HasPrefix(l, "Ctrl-C stops the hub"); l = next("the end of the banner") {
	}

	const id = "sim-000042"
	wrongKey := []byte("a key that is not this device's")
	token := credential.SASToken(credential.DeviceResourceURI(hub.DefaultHostName, id), wrongKey, time.Now().Add(time.Hour), "").Reveal()
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c := paho.NewClient(paho.NewClientOptions().AddBroker("ssl://" + addr).
		SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}).
		SetClientID(id).SetUsername(credential.HubUsername(hub.DefaultHostName, id, "2021-04-12")).SetPassword(token).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || !errors.Is(tok.Error(), packets.ErrorRefusedNotAuthorised) {
		t.Fatalf("CONNECT with a wrong key: %v, want %v", tok.Error(), packets.ErrorRefusedNotAuthorised)
	}

	refusal := next("the refusal line")
	for _, want := range []string{`device "sim-000042"`, "[wrong-key]", "signature does not match", "fix: sign with the device's key, HMAC-SHA256(group key, device id)"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("refusal line lacks %q:\n%s", want, refusal)
		}
	}
	cancel()
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if code := <-done; code != ExitOK {
		t.Errorf("exit code %d", code)
	}
	summary := strings.Join(rest, "\n")
	if !strings.Contains(summary, "refused 1 connections") || !strings.Contains(summary, "by reason: wrong-key 1") {
		t.Errorf("summary lacks the refusal by reason:\n%s", summary)
	}
	hubKey, err := os.ReadFile(filepath.Join(dir, "group.key"))
	if err != nil {
		t.Fatal(err)
	}
	sig := token[strings.Index(token, "sig=")+4 : strings.Index(token, "&se=")]
	for _, secret := range []string{sig, strings.TrimSpace(string(hubKey)), "SharedAccessSignature"} {
		if strings.Contains(refusal, secret) || strings.Contains(summary, secret) {
			t.Errorf("output after the banner shows a secret (%.10s...):\n%s\n%s", secret, refusal, summary)
		}
	}
}

// The summary counts refusals by reason in the table's order and notes
// connections without api-version.
func TestHubSummary(t *testing.T) {
	got := hubSummary(hub.Stats{Received: 3, Refused: 2, DeniedSubscribe: 1, NoAPIVersion: 2,
		ByReason: map[hub.Reason]uint64{hub.ReasonSubscribeTopic: 1, hub.ReasonWrongKey: 1, hub.ReasonClientID: 1}}, "h.example")
	for _, want := range []string{
		"received 3 messages; refused 2 connections; denied 0 publishes, 1 subscriptions",
		"by reason: client-id 1, wrong-key 1, subscribe-topic 1\n",
		"2 device connections had no api-version in their username: accepted, as IoT Hub does, but IoT Hub's MQTT documentation recommends it (h.example/{device id}/?api-version=2021-04-12)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if got := hubSummary(hub.Stats{}, "h"); strings.Contains(got, "by reason") || strings.Contains(got, "api-version") {
		t.Errorf("a clean run's summary mentions refusals or api-version:\n%s", got)
	}
}
