package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/threshold"
)

func mustParse(t *testing.T, src string, sets ...string) *Scenario {
	t.Helper()
	s, err := Parse("dir/t.yaml", []byte(src), sets)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, base)
	want := &Scenario{
		Name: "t",
		File: "dir/t.yaml",
		Target: Target{Kind: TargetEmbedded, Host: "127.0.0.1", Port: 0,
			TLS: TLS{Enabled: true, ServerName: "127.0.0.1", KeyExchange: []string{KeyExchangeP256}}},
		Auth: Auth{Type: AuthAzureSAS, KeyKind: KeyDevice, HubHost: "127.0.0.1", TokenTTL: time.Hour,
			APIVersion: "2021-04-12"},
		Devices: Devices{Count: 10, ID: "sim-{index:06}", FirstIndex: 0},
		Connect: Connect{Rate: 100, MaxInFlight: 64, Timeout: 10 * time.Second, KeepAlive: 60 * time.Second,
			CleanSession: true, Reconnect: true, Backoff: Backoff{Initial: time.Second, Max: 30 * time.Second, Jitter: 0.5}},
		Publish: Publish{QoS: 1, MaxInFlight: 16, Topic: "devices/{device}/messages/events/",
			StartRate: 10, Stages: []Stage{{Duration: time.Second, Rate: 10}},
			Payload:   Payload{Size: 256, Template: `{"device":"{device}","seq":{seq},"ts":{ts},"fb":"{stamp}","pad":"{fill}"}`},
			LateAfter: 5 * time.Millisecond, MaxLateness: 2 * time.Second, Pacing: PacingPrecise},
		Duration:   time.Second,
		Drain:      5 * time.Second,
		AbortDelay: 10 * time.Second,
	}
	s.positions = nil // where keys are, for Check; not a setting
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

func TestDefaultsForOtherTypes(t *testing.T) {
	s := mustParse(t, `target: {kind: mqtt, host: broker.example, tls: false}
auth: {type: aliyun, product_key: pk, key_file: secret.txt}
`+base+`confirm:
  type: aliyun
  url: amqps://x.iot-amqp.cn-shanghai.aliyuncs.com:5671
  access_key_env: AK
  access_secret_env: AS
  consumer_group: cg
`)
	if s.Target.Port != 1883 || s.Target.TLS.Enabled || s.Target.TLS.ServerName != "" {
		t.Errorf("plain target = %+v", s.Target)
	}
	if s.Auth.SecureMode != 3 || s.Auth.SignMethod != "hmacsha256" || s.Auth.ClientID != "{device}" {
		t.Errorf("aliyun auth = %+v", s.Auth)
	}
	if s.Auth.KeyFile != filepath.Join("dir", "secret.txt") {
		t.Errorf("key_file = %q, want it relative to the scenario's directory", s.Auth.KeyFile)
	}
	c := s.Confirm
	if c.SignMethod != "hmacsha1" || c.IdleTimeout != 60*time.Second || c.Credit != 1000 || c.ListLost != 20 || c.ClientID != "fleetbench" {
		t.Errorf("aliyun confirm = %+v", c)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "dir/t.yaml:1:49: target.tls: plain TCP") {
		t.Errorf("warnings = %q, want one about plain TCP at 1:49", s.Warnings)
	}

	s = mustParse(t, `target: {kind: mqtt, host: 127.0.0.1, tls: {ca_file: /etc/ca.pem, server_name: hub}}
auth: {type: userpass, username: "{device}"}
`+base+`confirm: {type: amqp, url: "amqps://127.0.0.1:5671", sources: [/amq/queue/a, /amq/queue/b], username: u, password_env: P}
`)
	if s.Target.Port != 8883 || s.Target.TLS.CAFile != "/etc/ca.pem" || s.Target.TLS.ServerName != "hub" {
		t.Errorf("tls target = %+v", s.Target)
	}
	if s.Confirm.SASL != "plain" || !reflect.DeepEqual(s.Confirm.Sources, []string{"/amq/queue/a", "/amq/queue/b"}) {
		t.Errorf("amqp confirm = %+v", s.Confirm)
	}

	s = mustParse(t, base+"confirm: {type: mqtt, clients: 4}\n")
	if c := s.Confirm; c.Topic != "devices/+/messages/events/#" || c.Clients != 4 || c.SharedGroup != "fleetbench" || c.URL != "" {
		t.Errorf("mqtt confirm = %+v", c)
	}
	s = mustParse(t, `target: {kind: mqtt, host: h.azure-devices.net}
auth: {type: azure-sas, key_env: K}
`+base+"confirm: {type: azure-eventhubs, connection_string_env: EH}\n")
	if s.Confirm.ConsumerGroup != "$Default" || s.Auth.HubHost != "h.azure-devices.net" {
		t.Errorf("eventhubs: %+v %+v", s.Confirm, s.Auth)
	}
}

