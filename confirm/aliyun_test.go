package confirm

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-amqp"
)

// The aksign username and password follow the documented formula
// (../shared/protocols.md, Alibaba Cloud "AMQP client access" docs),
// recomputed here independently of AliyunSign.
func TestAliyunSign(t *testing.T) {
	const ts = int64(1_700_000_000_123) // epoch milliseconds, not the sub-second part
	for _, c := range []struct {
		method string
		mac    func([]byte) []byte
	}{
		{"hmacsha1", func(k []byte) []byte {
			m := hmac.New(sha1.New, k)
			m.Write([]byte("authId=LTAIkey&timestamp=1700000000123"))
			return m.Sum(nil)
		}},
		{"hmacsha256", func(k []byte) []byte {
			m := hmac.New(sha256.New, k)
			m.Write([]byte("authId=LTAIkey&timestamp=1700000000123"))
			return m.Sum(nil)
		}},
	} {
		got, err := AliyunSign("bench1", "LTAIkey", "s3cret", "iot-06z00", "DEFAULT_GROUP", c.method, ts)
		if err != nil {
			t.Fatal(err)
		}
		wantUser := "bench1|authMode=aksign,signMethod=" + c.method +
			",timestamp=1700000000123,authId=LTAIkey,iotInstanceId=iot-06z00,consumerGroupId=DEFAULT_GROUP|"
		if got.Username != wantUser {
			t.Errorf("%s username\n got %s\nwant %s", c.method, got.Username, wantUser)
		}
		if want := base64.StdEncoding.EncodeToString(c.mac([]byte("s3cret"))); got.Password != want {
			t.Errorf("%s password %s, want %s", c.method, got.Password, want)
		}
		if strings.Contains(got.String(), got.Password) {
			t.Errorf("String() shows the password")
		}
	}
	if def, _ := AliyunSign("c", "k", "s", "", "g", "", 1); !strings.Contains(def.Username, "signMethod=hmacsha1,") {
		t.Errorf("default sign method: %s", def.Username)
	}
	if _, err := AliyunSign("c", "k", "s", "", "g", "hmacmd5", 1); err == nil {
		t.Error("hmacmd5 accepted for the server-side subscription")
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
