package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// parseProblems parses src as "t.yaml" and returns its problems.
func parseProblems(t *testing.T, src string, sets ...string) []Problem {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src), sets)
	if err == nil {
		if s == nil {
			t.Fatal("Parse returned neither a scenario nor an error")
		}
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse error is %T, want *ValidationError: %v", err, err)
	}
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrSyntax) || errors.Is(err, ErrNotFound) {
		t.Fatalf("errors.Is(err, ErrInvalid) must hold, and only it: %v", err)
	}
	if s != nil {
		t.Fatal("Parse returned a scenario with an error")
	}
	return ve.Problems
}

// want is one expected problem: "file:line:col path" and a substring of
// its message or fix.
type want struct {
	at   string // "line:col path" in t.yaml, or "--set:n:col path"
	text string
}

func (w want) matches(p Problem) bool {
	at := fmt.Sprintf("%d:%d %s", p.Line, p.Col, p.Path)
	if p.File == SetFile {
		at = "--set:" + at
	} else if p.File != "t.yaml" {
		return false
	}
	return at == w.at && strings.Contains(p.Msg+" — "+p.Fix, w.text)
}

func checkProblems(t *testing.T, got []Problem, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(wants), (&ValidationError{got}).Error())
		return
	}
	for i, w := range wants {
		if !w.matches(got[i]) {
			t.Errorf("problem %d = %s\nwant at %s containing %q", i, got[i], w.at, w.text)
		}
	}
}

// A valid scenario, to which the cases below add or change one thing.
const base = `devices: {count: 10}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`