// Zero values that were set explicitly are kept, not replaced by defaults.
func TestSetZeroIsNotDefault(t *testing.T) {
	s := mustParse(t, base+`  qos: 0
connect: {clean_session: false, reconnect: false, keep_alive: 0s}
drain: 0s
abort_delay: 0
`)
	if s.Publish.QoS != 0 || s.Connect.CleanSession || s.Connect.Reconnect || s.Connect.KeepAlive != 0 || s.Drain != 0 || s.AbortDelay != 0 {
		t.Errorf("explicit zeros replaced: %+v %+v drain=%v abort_delay=%v", s.Publish, s.Connect, s.Drain, s.AbortDelay)
	}
}

func TestStagesAndDuration(t *testing.T) {
	s := mustParse(t, `devices: {count: 200}
publish:
  start_rate: 0/s
  stages:
    - {duration: 10s, rate: 500/s}
    - {duration: 20s, interval: 2s}
    - {duration: 1m, rate: 30/min}
duration: 2m
`)
	want := []Stage{{Duration: 10 * time.Second, Rate: 500}, {Duration: 20 * time.Second, Rate: 100}, {Duration: time.Minute, Rate: 0.5}}
	if !reflect.DeepEqual(s.Publish.Stages, want) || s.Publish.StartRate != 0 || s.Duration != 2*time.Minute {
		t.Errorf("stages = %+v start %v duration %v", s.Publish.Stages, s.Publish.StartRate, s.Duration)
	}
}

// A ramp down to 0/s sends messages and needs no marker; a pause after it
// holds 0/s; a schedule of pauses only is valid but warned about.
func TestPausesAndRampsToZero(t *testing.T) {
	s := mustParse(t, `devices: {count: 10}
publish:
  stages:
    - {duration: 1s, rate: 10/s}
    - {duration: 2s, rate: 0/s}
    - {duration: 3s, pause: true}
    - {duration: 4s, rate: 20/s}
`)
	want := []Stage{{Duration: time.Second, Rate: 10}, {Duration: 2 * time.Second}, {Duration: 3 * time.Second, Pause: true}, {Duration: 4 * time.Second, Rate: 20}}
	if !reflect.DeepEqual(s.Publish.Stages, want) || s.Duration != 10*time.Second || len(s.Warnings) != 0 {
		t.Errorf("stages = %+v duration %v warnings %q", s.Publish.Stages, s.Duration, s.Warnings)
	}
	s = mustParse(t, "devices: {count: 10}\npublish:\n  stages: [{duration: 30s, pause: true}]\n")
	if want := []string{"dir/t.yaml:3:11: publish.stages: every stage is a pause: the run sends no messages"}; !reflect.DeepEqual(s.Warnings, want) {
		t.Errorf("warnings = %q, want %q", s.Warnings, want)
	}
}

func TestPropertiesKeepFileOrder(t *testing.T) {
	s := mustParse(t, base+`  properties: {"$.ct": application/json, "$.ce": utf-8, run: quickstart, n: 5}
`)
	want := []Property{{"$.ct", "application/json"}, {"$.ce", "utf-8"}, {"run", "quickstart"}, {"n", "5"}}
	if !reflect.DeepEqual(s.Publish.Properties, want) {
		t.Errorf("properties = %+v", s.Publish.Properties)
	}
}

