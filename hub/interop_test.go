package hub

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/testbed"
)

// Interop tests: clients nobody here wrote, against the embedded hub.
// mosquitto_pub and mosquitto_sub come from Debian's mosquitto-clients,
// Python paho from python3-paho-mqtt (run by /usr/bin/python3: the pyenv
// python3 first on some PATHs has no paho). Without them the tests skip;
// with CI=true they fail (.ci/run installs them).

// interopTimeout bounds each external client: far above what it needs on a
// loaded machine, so it only turns a hang into a failure.
const interopTimeout = 60 * time.Second

// requireTool returns the path of name, or ends the test: a skip naming the
// Debian package to install, or a failure under CI=true.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		testbed.RequireBroker(t, fmt.Errorf("%w: %s not found (install it: apt-get install -y %s)", testbed.ErrNotInstalled, name, pkg))
	}
	return path
}

// mosquittoArgs returns the connection flags shared by mosquitto_pub and
// mosquitto_sub: MQTT 3.1.1 over TLS to h, trusting h's CA.
func mosquittoArgs(h *Hub, clientID, user, pass string) []string {
	return []string{"-h", "127.0.0.1", "-p", strconv.Itoa(h.Port()), "--cafile", h.CAFile(),
		"-V", "mqttv311", "-i", clientID, "-u", user, "-P", pass}
}

// runTool runs a client to its end and returns its combined output and error.
func runTool(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	return string(out), err
}

// mosquitto_pub publishes QoS 0 and 1 to a device's events topic with a SAS
// password, with and without the api-version; mosquitto_sub, as the
// service client, receives both; a mosquitto_sub device subscribes to its
// devicebound topic and is denied another device's; a wrong key is
// refused. The hub counts each.
func TestInteropMosquittoClients(t *testing.T) {
	pub := requireTool(t, "mosquitto_pub", "mosquitto-clients")
	sub := requireTool(t, "mosquitto_sub", "mosquitto-clients")
	stdbuf := requireTool(t, "stdbuf", "coreutils")
	h := startHub(t, Config{ServiceUser: "service", ServicePassword: "service-pw"})
	host := h.HostName()
	soon := time.Now().Add(time.Hour)

	// The service client subscribes first; -d prints the SUBACK.
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	// stdbuf: mosquitto_sub buffers its stdout when it is a pipe.
	svc := exec.CommandContext(ctx, stdbuf, append([]string{"-oL", sub}, append(mosquittoArgs(h, "svc", "service", "service-pw"),
		"-t", "devices/+/messages/events/#", "-q", "1", "-C", "3", "-v", "-d")...)...)
	stdout, err := svc.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	svc.Stderr = svc.Stdout
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 100)
	go func() {
		defer close(got)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			got <- sc.Text()
		}
	}()
	var svcOut []string
	for l := range got {
		svcOut = append(svcOut, l)
		if strings.Contains(l, "received SUBACK") {
			break
		}
	}
	if len(svcOut) == 0 || !strings.Contains(svcOut[len(svcOut)-1], "received SUBACK") {
		t.Fatalf("service mosquitto_sub did not subscribe:\n%s", strings.Join(svcOut, "\n"))
	}

	const dev, bare = "mosq-1", "mosq-bare"
	token := testToken(testDeviceKey(testGroupKey, dev), host, dev, soon)
	for _, qos := range []string{"0", "1"} {
		if out, err := runTool(t, pub, append(mosquittoArgs(h, dev, testUsername(host, dev), token),
			"-t", "devices/"+dev+"/messages/events/", "-q", qos, "-m", "qos"+qos)...); err != nil {
			t.Fatalf("mosquitto_pub QoS %s: %v\n%s", qos, err, out)
		}
	}
	bareToken := testToken(testDeviceKey(testGroupKey, bare), host, bare, soon)
	if out, err := runTool(t, pub, append(mosquittoArgs(h, bare, host+"/"+bare, bareToken),
		"-t", "devices/"+bare+"/messages/events/", "-q", "1", "-m", "bare")...); err != nil {
		t.Fatalf("mosquitto_pub without api-version: %v\n%s", err, out)
	}

	// The service client has now received all three: the hub counted each
	// before delivering it.
	for l := range got {
		svcOut = append(svcOut, l)
	}
	if err := svc.Wait(); err != nil {
		t.Fatalf("service mosquitto_sub: %v\n%s", err, strings.Join(svcOut, "\n"))
	}
	all := strings.Join(svcOut, "\n")
	for _, want := range []string{"devices/" + dev + "/messages/events/ qos0", "devices/" + dev + "/messages/events/ qos1", "devices/" + bare + "/messages/events/ bare"} {
		if !strings.Contains(all, want) {
			t.Errorf("service mosquitto_sub did not receive %q:\n%s", want, all)
		}
	}

	// A device subscribes to its own cloud-to-device topic, then to another
	// device's, which is denied (SUBACK 0x80).
	out, err := runTool(t, sub, append(mosquittoArgs(h, dev, testUsername(host, dev), token),
		"-t", "devices/"+dev+"/messages/devicebound/#", "-q", "1", "-E", "-d")...)
	if err != nil || !strings.Contains(out, "received SUBACK") || strings.Contains(out, "denied") {
		t.Errorf("mosquitto_sub on the device's devicebound topic: %v\n%s", err, out)
	}
	out, _ = runTool(t, sub, append(mosquittoArgs(h, dev, testUsername(host, dev), token),
		"-t", "devices/other/messages/devicebound/#", "-q", "1", "-E", "-d")...)
	if !strings.Contains(out, "denied") {
		t.Errorf("mosquitto_sub on another device's devicebound topic was not denied:\n%s", out)
	}

	// A wrong key is refused.
	wrong := testToken([]byte("not the key"), host, dev, soon)
	out, err = runTool(t, pub, append(mosquittoArgs(h, dev, testUsername(host, dev), wrong),
		"-t", "devices/"+dev+"/messages/events/", "-q", "1", "-m", "x")...)
	if err == nil || !strings.Contains(out, "not authorised") {
		t.Errorf("mosquitto_pub with a wrong key: %v\n%s", err, out)
	}

	s := h.Stats()
	if r := h.Received(dev); r != 2 || h.Received(bare) != 1 || s.Received != 3 {
		t.Errorf("Received(%s) = %d, Received(%s) = %d, Stats.Received = %d; want 2, 1, 3", dev, r, bare, h.Received(bare), s.Received)
	}
	want := map[Reason]uint64{ReasonWrongKey: 1, ReasonSubscribeTopic: 1}
	if fmt.Sprint(s.ByReason) != fmt.Sprint(want) || s.NoAPIVersion != 1 {
		t.Errorf("Stats = %+v, want ByReason %v, NoAPIVersion 1", s, want)
	}
}

