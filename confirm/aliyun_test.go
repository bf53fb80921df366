package confirm

import (
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-amqp"
)

// Alibaba's own subscription samples list hmacmd5, hmacsha1 and hmacsha256
// as sign methods for the aksign password; the source accepts all three (the
// signature itself, with vectors computed outside Go, is tested with
// credential.AliyunAMQP) and names them when it refuses another.
func TestAliyunAcceptsTheSamplesSignMethods(t *testing.T) {
	deps := Deps{Secret: secrets(map[string]string{"AK": "key", "AS": "secret"})}
	for _, m := range []string{"", "hmacmd5", "hmacsha1", "hmacsha256"} {
		c := aliyunConfig()
		c.SignMethod = m
		if _, err := New(c, deps); err != nil {
			t.Errorf("sign_method %q refused: %v", m, err)
		}
	}
	c := aliyunConfig()
	c.SignMethod = "sha512"
	_, err := New(c, deps)
	if err == nil || !strings.Contains(err.Error(), "hmacsha1, hmacsha256 or hmacmd5") {
		t.Errorf("sign_method sha512: err %v, want it to list the three methods", err)
	}
}

// Repeated messageIds are dropped and counted; generateTime is the hub
// time; the dedupe forgets the oldest ids first.
func TestAliyunAcceptDedupes(t *testing.T) {
	src, err := New(aliyunConfig(), Deps{Secret: secrets(map[string]string{"AK": "key", "AS": "secret"})})
	if err != nil {
		t.Fatal(err)
	}
	a := src.(*amqpConsumer)
	msg := func(id string) *amqp.Message {
		m := amqp.NewMessage([]byte("body-" + id))
		m.ApplicationProperties = map[string]any{"messageId": id, "topic": "/pk/dev1/user/update", "generateTime": int64(1_700_000_000_500)}
		return m
	}
	p, enq, ok := a.accept(msg("1"))
	if !ok || string(p) != "body-1" || !enq.Equal(time.UnixMilli(1_700_000_000_500)) {
		t.Fatalf("accept = %q %v %v", p, enq, ok)
	}
	if _, _, ok := a.accept(msg("1")); ok {
		t.Fatal("a repeated messageId was delivered")
	}
	if _, _, ok := a.accept(msg("2")); !ok {
		t.Fatal("a new messageId was dropped")
	}
	if s := a.Stats(); s.Deduplicated != 1 {
		t.Fatalf("Deduplicated = %d, want 1", s.Deduplicated)
	}

	d := newDedupe(3)
	for _, id := range []string{"a", "b", "c"} {
		if d.seen(id) {
			t.Fatalf("%s seen before it was recorded", id)
		}
	}
	if !d.seen("a") || d.seen("d") || d.seen("a") {
		// "d" pushes out "a", the oldest.
		t.Fatal("dedupe ring does not forget the oldest id first")
	}
}

func aliyunConfig() *scenarioConfirm {
	return &scenarioConfirm{
		Type: "aliyun", URL: "amqps://1234.iot-amqp.cn-shanghai.aliyuncs.com", ClientID: "bench1",
		AccessKeyEnv: "AK", AccessSecretEnv: "AS", ConsumerGroup: "g1", InstanceID: "iot-1",
	}
}

func BenchmarkDedupe(b *testing.B) {
	d := newDedupe(1 << 10)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "msg-" + strings.Repeat("x", 20) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.seen(ids[i%len(ids)])
	}
}
