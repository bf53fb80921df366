package credential

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

// The AMQP server-side subscription (aksign) username and password for all
// three sign methods that Alibaba's own subscription sample lists ("The
// signature algorithm. Valid values: hmacmd5, hmacsha1, and hmacsha256.",
// Alibaba Cloud IoT Platform docs, "Example: Python 3 SDK connection",
// help.aliyun.com/en/iot/developer-reference/connect-a-client-to-iot-platform-by-using-the-sdk-for-python;
// formats in ../shared/protocols.md). The passwords were computed outside Go
// with the sample's own recipe, Python's hmac module:
//
//	base64.b64encode(hmac.new(b"s3cret", b"authId=LTAIkey&timestamp=1700000000123",
//	    digestmod=hashlib.md5|sha1|sha256).digest())
//
// and agree with `printf %s 'authId=...' | openssl dgst -md5|-sha1|-sha256
// -hmac s3cret -binary | base64`.
func TestAliyunAMQP(t *testing.T) {
	const ts = int64(1_700_000_000_123) // epoch ms, not the sub-second part
	for _, tc := range []struct{ method, password string }{
		{SignHMACMD5, "zorG1rb07v4Sv6w8zna6vA=="},
		{SignHMACSHA1, "9SJ8S4coUi0C0Z4SiOzvmpAr7OY="},
		{SignHMACSHA256, "2BPTR3CdfwW30XR0T6MY8of0Gs+VnhYQY5upinftsw0="},
	} {
		t.Run(tc.method, func(t *testing.T) {
			p := AliyunAMQPAuth{ClientID: "bench1", AccessKey: "LTAIkey", AccessSecret: "s3cret", InstanceID: "iot-06z00", ConsumerGroup: "DEFAULT_GROUP", SignMethod: tc.method}
			user, pw, err := AliyunAMQP(p, ts)
			if err != nil {
				t.Fatal(err)
			}
			wantUser := "bench1|authMode=aksign,signMethod=" + tc.method +
				",timestamp=1700000000123,authId=LTAIkey,iotInstanceId=iot-06z00,consumerGroupId=DEFAULT_GROUP|"
			if user != wantUser {
				t.Errorf("username\n got %s\nwant %s", user, wantUser)
			}
			if pw.Reveal() != tc.password {
				t.Errorf("password %s, want %s", pw.Reveal(), tc.password)
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
		_, _, err := AliyunAMQP(AliyunAMQPAuth{SignMethod: "sha512"}, 1)
		for _, want := range []string{"sha512", "hmacmd5", "client id", "AccessKey id", "AccessKey secret", "consumer group"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err %v should mention %q", err, want)
			}
		}
	})
}