// A device written as Azure's published Python sample writes it (paho,
// SAS token signed in Python, TLS with the CA, subscribe to devicebound,
// publish QoS 1 and wait for the PUBACK) connects, with and without the
// api-version in its username, and the hub counts its message.
func TestInteropAzurePythonSample(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import paho.mqtt.client").Run(); err != nil {
		testbed.RequireBroker(t, fmt.Errorf("%w: %s cannot import paho.mqtt.client: %v (install it: apt-get install -y python3 python3-paho-mqtt)", testbed.ErrNotInstalled, python, err))
	}
	script, err := filepath.Abs(filepath.Join("testdata", "azure_device.py"))
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, Config{})
	for i, tc := range []struct{ name, id, apiVersion string }{
		{"with api-version", "py-versioned", "2021-04-12"},
		{"without api-version", "py-bare", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, script)
			cmd.Env = []string{
				"HUB_HOST=" + h.HostName(),
				"HUB_PORT=" + strconv.Itoa(h.Port()),
				"CA_FILE=" + h.CAFile(),
				"DEVICE_ID=" + tc.id,
				"DEVICE_KEY=" + base64.StdEncoding.EncodeToString(testDeviceKey(testGroupKey, tc.id)),
				"API_VERSION=" + tc.apiVersion,
			}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "PUBACK received") {
				t.Fatalf("python device: %v\n%s", err, out)
			}
			s := h.Stats()
			if h.Received(tc.id) != 1 || s.Refused != 0 || s.DeniedSubscribe != 0 || s.DeniedPublish != 0 {
				t.Errorf("Received(%s) = %d, Stats = %+v; want 1 message, nothing refused or denied", tc.id, h.Received(tc.id), s)
			}
			if s.NoAPIVersion != uint64(i) {
				t.Errorf("NoAPIVersion = %d, want %d", s.NoAPIVersion, i)
			}
		})
	}
}
