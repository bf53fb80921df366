package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/hub"
)

// cmdHub is `fleetbench hub`: the embedded IoT hub as its own process, so a
// generator (or any MQTT client) can be measured without the hub's cost in
// its own process.
func cmdHub(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("hub", "hub [--addr 127.0.0.1:8883] [--dir DIR] [--key-kind group|device] [--ack-delay D] [--tier S1 --units N]", env)
	addr := fs.String("addr", "127.0.0.1:8883", "TLS listen address (loopback only)")
	dir := fs.String("dir", filepath.Join("runs", "hub"), "directory holding ca.pem, the server certificate and the key file: reused when the hub restarts, made when missing")
	keyKind := fs.String("key-kind", "group", "group: device keys are derived from one group key (as DPS does); device: one key for every device")
	hostName := fs.String("host-name", "fleetbench.azure-devices.net", "IoT hub host name devices put in their username and SAS token")
	ackDelay := fs.Duration("ack-delay", 0, "hold every PUBACK this long (for regression experiments)")
	tier := fs.String("tier", "", "enforce the published quotas of an IoT hub of this tier: F1, B1, B2, B3, S1, S2 or S3 (docs/hub.md)")
	units := fs.Int("units", 0, "the tier's number of units (default 1)")
	backlog := fs.Duration("throttle-backlog", 0, "with --tier: the longest a connect or send waits in the queue before it is refused or its connection closed (default 5s)")
	sendRate := fs.Float64("sends-per-second", 0, "with --tier: replace the tier's device-to-cloud sends per second (rehearse a known capacity)")
	connectRate := fs.Float64("connects-per-second", 0, "with --tier: replace the tier's new connections per second")
	if _, err := parseInterleaved(fs, args); err != nil {
		return flagExit(fs, err, env)
	}
	if *keyKind != "group" && *keyKind != "device" {
		fmt.Fprintf(env.Stderr, "fleetbench hub: --key-kind must be group or device, not %q\n", *keyKind)
		return ExitUsage
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench hub: cannot create %s: %v (choose another with --dir)\n", *dir, err)
		return ExitRunFailed
	}
	keyFile := filepath.Join(*dir, *keyKind+".key")
	key, err := loadOrMakeHubKey(keyFile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench hub: %v\n", err)
		return ExitRunFailed
	}
	cfg := hub.Config{Addr: *addr, Dir: *dir, HostName: *hostName, AckDelay: *ackDelay, RefusalLog: env.Stdout,
		Tier: *tier, Units: *units, ThrottleBacklog: *backlog, SendsPerSecond: *sendRate, ConnectsPerSecond: *connectRate}
	if *keyKind == "group" {
		cfg.GroupKey = key
	} else {
		cfg.DeviceKey = key
	}
	h, err := hub.Start(cfg)
	if err != nil {
		return hubStartFailed(err, env)
	}
	defer h.Close()

	// An example credential for device "sim-000001", valid for an hour, so
	// that any MQTT client can be pointed at the hub.
	devKey := key
	if *keyKind == "group" {
		devKey = credential.DeriveDeviceKey(key, "sim-000001")
	}
	token := credential.SASToken(credential.DeviceResourceURI(h.HostName(), "sim-000001"), devKey, time.Now().Add(time.Hour), "")
	keyEnv := "FLEETBENCH_GROUP_KEY"
	var sets string // --set overrides scale-10k.yaml needs beyond port and CA
	if *keyKind == "device" {
		keyEnv = "FLEETBENCH_DEVICE_KEY"
		sets += " --set auth.key_kind=device --set auth.key_env=" + keyEnv
	}
	if h.HostName() != hub.DefaultHostName {
		sets += " --set auth.hub_host=" + h.HostName()
	}
	if q, ok := h.Quota(); ok {
		fmt.Fprintf(env.Stdout, "throttling as IoT Hub %s: %g new connections/s, %g device-to-cloud sends/s, queue %v, daily quota %d blocks of %d bytes\n",
			q, q.ConnectsPerSecond, q.SendsPerSecond, cmp.Or(cfg.ThrottleBacklog, hub.DefaultThrottleBacklog), q.DailyBlocks, q.MeterBytes)
	}
	fmt.Fprintf(env.Stdout, `fleetbench hub listening on %s (TLS, MQTT 3.1.1, IoT Hub rules)
  CA file:     %s
  host name:   %s
  %s key:   %s (base64; keep it private)

Example device (valid 1 h):
  client id:   sim-000001
  username:    %s
  password:    %s
  topic:       devices/sim-000001/messages/events/

Point a scenario at it:
  export %s=$(cat %s)
  fleetbench run scenarios/scale-10k.yaml --set target.port=%d --set target.tls.ca_file=%s%s

Ctrl-C stops the hub; restarted on the same --dir it keeps its CA, certificate and key.
`, h.Addr(), h.CAFile(), h.HostName(), *keyKind, keyFile,
		credential.HubUsername(h.HostName(), "sim-000001", "2021-04-12"), token.Reveal(),
		keyEnv, keyFile, h.Port(), h.CAFile(), sets)

	<-ctx.Done()
	h.Close() // no refusal line may follow the summary
	fmt.Fprint(env.Stdout, hubSummary(h.Stats(), h.HostName()))
	return ExitOK
}

