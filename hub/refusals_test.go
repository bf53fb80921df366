package hub

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
)

// IoT Hub accepts a username without the api-version it recommends
// ({host}/{id} and {host}/{id}/, as Azure's 2017 Python sample sends): so
// does the hub, and it counts them.
func TestUsernameWithoutAPIVersionAccepted(t *testing.T) {
	h := startHub(t, Config{})
	host := h.HostName()
	for _, tc := range []struct{ id, user string }{
		{"bare", host + "/bare"},
		{"slash", host + "/slash/"},
		{"versioned", testUsername(host, "versioned")},
	} {
		tok := testToken(testDeviceKey(testGroupKey, tc.id), host, tc.id, time.Now().Add(time.Hour))
		c, err := connect(t, clientOpts(h, tc.id, tc.user, tok, nil))
		if err != nil {
			t.Fatalf("username %q refused: %v", tc.user, err)
		}
		waitToken(t, c.Publish("devices/"+tc.id+"/messages/events/", 1, false, "x"))
	}
	if s := h.Stats(); s.NoAPIVersion != 2 || s.Received != 3 || s.Refused != 0 {
		t.Errorf("Stats = %+v, want NoAPIVersion 2, Received 3, nothing refused", s)
	}
}

// Each refusal writes one line naming the device, the reason and the fix,
// up to RefusalLinesPerReason per reason and then one line saying the rest
// are counted; no line holds the token, its signature or the key.
func TestRefusalLines(t *testing.T) {
	var out lockedBuffer
	h := startHub(t, Config{RefusalLog: &out})
	host := h.HostName()
	const id = "dev-1"
	user := testUsername(host, id)
	wrongKey := []byte("not this device's key")
	bad := testToken(wrongKey, host, id, time.Now().Add(time.Hour))
	const tries = RefusalLinesPerReason + 3
	for range tries {
		if _, rc := rawConnect(t, h, id, user, bad); rc != packets.ErrRefusedNotAuthorised {
			t.Fatalf("wrong key: CONNACK %d, want %d", rc, packets.ErrRefusedNotAuthorised)
		}
	}
	if _, rc := rawConnect(t, h, "other", user, bad); rc != packets.ErrRefusedNotAuthorised {
		t.Fatalf("client id mismatch: CONNACK %d", rc)
	}

	c := connectDevice(t, h, "dev-2", nil)
	c.Publish("devices/dev-3/messages/events/", 0, false, "spoof")
	sub := c.Subscribe("devices/dev-3/messages/devicebound/#", 1, nil)
	waitToken(t, sub)
	if got := sub.(interface{ Result() map[string]byte }).Result(); got["devices/dev-3/messages/devicebound/#"] != 0x80 {
		t.Errorf("SUBACK %v, want 0x80 for another device's topic", got)
	}

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{}
	for range RefusalLinesPerReason {
		want = append(want, `hub: refused CONNECT of device "dev-1" [wrong-key]: SAS token signature does not match the key; fix: sign with the device's key, HMAC-SHA256(group key, device id)`)
	}
	want = append(want,
		"hub: more [wrong-key] refusals are counted, not printed (totals when the hub stops)",
		`hub: refused CONNECT of device "dev-1" [client-id]: client id "other" differs from the device id "dev-1" in the username (IoT Hub requires client id = device id); fix: set the MQTT client id to the device id`,
		`hub: refused PUBLISH of device "dev-2" [publish-topic]: publish to "devices/dev-3/messages/events/"; fix: publish to devices/{device id}/messages/events/`,
		`hub: refused SUBSCRIBE of device "dev-2" [subscribe-topic]: subscription to "devices/dev-3/messages/devicebound/#"; fix: devices subscribe to devices/{device id}/messages/devicebound/#`,
	)
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, lines[i], want[i])
		}
	}
	sig := bad[strings.Index(bad, "sig=")+4 : strings.Index(bad, "&se=")]
	for _, secret := range []string{"SharedAccessSignature", sig, base64.StdEncoding.EncodeToString(wrongKey),
		base64.StdEncoding.EncodeToString(testGroupKey), base64.StdEncoding.EncodeToString(testDeviceKey(testGroupKey, id))} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("refusal lines show a secret (%.12s...):\n%s", secret, out.String())
		}
	}

	s := h.Stats()
	wantBy := map[Reason]uint64{ReasonWrongKey: tries, ReasonClientID: 1, ReasonPublishTopic: 1, ReasonSubscribeTopic: 1}
	if fmt.Sprint(s.ByReason) != fmt.Sprint(wantBy) || s.RefusedAuth != tries+1 || s.DeniedPublish != 1 || s.DeniedSubscribe != 1 {
		t.Errorf("Stats = %+v, want ByReason %v, RefusedAuth %d, DeniedPublish 1, DeniedSubscribe 1", s, wantBy, tries+1)
	}
}

// Every reason has a name, an action and a fix, and the refusal errors of
// the checks carry one.
func TestReasonsTable(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(1); r < numReasons; r++ {
		if r.String() == "" || r.Fix() == "" || seen[r.String()] {
			t.Errorf("reason %d: name %q (duplicate %v), fix %q", r, r, seen[r.String()], r.Fix())
		}
		seen[r.String()] = true
	}
	if got := Reason(0).String(); got != "reason(0)" {
		t.Errorf("Reason(0) = %q", got)
	}
	var rf *refusal
	if _, err := parseUsername("x", "h"); !errors.As(err, &rf) {
		t.Errorf("parseUsername error %v is not a refusal", err)
	}
}

// A device flooding denied publishes costs no allocation once its lines
// are written (and Debug logging is off).
func BenchmarkDeniedPublish(b *testing.B) {
	var out lockedBuffer
	h := &Hub{cfg: Config{HostName: DefaultHostName}, log: slog.New(slog.DiscardHandler)}
	h.refusals.w = &out
	r := &rules{h: h}
	cl := &mqtt.Client{ID: "sim-000042"}
	for range RefusalLinesPerReason + 1 {
		r.OnACLCheck(cl, "devices/other/messages/events/", true)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r.OnACLCheck(cl, "devices/other/messages/events/", true) {
			b.Fatal("allowed")
		}
	}
	if got := strings.Count(out.String(), "\n"); got != RefusalLinesPerReason+1 {
		b.Fatalf("%d lines, want %d", got, RefusalLinesPerReason+1)
	}
}
