package credential

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"testing"
)

// Vectors of ../shared/protocols.md ("Alibaba Cloud IoT Platform", Device MQTT).
func TestAliyunMQTTVectors(t *testing.T) {
	tests := []struct {
		name                   string
		dev                    AliyunDevice
		ts                     int64
		wantClientID, wantUser string
		wantPassword           string // compared case-insensitively: the sources differ in case
	}{
		{
			// Source: Alibaba Cloud IoT Platform docs, "MQTT-TCP connection" signature example.
			name:         "official doc",
			dev:          AliyunDevice{ProductKey: "pk", DeviceName: "device", ClientID: "12345", DeviceSecret: "secret", SignMethod: SignHMACSHA1, SecureMode: SecureModeTCP},
			ts:           789,
			wantClientID: "12345|securemode=3,signmethod=hmacsha1,timestamp=789|",
			wantUser:     "device&pk",
			wantPassword: "FAFD82A3D602B37FB0FA8B7892F24A477F851A14",
		},
		{
			// Source: community article (Alibaba Cloud developer community) on the MQTT signature.
			name:         "community article",
			dev:          AliyunDevice{ProductKey: "a14Xib5kdYd", DeviceName: "light1983432", ClientID: "SN1928339", DeviceSecret: "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq", SignMethod: SignHMACSHA1, SecureMode: SecureModeTCP},
			ts:           1539421321846,
			wantClientID: "SN1928339|securemode=3,signmethod=hmacsha1,timestamp=1539421321846|",
			wantUser:     "light1983432&a14Xib5kdYd",
			wantPassword: "b2488041f64f425016b467ee1c94959ebd592ad1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cid, user, pw, err := AliyunMQTT(tc.dev, tc.ts)
			if err != nil {
				t.Fatal(err)
			}
			if cid != tc.wantClientID || user != tc.wantUser {
				t.Errorf("client id %q user %q, want %q %q", cid, user, tc.wantClientID, tc.wantUser)
			}
			if !strings.EqualFold(pw.Reveal(), tc.wantPassword) {
				t.Errorf("password %s, want %s", pw.Reveal(), tc.wantPassword)
			}
			if pw.Reveal() != strings.ToLower(pw.Reveal()) {
				t.Errorf("password hex should be lower-case")
			}
		})
	}
}

func TestAliyunMQTTDefaultsAndErrors(t *testing.T) {
	cid, _, pw, err := AliyunMQTT(AliyunDevice{ProductKey: "pk", DeviceName: "d", DeviceSecret: "s", SecureMode: SecureModeTLS}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if cid != "d|securemode=2,signmethod=hmacsha256,timestamp=5|" {
		t.Errorf("client id %q: want device name and hmacsha256 as defaults", cid)
	}
	// clientId{d}deviceName{d}productKey{pk}timestamp{5}, keys in alphabetical order.
	m := hmac.New(sha256.New, []byte("s"))
	m.Write([]byte("clientIdddeviceNamedproductKeypktimestamp5"))
	if want := hex.EncodeToString(m.Sum(nil)); pw.Reveal() != want {
		t.Errorf("hmacsha256 password %s, want %s", pw.Reveal(), want)
	}
	bad := []struct {
		name string
		dev  AliyunDevice
		want string
	}{
		{"no product key", AliyunDevice{DeviceName: "d", DeviceSecret: "s", SecureMode: 2}, "product key is empty"},
		{"no secret", AliyunDevice{ProductKey: "p", DeviceName: "d", SecureMode: 2}, "device secret is empty"},
		{"bad mode", AliyunDevice{ProductKey: "p", DeviceName: "d", DeviceSecret: "s"}, "secure mode 0"},
		{"bad method", AliyunDevice{ProductKey: "p", DeviceName: "d", DeviceSecret: "s", SecureMode: 2, SignMethod: "sha1"}, "sign method \"sha1\""},
		{"pipe in client id", AliyunDevice{ProductKey: "p", DeviceName: "d", ClientID: "a|b", DeviceSecret: "s", SecureMode: 2}, "contains '|'"},
	}
	for _, tc := range bad {
		_, _, _, err := AliyunMQTT(tc.dev, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// The AMQP server-side subscription signature, computed here from the
// formula in ../shared/protocols.md (Alibaba Cloud docs, "Connect an AMQP
// client"): epoch milliseconds; hmacsha1 and hmacsha256.
func TestAliyunAMQP(t *testing.T) {
	const ts = int64(1_700_000_123_456) // epoch ms, not the sub-second part
	for _, tc := range []struct {
		method string
		new    func() hash.Hash
	}{{SignHMACSHA1, sha1.New}, {SignHMACSHA256, sha256.New}} {
		t.Run(tc.method, func(t *testing.T) {
			p := AliyunAMQPAuth{ClientID: "bench-1", AccessKey: "LTAIkey", AccessSecret: "topsecret", InstanceID: "iot-06z00", ConsumerGroup: "DEFAULT_GROUP", SignMethod: tc.method}
			user, pw, err := AliyunAMQP(p, ts)
			if err != nil {
				t.Fatal(err)
			}
			tsText := strconv.FormatInt(ts, 10)
			wantUser := "bench-1|authMode=aksign,signMethod=" + tc.method + ",timestamp=" + tsText +
				",authId=LTAIkey,iotInstanceId=iot-06z00,consumerGroupId=DEFAULT_GROUP|"
			m := hmac.New(tc.new, []byte("topsecret"))
			m.Write([]byte("authId=LTAIkey&timestamp=" + tsText))
			wantPW := base64.StdEncoding.EncodeToString(m.Sum(nil))
			if user != wantUser {
				t.Errorf("username\n got %s\nwant %s", user, wantUser)
			}
			if pw.Reveal() != wantPW {
				t.Errorf("password %s, want %s", pw.Reveal(), wantPW)
			}
		})
	}
	t.Run("default hmacsha1", func(t *testing.T) {
		user, _, err := AliyunAMQP(AliyunAMQPAuth{ClientID: "c", AccessKey: "a", AccessSecret: "s", ConsumerGroup: "g"}, 1)
		if err != nil || !strings.Contains(user, "signMethod=hmacsha1,") {
			t.Fatalf("user %q err %v", user, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, _, err := AliyunAMQP(AliyunAMQPAuth{SignMethod: SignHMACMD5}, 1)
		for _, want := range []string{"hmacmd5", "client id", "AccessKey id", "AccessKey secret", "consumer group"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err %v should mention %q", err, want)
			}
		}
	})
}