func TestValidationPositions(t *testing.T) {
	tests := []struct {
		name string
		src  string
		sets []string // --set overrides, if any
		want []want
	}{{
		name: "unknown key suggests the closest",
		src: base + `connect:
  keepalive: 30s
`,
		want: []want{{"5:3 connect.keepalive", `unknown key "keepalive" — did you mean keep_alive?`}},
	}, {
		name: "unknown key in the wrong section names its home",
		src: base + `keep_alive: 30s
`,
		want: []want{{"4:1 keep_alive", "keep_alive belongs under connect"}},
	}, {
		name: "unknown top-level key lists the allowed keys",
		src: base + `zzzzzz: 1
`,
		want: []want{{"4:1 zzzzzz", "keys allowed in the top level: name, target"}},
	}, {
		name: "payload size below the fixed part",
		// Default template: 43 bytes of text + id "sim-000009" (10) + {seq} 10 + {ts} 19 + {stamp} 51 = 133.
		src: base + `  payload:
    size: 132
`,
		want: []want{{"5:11 publish.payload.size", "payload size 132 is smaller than the template's fixed part (133 bytes: text 43, {device} 10, {seq} 10, {ts} 19, {stamp} 51"}},
	}, {
		name: "payload size checked against the longest device id",
		// Device 1000000 has id sim-1000000 (11 bytes): 134 bytes.
		src: `devices: {count: 2, first_index: 999999}
publish:
  stages: [{duration: 1s, rate: 10/s}]
  payload: {size: 133}
`,
		want: []want{{"4:19 publish.payload.size", "(134 bytes"}},
	}, {
		name: "default size too small for a long template is reported at the template",
		src: base + `  payload:
    template: "{stamp}{stamp}{fill}"
`,
		want: []want{{"5:15 publish.payload.template", "{stamp} is used 2 times"}},
	}, {
		name: "{fill} twice",
		src: base + `  payload:
    template: "{fill}x{fill}"
`,
		want: []want{{"5:15 publish.payload.template", "{fill} is used 2 times"}},
	}, {
		name: "unknown placeholder points into a quoted template",
		src: base + `  payload:
    template: "ab{devcie}{fill}"
`,
		want: []want{{"5:18 publish.payload.template", "unknown placeholder {devcie} — did you mean {device}?"}},
	}, {
		name: "unknown placeholder points into a plain template",
		src: base + `  topic: devices/{devise}/messages/events/
`,
		want: []want{{"4:18 publish.topic", "did you mean {device}?"}},
	}, {
		name: "width only for index",
		src: base + `  payload: {template: '{seq:05}{fill}'}
`,
		want: []want{{"4:24 publish.payload.template", "{seq} takes no width"}},
	}, {
		name: "template without fill cannot have a size",
		src: base + `  payload: {size: 300, template: 'x{stamp}'}
`,
		want: []want{{"4:19 publish.payload.size", "no {fill}, so a payload is 52 bytes, not 300"}},
	}, {
		name: "device id without {index}",
		src: `devices: {count: 10, id: sim}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"1:26 devices.id", `every device would get the id "sim"`}},
	}, {
		name: "one client id for the whole fleet",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: userpass, username: u, client_id: fleet}
devices: {count: 200}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"2:48 auth.client_id", `all 200 devices would connect with the client id "fleet", and a broker keeps one connection per client id: each connect would drop the device before it — remove auth.client_id to use the device id ({device}), or add {device} or {index} to it, e.g. "fleet-{index}"`}},
	}, {
		name: "one aliyun client id, set with --set",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: aliyun, product_key: pk, key_env: K}
devices: {count: 2}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		sets: []string{"auth.client_id=c1"},
		want: []want{{"--set:1:16 auth.client_id", `all 2 devices would connect with the client id "c1"`}},
	}, {
		name: "a stage at 0/s from start to end is refused unless it is a pause",
		src: `devices: {count: 10}
publish:
  stages:
    - {duration: 1s, rate: 0/s}
    - {duration: 1s, rate: 10/s}
    - {duration: 1s, rate: 0/s}
    - {duration: 1s, rate: 0/s}
`,
		want: []want{
			{"4:28 publish.stages[0].rate", "0/s from start to end (it is the first stage): this stage sends nothing — give a rate such as 500/s; for a deliberate pause write `- {duration: 30s, pause: true}`"},
			{"7:28 publish.stages[3].rate", "(the stage before it ends at 0/s)"},
		},
	}, {
		name: "a zero start_rate and a zero first stage",
		src: `devices: {count: 10}
publish:
  start_rate: 0/s
  stages: [{duration: 1s, rate: 0/s}]
`,
		want: []want{{"4:33 publish.stages[0].rate", "(start_rate is 0/s)"}},
	}, {
		name: "a zero rate set with --set",
		src:  base,
		sets: []string{"publish.stages[0].rate=0/s"},
		want: []want{{"--set:1:24 publish.stages[0].rate", "this stage sends nothing"}},
	}, {
		name: "a pause must start at 0/s and takes no rate",
		src: `devices: {count: 10}
publish:
  stages:
    - {duration: 1s, rate: 10/s}
    - {duration: 1s, pause: true}
    - {duration: 1s, rate: 0/s, pause: true}
`,
		want: []want{
			{"5:22 publish.stages[1].pause", "a pause holds 0/s, but the schedule is at 10/s when this stage starts"},
			{"6:22 publish.stages[2].rate", "a pause sends nothing, so it takes no rate"},
		},
	}, {
		name: "device id with a slash",
		src: `devices: {count: 10, id: "a/{index}"}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"1:26 devices.id", `cannot contain '/'`}},
	}, {
		name: "device count missing, zero and as text",
		src: `devices: {first_index: 3}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"1:1 devices.count", "the number of devices is required"}},
	}, {
		name: "device count zero",
		src: `devices: {count: 0}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"1:18 devices.count", "0 is out of range — use a value from 1 to 10000000"}},
	}, {
		name: "device count quoted",
		src: `devices:
  count: "10"
publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"2:10 devices.count", "got text \"10\" — write a whole number without quotes"}},
	}, {
		name: "no devices section at all",
		src: `publish:
  stages: [{duration: 1s, rate: 10/s}]
`,
		want: []want{{"1:1 devices.count", "required"}},
	}, {
		name: "connect rate zero",
		src: base + `connect: {rate: 0/s}
`,
		want: []want{{"4:17 connect.rate", "must be more than 0/s"}},
	}, {
		name: "rate without unit",
		src: base + `connect: {rate: 200}
`,
		want: []want{{"4:17 connect.rate", "write 200/s"}},
	}, {
		name: "keep-alive not whole seconds",
		src: base + `connect: {keep_alive: 1500ms}
`,
		want: []want{{"4:23 connect.keep_alive", "not whole seconds"}},
	}, {
		name: "stage with both rate and interval",
		src: `devices: {count: 10}
publish:
  stages:
    - {duration: 1s, rate: 10/s, interval: 1s}
`,
		want: []want{{"4:34 publish.stages[0].interval", "not both"}},
	}, {
		name: "stage with neither, and no duration",
		src: `devices: {count: 10}
publish:
  stages:
    - {duration: 1s, rate: 10/s}
    - duration: 2s
    - rate: 5/s
`,
		want: []want{
			{"5:7 publish.stages[1]", "needs a rate (fleet-wide, e.g. 500/s) or an interval"},
			{"6:7 publish.stages[2]", "a stage needs a duration"},
		},
	}, {
		name: "stages missing",
		src: `devices: {count: 10}
publish:
  qos: 1
`,
		want: []want{{"2:1 publish.stages", "the publish schedule is required"}},
	}, {
		name: "stages empty",
		src: `devices: {count: 10}
publish:
  stages: []
`,
		want: []want{{"3:11 publish.stages", "has no stages"}},
	}, {
		name: "stages not a list",
		src: `devices: {count: 10}
publish:
  stages: {duration: 1s, rate: 10/s}
`,
		want: []want{{"3:11 publish.stages", "want a list of stages, got a mapping"}},
	}, {
		name: "qos 2",
		src: base + `  qos: 2
`,
		want: []want{{"4:8 publish.qos", "QoS 2 is not supported"}},
	}, {
		name: "duration shorter than the stages",
		src: base + `duration: 500ms
`,
		want: []want{{"4:11 duration", "shorter than the stages, which take 1s"}},
	}, {
		name: "max_lateness not above late_after",
		src: base + `  late_after: 3s
`,
		want: []want{{"4:15 publish.late_after", "max_lateness 2s must be longer than late_after 3s"}},
	}, {
		name: "group key with keys_file",
		src: base + `auth:
  key_kind: group
  keys_file: keys.csv
`,
		want: []want{{"6:3 auth.keys_file", "key_kind group derives every device key"}},
	}, {
		name: "policy with a group key",
		src: base + `auth: {key_kind: group, key_env: K, policy: owner}
`,
		want: []want{{"4:37 auth.policy", "policy token"}},
	}, {
		name: "two key sources",
		src: base + `auth:
  key_env: K
  key_file: k.txt
`,
		want: []want{{"6:3 auth.key_file", "a second key source (also key_env)"}},
	}, {
		name: "key_env holding a secret is not echoed",
		src: base + `auth: {key_env: "SharedAccessKey=c2VjcmV0"}
`,
		want: []want{{"4:17 auth.key_env", "is not an environment variable name"}},
	}, {
		name: "mqtt target without host",
		src: `target:
  kind: mqtt
auth: {type: none}
` + base,
		want: []want{{"1:1 target.host", "an mqtt target needs a host"}},
	}, {
		name: "mqtt target without auth type",
		src: `target: {kind: mqtt, host: 127.0.0.1}
` + base,
		want: []want{{"1:1 auth.type", "an mqtt target needs an auth type"}},
	}, {
		name: "azure-sas against a broker needs a key",
		src: `target: {kind: mqtt, host: myhub.azure-devices.net}
auth:
  type: azure-sas
` + base,
		want: []want{{"2:1 auth", "auth type azure-sas needs a key"}},
	}, {
		name: "host with a scheme",
		src: `target: {kind: mqtt, host: "mqtts://x"}
auth: {type: none}
` + base,
		want: []want{{"1:28 target.host", "is a URL, not a host name"}},
	}, {
		name: "userpass without username",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: userpass}
` + base,
		want: []want{{"2:1 auth.username", "auth type userpass needs a username template"}},
	}, {
		name: "x509 without a client certificate",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: x509}