func TestThresholdsParsed(t *testing.T) {
	s := mustParse(t, base+`confirm: {type: mqtt}
thresholds:
  publish.p99: "< 100ms"
  delivery.ratio: ">= 99.9%"
abort_on_fail: true
`)
	if len(s.Thresholds) != 2 {
		t.Fatalf("thresholds = %+v", s.Thresholds)
	}
	th := s.Thresholds[0]
	if th.Metric != "publish.p99" || th.Expr != "< 100ms" || th.Line != 6 || th.Col != 3 || th.File != "dir/t.yaml" ||
		th.Cond.Op != threshold.Less || th.Cond.Value != 0.1 || !th.Cond.IsDuration {
		t.Errorf("threshold 0 = %+v", th)
	}
	if th := s.Thresholds[1]; th.Metric != "delivery.ratio" || th.Line != 7 || !th.Cond.Holds(0.9995) || th.Cond.Holds(0.99) {
		t.Errorf("threshold 1 = %+v", th)
	}
}

func TestWarnings(t *testing.T) {
	s := mustParse(t, `target: {kind: mqtt, host: 127.0.0.1, tls: {insecure_skip_verify: true}}
auth: {type: none}
`+base+`  qos: 0
  max_in_flight: 4
abort_delay: 5s
`)
	want := []string{
		"dir/t.yaml:1:67: target.tls.insecure_skip_verify: the broker's certificate is not verified: anyone on the path can impersonate it",
		"dir/t.yaml:7:18: publish.max_in_flight: has no effect with qos 0 (nothing is acknowledged)",
		"dir/t.yaml:8:14: abort_delay: has no effect without abort_on_fail: true",
	}
	if !reflect.DeepEqual(s.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(s.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestSets(t *testing.T) {
	s := mustParse(t, base,
		"devices.count=500",
		"publish.stages[0].rate=20/s",
		"publish.stages[1]={duration: 5s, interval: 10s}",
		"devices.id=dev-{index}",
		"target.tls.session_resumption=true",
		"thresholds.publish.p99.9=< 1s",
		"publish.properties.$.ct=application/json",
		"drain=", // removes drain (it was not set: no-op)
		"confirm.type=mqtt",
		"confirm=", // and removes it again
		"auth.key_file=rel/key.txt",
	)
	if s.Devices.Count != 500 || s.Devices.ID != "dev-{index}" {
		t.Errorf("devices = %+v", s.Devices)
	}
	want := []Stage{{Duration: time.Second, Rate: 20}, {Duration: 5 * time.Second, Rate: 50}}
	if !reflect.DeepEqual(s.Publish.Stages, want) || s.Duration != 6*time.Second {
		t.Errorf("stages = %+v duration %v", s.Publish.Stages, s.Duration)
	}
	if !s.Target.TLS.SessionResumption || s.Confirm != nil || s.Drain != DefaultDrain {
		t.Errorf("target %+v confirm %+v drain %v", s.Target, s.Confirm, s.Drain)
	}
	if len(s.Thresholds) != 1 || s.Thresholds[0].Metric != "publish.p99.9" || s.Thresholds[0].Line != 6 || s.Thresholds[0].File != SetFile {
		t.Errorf("thresholds = %+v", s.Thresholds)
	}
	if !reflect.DeepEqual(s.Publish.Properties, []Property{{"$.ct", "application/json"}}) {
		t.Errorf("properties = %+v", s.Publish.Properties)
	}
	if s.Auth.KeyFile != filepath.Join("rel", "key.txt") {
		t.Errorf("a --set file name stays relative to the working directory, got %q", s.Auth.KeyFile)
	}
	// Templates that YAML would read as flow mappings are taken as text.
	s = mustParse(t, "target: {kind: mqtt, host: 127.0.0.1}\nauth: {type: userpass, username: x}\n"+base,
		"auth.username={device}", "auth.client_id={index:03}")
	if s.Auth.Username != "{device}" || s.Auth.ClientID != "{index:03}" {
		t.Errorf("auth = %+v", s.Auth)
	}
	// A value that starts with a YAML block-scalar indicator (">", "|")
	// cannot mean one on a single line: it is text, so a threshold
	// expression needs no extra quotes.
	s = mustParse(t, base, "thresholds.publish.rate_ratio=>= 0.99", "name=|x")
	if len(s.Thresholds) != 1 || s.Thresholds[0].Expr != ">= 0.99" || s.Name != "|x" {
		t.Errorf("thresholds = %+v, name %q", s.Thresholds, s.Name)
	}
	// Overrides replace file values, including a whole section.
	s = mustParse(t, base+"connect: {rate: 5/s}\n", "connect={rate: 7/s, timeout: 2s}")
	if s.Connect.Rate != 7 || s.Connect.Timeout != 2*time.Second {
		t.Errorf("connect = %+v", s.Connect)
	}
}

func TestSetProblems(t *testing.T) {
	got := parseProblems(t, base,
		"devices.count=abc",          // 1: wrong type, at the value
		"devices.cont=5",             // 2: unknown key, at the key
		"nonsense",                   // 3: not path=value
		"publish.stages[5].rate=1/s", // 4: index past the end
		"publish.stages[0].rate.x=1", // 5: into a scalar
		"thresholds.publish.p99=<<",  // 6: bad expression
		"name=[oops",                 // 7: YAML syntax
	)
	checkProblems(t, got, []want{
		{"--set:1:15 devices.count", `want a whole number, got text "abc"`},
		{"--set:2:9 devices.cont", `unknown key "cont" — did you mean count?`},
		{"--set:3:1 ", `override "nonsense" is not path=value`},
		{"--set:4:1 publish.stages[5].rate", "index [5] is past the end of the list (1 items)"},
		{"--set:5:1 publish.stages[0].rate.x", "key \"x\" is set inside a string, not a mapping"},
		{"--set:6:24 thresholds.publish.p99", `unknown operator "<<"`},
		{"--set:7:6 name", `invalid YAML: sequence end token ']' not found — the value is read as YAML: to give it as text, quote it inside the shell's quotes, e.g. --set 'name="[oops"'`},
	})
	// A problem in the file and one in an override are both reported, the
	// file's first.
	got = parseProblems(t, base+"drain: x\n", "devices.count=0")
	checkProblems(t, got, []want{
		{"4:8 drain", "is not a duration"},
		{"--set:1:15 devices.count", "out of range"},
	})
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.yaml"), nil)
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "missing.yaml: no such file or directory — check the path") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Load(dir, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("directory: %v", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\ntarget:\n  kind: \"embedded\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad, nil)
	var se *SyntaxError
	if !errors.Is(err, ErrSyntax) || !errors.As(err, &se) || errors.Is(err, ErrInvalid) {
		t.Fatalf("syntax error: %T %v", err, err)
	}
	if se.File != bad || se.Line != 3 || se.Col != 9 || !strings.HasPrefix(err.Error(), bad+":3:9: invalid YAML: ") {
		t.Errorf("syntax error at %s:%d:%d: %v", se.File, se.Line, se.Col, err)
	}

	_, err = Parse("t.yaml", []byte("a: b\n c: d\n"), nil)
	if !errors.As(err, &se) || se.Line != 1 || se.Col != 4 {
		t.Errorf("indentation error: %v", err)
	}
	_, err = Parse("t.yaml", []byte("a:\n\t- b\n"), nil)
	if !errors.As(err, &se) || se.Line != 2 || se.Col != 1 {
		t.Errorf("tab error: %v", err)
	}
}

// The scenario's name and relative paths come from the file.
func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "my-run.yml")
	src := `target: {kind: mqtt, host: 127.0.0.1, tls: {ca_file: certs/ca.pem}}
auth: {type: none}
` + base
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "my-run" || s.File != path || s.Target.TLS.CAFile != filepath.Join(dir, "certs", "ca.pem") {
		t.Errorf("name %q file %q ca %q", s.Name, s.File, s.Target.TLS.CAFile)
	}
}

// A UTF-8 byte-order mark, as some Windows editors write, is not part of
// the first key.
func TestByteOrderMarkIsIgnored(t *testing.T) {
	s := mustParse(t, "\ufeff"+base)
	if s.Devices.Count != 10 {
		t.Errorf("devices.count = %d, want 10", s.Devices.Count)
	}
	// Positions still count from the first visible character.
	got := parseProblems(t, "\ufeffdevices: {count: 0}\n"+base[len("devices: {count: 10}\n"):])
	checkProblems(t, got, []want{{"1:18 devices.count", "out of range"}})
}

// Parsing does not change its input and gives the same result every time.
func TestParseIsPure(t *testing.T) {
	src := []byte(base + "x: &a {rate: 1/s}\n")
	orig := append([]byte(nil), src...)
	sets := []string{"devices.count=3"}
	_, err1 := Parse("t.yaml", src, sets)
	_, err2 := Parse("t.yaml", src, sets)
	if string(src) != string(orig) || sets[0] != "devices.count=3" {
		t.Error("Parse changed its input")
	}
	if err1 == nil || err1.Error() != err2.Error() {
		t.Errorf("Parse is not repeatable: %v / %v", err1, err2)
	}
}

func TestScenariosDirectoryLoads(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("scenarios: %v %v", files, err)
	}
	for _, f := range files {
		s, err := Load(f, nil)
		if err != nil {
			t.Errorf("%s:\n%v", f, err)
			continue
		}
		if len(s.Warnings) > 0 {
			t.Errorf("%s has warnings: %q", f, s.Warnings)
		}
	}
	s, err := Load("../scenarios/quickstart.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.Kind != TargetEmbedded || s.Devices.Count != 200 || s.Connect.Rate != 200 || s.Publish.QoS != 1 ||
		s.Duration != 15*time.Second || s.Drain != 3*time.Second || s.Confirm == nil || s.Confirm.Type != ConfirmMQTT ||
		s.Auth.KeyKind != KeyGroup || s.Auth.KeyEnv != "" {
		t.Errorf("quickstart = %+v", s)
	}
	s, err = Load("../scenarios/scale-10k.yaml", []string{"target.port=40001", "target.tls.ca_file=/tmp/ca.pem"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Devices.Count != 10000 || s.Connect.Rate != 1000 || s.Publish.Stages[0].Rate != 5000 || s.Duration != time.Minute ||
		s.Target.Port != 40001 || s.Target.TLS.CAFile != "/tmp/ca.pem" || s.Auth.KeyEnv != "FLEETBENCH_GROUP_KEY" {
		t.Errorf("scale-10k = %+v", s)
	}
}

// docs/scenario.md documents every key and every default constant's value.
func TestDocsCoverEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/scenario.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, sec := range sectionKeys {
		for _, k := range sec.keys {
			if !strings.Contains(text, "`"+k+"`") {
				t.Errorf("docs/scenario.md does not document %s key `%s`", sec.name(), k)
			}
		}
	}
	for _, m := range threshold.Metrics() {
		fam, _, _ := strings.Cut(m, ".")
		if !strings.Contains(text, "`"+m+"`") && !strings.Contains(text, "`"+fam+"`") {
			t.Errorf("docs/scenario.md does not mention metric %s", m)
		}
	}
	for _, s := range []string{DefaultPayloadTemplate, DefaultTopic, DefaultDeviceID, DefaultConfirmTopic, " — "} {
		if !strings.Contains(text, s) {
			t.Errorf("docs/scenario.md does not mention %q", s)
		}
	}
}

func TestHostileInputIsRefusedQuickly(t *testing.T) {
	_, err := Parse("t.yaml", []byte("a: "+strings.Repeat("[", 10000)), nil)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 1 || se.Col != 36 || !strings.Contains(se.Msg, "deeper than 32") {
		t.Errorf("deep nesting: %v", err)
	}
	// Brackets in quotes and comments do not count.
	src := base + "# " + strings.Repeat("[", 100) + "\nname: '" + strings.Repeat("{", 100) + "'\n"
	if _, err := Parse("t.yaml", []byte(src), nil); err != nil {
		t.Errorf("quoted brackets: %v", err)
	}
	_, err = Parse("t.yaml", make([]byte, MaxFileSize+1), nil)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "t.yaml:1:1: the file is 65537 bytes; a scenario is at most 65536") {
		t.Errorf("large file: %v", err)
	}
}

func TestPacingIsOneOfTwoModes(t *testing.T) {
	base := "devices: {count: 1}\npublish:\n  stages: [{duration: 1s, rate: 1/s}]\n"
	sc, err := Parse("p.yaml", []byte(base+"  pacing: efficient\n"), nil)
	if err != nil || sc.Publish.Pacing != PacingEfficient {
		t.Fatalf("pacing: efficient gave %q, %v", sc.Publish.Pacing, err)
	}
	_, err = Parse("p.yaml", []byte(base+"  pacing: sloppy\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "p.yaml:4:") {
		t.Fatalf("pacing: sloppy gave %v, want an error at p.yaml:4", err)
	}
}
