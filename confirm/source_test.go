package confirm

import (
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-amqp"

	"github.com/fleetbench/fleetbench/scenario"
)

type scenarioConfirm = scenario.Confirm

func secrets(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// Configuration errors say what to set, and never show a secret.
func TestNewRejectsBadConfig(t *testing.T) {
	const secret = "hunter2-very-secret"
	sec := secrets(map[string]string{"PW": secret, "AK": "ak", "AS": secret})
	cases := []struct {
		name string
		c    scenario.Confirm
		want string
	}{
		{"unknown type", scenario.Confirm{Type: "kafka"}, "unknown type"},
		{"amqp without url", scenario.Confirm{Type: "amqp", Sources: []string{"/q"}}, "set confirm.url"},
		{"amqp password in url", scenario.Confirm{Type: "amqp", URL: "amqp://u:" + secret + "@127.0.0.1", Sources: []string{"/q"}}, "password_env"},
		{"amqp wrong scheme", scenario.Confirm{Type: "amqp", URL: "http://127.0.0.1", Sources: []string{"/q"}}, "use amqp or amqps"},
		{"amqp without sources", scenario.Confirm{Type: "amqp", URL: "amqp://127.0.0.1"}, "confirm.sources"},
		{"amqp unset password env", scenario.Confirm{Type: "amqp", URL: "amqp://127.0.0.1", Username: "u", PasswordEnv: "NOPE", Sources: []string{"/q"}}, "NOPE is not set"},
		{"amqp bad sasl", scenario.Confirm{Type: "amqp", URL: "amqp://127.0.0.1", SASL: "external", Sources: []string{"/q"}}, "sasl"},
		{"amqps missing CA file", scenario.Confirm{Type: "amqp", URL: "amqps://127.0.0.1", CAFile: "/nonexistent/ca.pem", Sources: []string{"/q"}}, "ca_file"},
		{"mqtt unset password", scenario.Confirm{Type: "mqtt", URL: "mqtt://127.0.0.1", PasswordEnv: "NOPE"}, "NOPE is not set"},
		{"aliyun idle timeout", func() scenario.Confirm { c := *aliyunConfig(); c.IdleTimeout = 10 * time.Second; return c }(), "30s to 300s"},
		{"aliyun unknown sign method", func() scenario.Confirm { c := *aliyunConfig(); c.SignMethod = "sha512"; return c }(), "hmacsha1, hmacsha256 or hmacmd5"},
		{"aliyun no consumer group", func() scenario.Confirm { c := *aliyunConfig(); c.ConsumerGroup = ""; return c }(), "consumer_group"},
		{"eventhubs no env", scenario.Confirm{Type: "azure-eventhubs"}, "connection_string_env"},
		{"eventhubs unset env", scenario.Confirm{Type: "azure-eventhubs", ConnectionStringEnv: "NOPE"}, "NOPE is not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(&c.c, Deps{Secret: sec})
			if err == nil {
				t.Fatalf("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret: %q", err)
			}
		})
	}
}

// Valid configurations build a source for every type.
func TestNewBuildsEverySource(t *testing.T) {
	sec := secrets(map[string]string{"PW": "pw", "AK": "ak", "AS": "as",
		"EH": "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5;EntityPath=hub"})
	for _, c := range []scenario.Confirm{
		{Type: "amqp", URL: "amqp://127.0.0.1:5672", Username: "u", PasswordEnv: "PW", Sources: []string{"/amq/queue/a", "/amq/queue/b"}},
		{Type: "amqp", URL: "amqp://127.0.0.1", SASL: "anonymous", Sources: []string{"/q"}},
		{Type: "mqtt", URL: "mqtts://127.0.0.1:8883", Username: "u", PasswordEnv: "PW", Clients: 3},
		*aliyunConfig(),
		{Type: "azure-eventhubs", ConnectionStringEnv: "EH", ConsumerGroup: "fleetbench"},
	} {
		src, err := New(&c, Deps{Secret: sec})
		if err != nil {
			t.Fatalf("%s: %v", c.Type, err)
		}
		select {
		case <-src.Ready():
			t.Fatalf("%s: ready before Run", c.Type)
		default:
		}
	}
	src, _ := New(&scenario.Confirm{Type: "mqtt", URL: "mqtt://127.0.0.1", Clients: 2, Topic: "a/#"}, Deps{})
	if f := src.(*mqttSource).filter; f != "$share/fleetbench/a/#" {
		t.Fatalf("shared filter %q", f)
	}
}

// The payload is the data section, or an AMQP value; the enqueued time
// comes from x-opt-enqueued-time.
func TestAMQPPayload(t *testing.T) {
	enq := time.UnixMilli(1_700_000_000_000).UTC()
	m := amqp.NewMessage([]byte("data"))
	m.Annotations = amqp.Annotations{"x-opt-enqueued-time": enq}
	if p, e, _ := amqpPayload(m); string(p) != "data" || !e.Equal(enq) {
		t.Errorf("data: %q %v", p, e)
	}
	if p, _, _ := amqpPayload(&amqp.Message{Data: [][]byte{[]byte("a"), []byte("b")}}); string(p) != "ab" {
		t.Errorf("two data sections: %q", p)
	}
	if p, e, _ := amqpPayload(&amqp.Message{Value: "str"}); string(p) != "str" || !e.IsZero() {
		t.Errorf("string value: %q %v", p, e)
	}
}

// Back-off doubles from 100 ms to 5 s and jitters down by at most 25%.
func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		frac float64
		want time.Duration
	}{
		{0, 0, 100 * time.Millisecond},
		{1, 0, 200 * time.Millisecond},
		{5, 0, 3200 * time.Millisecond},
		{6, 0, 5 * time.Second}, // capped
		{100, 0, 5 * time.Second},
		{0, 0.999, 75*time.Millisecond + 25*time.Microsecond}, // nearly the full 25% jitter
		{6, 0.5, 4375 * time.Millisecond},
	} {
		if got := backoff(c.n, c.frac); got != c.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", c.n, c.frac, got, c.want)
		}
	}
}