` + base,
		want: []want{
			{"1:1 target.tls.cert_file", "auth type x509 needs a client certificate"},
			{"1:1 target.tls.key_file", "auth type x509 needs a client certificate"},
		},
	}, {
		name: "cert without key",
		src: `target:
  kind: mqtt
  host: 127.0.0.1
  tls: {cert_file: c.pem}
auth: {type: x509}
` + base,
		want: []want{{"4:3 target.tls.key_file", "needs both cert_file and key_file"}},
	}, {
		name: "auth key for another type",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth:
  type: userpass
  username: u
  key_kind: group
` + base,
		want: []want{{"5:3 auth.key_kind", "applies to auth type azure-sas, not userpass"}},
	}, {
		name: "aliyun secure_mode contradicts tls",
		src: `target: {kind: mqtt, host: 127.0.0.1, tls: false}
auth: {type: aliyun, product_key: pk, key_env: K, secure_mode: 2}
` + base,
		want: []want{{"2:64 auth.secure_mode", "secure_mode 2 contradicts the target's TLS setting"}},
	}, {
		name: "aliyun needs product key and secret, keep-alive in range",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: aliyun}
connect: {keep_alive: 10s}
` + base,
		want: []want{
			{"2:1 auth.product_key", "needs the product key"},
			{"2:1 auth", "needs the device secret"},
			{"3:23 connect.keep_alive", "30s to 1200s"},
		},
	}, {
		name: "embedded target rejects tls false, host and other auth",
		src: `target:
  tls: false
  host: example.com