// hubSummary is what `fleetbench hub` prints when it stops: the totals, the
// refusals by reason, and a note on usernames without api-version.
func hubSummary(st hub.Stats, hostName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nfleetbench hub: received %d messages; refused %d connections; denied %d publishes, %d subscriptions; dropped %d (in-flight limits)\n",
		st.Received, st.Refused, st.DeniedPublish, st.DeniedSubscribe, st.InflightDropped)
	if len(st.ByReason) > 0 {
		reasons := slices.Sorted(maps.Keys(st.ByReason))
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s %d", r, st.ByReason[r])
		}
		fmt.Fprintf(&b, "  by reason: %s\n", strings.Join(parts, ", "))
	}
	if st.Throttled > 0 || st.ShapedConnects > 0 || st.ShapedSends > 0 {
		fmt.Fprintf(&b, "  throttled: %d connects refused (CONNACK 3), %d connections closed for sends, %d for the daily quota; queued: %d connects, %d sends; %d quota blocks used\n",
			st.RefusedThrottled, st.ClosedThrottled, st.ClosedQuota, st.ShapedConnects, st.ShapedSends, st.QuotaBlocks)
	}
	if st.TakenOver > 0 {
		fmt.Fprintf(&b, "  %d connections closed because another connected with the same device id\n", st.TakenOver)
	}
	if st.NoAPIVersion > 0 {
		fmt.Fprintf(&b, "  %d device connections had no api-version in their username: accepted, as IoT Hub does, but IoT Hub's MQTT documentation recommends it (%s/{device id}/?api-version=2021-04-12)\n",
			st.NoAPIVersion, hostName)
	}
	return b.String()
}

// loadOrMakeHubKey returns the base64 key in path, or makes a random
// 32-byte one and writes it there (mode 0600) when there is none, so a
// restarted hub accepts the devices it accepted before. A key file that
// others may read is narrowed to 0600.
func loadOrMakeHubKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("cannot write the key file: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%s is corrupt (it must hold one base64 key): delete it to make a new key (devices then need the new key)", path)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("cannot make %s private: %w", path, err)
		}
	}
	return key, nil
}

// hubFlags names the flag that sets each hub.Config field.
var hubFlags = map[string]string{"Addr": "--addr", "Dir": "--dir", "HostName": "--host-name", "AckDelay": "--ack-delay",
	"Tier": "--tier", "Units": "--units", "ThrottleBacklog": "--throttle-backlog"}

// hubStartFailed prints why the hub did not start, one line per problem,
// naming flags rather than Config fields; a bad flag is a usage error.
func hubStartFailed(err error, env Env) int {
	code := ExitRunFailed
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var fe *hub.FieldError
		if errors.As(e, &fe) && hubFlags[fe.Field] != "" {
			fmt.Fprintf(env.Stderr, "fleetbench hub: %s\n", fe.Describe(hubFlags[fe.Field]))
			code = ExitUsage
			continue
		}
		fmt.Fprintf(env.Stderr, "fleetbench hub: %v\n", e)
	}
	return code
}