auth: {type: none}
` + base,
		want: []want{
			{"2:8 target.tls", "accepts TLS connections only"},
			{"3:3 target.host", "the embedded hub listens on 127.0.0.1"},
			{"4:14 auth.type", "accepts IoT Hub SAS tokens only"},
		},
	}, {
		name: "key exchange: unknown, repeated, empty",
		src: `target:
  tls: {key_exchange: [p256, x25519mlkem, p256]}
` + base,
		want: []want{
			{"2:30 target.tls.key_exchange[1]", "did you mean x25519mlkem768?"},
			{"2:43 target.tls.key_exchange[2]", "name each group once"},
		},
	}, {
		name: "key exchange list is empty",
		src:  "target: {tls: {key_exchange: []}}\n" + base,
		want: []want{{"1:30 target.tls.key_exchange", "e.g. [p256] or [x25519, p256]"}},
	}, {
		name: "ack_delay only embedded",
		src: `target: {kind: mqtt, host: 127.0.0.1, ack_delay: 5ms}
auth: {type: none}
` + base,
		want: []want{{"1:39 target.ack_delay", "only the embedded hub"}},
	}, {
		name: "confirm amqp needs url and sources; not against the embedded hub",
		src: base + `confirm:
  type: amqp
`,
		want: []want{
			{"4:1 confirm.url", "confirm type amqp needs the AMQP server's url"},
			{"4:1 confirm.sources", "needs at least one source address"},
			{"5:9 confirm.type", "the embedded hub has no amqp endpoint"},
		},
	}, {
		name: "confirm aliyun required keys and idle range",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: none}
` + base + `confirm:
  type: aliyun
  idle_timeout: 10s
`,
		want: []want{
			{"6:1 confirm.url", "needs the AMQP endpoint"},
			{"6:1 confirm.access_key_env", "AccessKey id"},
			{"6:1 confirm.access_secret_env", "AccessKey secret"},
			{"6:1 confirm.consumer_group", "consumer group"},
			{"8:17 confirm.idle_timeout", "30s to 300s, not 10s"},
		},
	}, {
		name: "confirm azure-eventhubs needs its connection string",
		src: `target: {kind: mqtt, host: h.azure-devices.net}
auth: {type: azure-sas, key_env: K}
` + base + `confirm: {type: azure-eventhubs, url: "amqps://x"}
`,
		want: []want{
			{"6:1 confirm.connection_string_env", "needs the environment variable"},
			{"6:34 confirm.url", "applies to confirm type amqp or aliyun or mqtt, not azure-eventhubs"},
		},
	}, {
		name: "confirm mqtt against a broker needs a url with the right scheme",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: none}
` + base + `confirm:
  type: mqtt
  url: amqp://127.0.0.1:5672
  ca_file: ca.pem
`,
		want: []want{
			{"8:8 confirm.url", `scheme "amqp" is not mqtt or mqtts`},
		},
	}, {
		name: "confirm TLS settings with a plain url",
		src: `target: {kind: mqtt, host: 127.0.0.1}
auth: {type: none}
` + base + `confirm:
  type: amqp
  url: amqp://127.0.0.1:5672
  sources: [/amq/queue/q]
  ca_file: ca.pem
`,
		want: []want{{"10:3 confirm.ca_file", "applies to TLS connections only"}},
	}, {
		name: "confirm needs {stamp} in the payload",
		src: base + `  payload: {template: 'x{fill}'}
confirm: {type: mqtt}
`,
		want: []want{{"4:23 publish.payload.template", "needs {stamp}"}},
	}, {
		name: "confirm without type",
		src: base + `confirm: {list_lost: 5}
`,
		want: []want{{"4:1 confirm.type", "a confirm section needs a type"}},
	}, {
		name: "thresholds: metric name and expression positions",
		src: base + `confirm: {type: mqtt}
thresholds:
  publsh.p99: "< 1s"
  publish.p99: "< 1zz"
  e2e.p99: < 5
  connect.failed: "< 1s"
  delivery.ratio: 1
`,
		want: []want{
			{"6:3 thresholds.publsh.p99", `unknown metric "publsh.p99" — did you mean publish.p99?`},
			{"7:20 thresholds.publish.p99", `unknown unit "zz"`},
			{"8:12 thresholds.e2e.p99", `e2e.p99 is a latency but "< 5" has no time unit — add a unit, e.g. "< 5ms"`},
			{"9:19 thresholds.connect.failed", "is a count or ratio but"},
			{"10:19 thresholds.delivery.ratio", "does not start with a comparison operator"},
		},
	}, {
		name: "thresholds on metrics the run does not measure",
		src: base + `  qos: 0
thresholds:
  e2e.p99: "< 1s"
  delivery.ratio: "> 0.9"
  publish.p99: "< 1s"
  e2e_device_to_hub.p99: "< 1s"
`,
		want: []want{
			{"6:3 thresholds.e2e.p99", "only when a confirm section"},
			{"7:3 thresholds.delivery.ratio", "only when a confirm section"},
			{"8:3 thresholds.publish.p99", "qos 0 has none"},
			{"9:3 thresholds.e2e_device_to_hub.p99", "azure-eventhubs"},
		},
	}, {
		name: "abort_on_fail without thresholds",
		src: base + `abort_on_fail: true
`,
		want: []want{{"4:16 abort_on_fail", "no thresholds that could fail"}},
	}, {
		name: "duplicate keys",
		src: base + `drain: 1s
drain: 2s
`,
		want: []want{{"5:1 drain", "duplicate key (first at line 4)"}},
	}, {
		name: "key without a value",
		src: base + `drain:
`,
		want: []want{{"4:1 drain", "has no value"}},
	}, {
		name: "wrong types",
		src: base + `connect: [1, 2]
drain: true
abort_on_fail: "yes"
`,
		want: []want{
			{"4:10 connect", "want a mapping, got a list"},
			{"5:8 drain", "want a duration, got a boolean"},
			{"6:16 abort_on_fail", `want true or false, got a string "yes"`},
		},
	}, {
		name: "enum typo",
		src: base + `target: {kind: embeded}
`,
		want: []want{{"4:16 target.kind", `unknown value "embeded" — did you mean embedded?`}},
	}, {
		name: "the root must be a mapping",
		src:  "- a\n- b\n",
		want: []want{{"1:1 ", "want a mapping, got a list"}},
	}, {
		name: "empty file",
		src:  "# nothing\n",
		want: []want{{"1:1 ", "the scenario is empty"}},
	}, {
		name: "merge keys and second documents are refused",
		src: base + `x: &a {rate: 1/s}
connect:
  <<: *a
---
name: two
`,
		want: []want{
			{"4:1 x", `unknown key "x"`},
			{"6:3 ", "merge keys (<<) are not supported"},
			{"8:5 ", "a second YAML document"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, parseProblems(t, tt.src, tt.sets...), tt.want)
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	src := `devices: {count: -1}
connect: {rate: 0/s}
publish:
  qos: 5
  stages: [{duration: 1s, rate: 10/s}]
`
	got := parseProblems(t, src)
	checkProblems(t, got, []want{
		{"1:18 devices.count", "out of range"},
		{"2:17 connect.rate", "more than 0/s"},
		{"4:8 publish.qos", "5 is out of range — use a value from 0 to 1"},
	})
	_, err := Parse("t.yaml", []byte(src), nil)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("Error() has %d lines, want 3:\n%s", len(lines), err)
	}
	const first = `t.yaml:1:18: devices.count: -1 is out of range — use a value from 1 to 10000000`
	if lines[0] != first {
		t.Errorf("first line = %q\nwant        %q", lines[0], first)
	}
}

func TestValidScenariosHaveNoProblems(t *testing.T) {
	for name, src := range map[string]string{
		"base": base,
		"interval stage": `devices: {count: 10}
publish:
  stages: [{duration: 5s, interval: 2s}]
`,
		"mqtt confirm on embedded": base + "confirm: {type: mqtt}\n",
		"x509": `target: {kind: mqtt, host: 127.0.0.1, tls: {cert_file: c.pem, key_file: k.pem}}
auth: {type: x509}
` + base,
		"aliyun plain": `target: {kind: mqtt, host: 127.0.0.1, tls: false}
auth: {type: aliyun, product_key: pk, key_env: K}
connect: {keep_alive: 60s}
` + base,
		"payload exactly the fixed size": base + "  payload: {size: 133}\n",
		"no fill, no size":               base + "  payload: {template: 'x{stamp}'}\n",
		"count of one without index":     "devices: {count: 1, id: solo}\npublish: {stages: [{duration: 1s, rate: 1/s}]}\n",
		"one key exchange group":         "target: {tls: {key_exchange: x25519}}\n" + base,
	} {
		if p := parseProblems(t, src); p != nil {
			t.Errorf("%s: unexpected problems:\n%s", name, (&ValidationError{p}).Error())
		}
	}
}
