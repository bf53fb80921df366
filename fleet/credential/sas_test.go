package credential

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 in test: %v", err)
	}
	return b
}

// Vectors 1-6 of ../shared/protocols.md ("SAS tokens (IoT Hub)").
func TestSASVectors(t *testing.T) {
	t.Run("1 node create sig", func(t *testing.T) {
		// Source: azure-iot-sdk-node common/core/test/_shared_access_signature_test.js:
		// key = base64("password"), create('uri','name',key,12345).
		tok := SASToken("uri", b64(t, base64.StdEncoding.EncodeToString([]byte("password"))), time.Unix(12345, 0), "name").Reveal()
		want := "SharedAccessSignature sr=uri&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D&se=12345&skn=name"
		if tok != want {
			t.Errorf("token\n got %s\nwant %s", tok, want)
		}
	})
	t.Run("1 node skn encoding", func(t *testing.T) {
		// Source: same Node test: an skn of encode('Me') is written encode%28%27Me%27%29.
		tok := SASToken("uri", []byte("password"), time.Unix(12345, 0), "encode('Me')").Reveal()
		if !strings.HasSuffix(tok, "&skn=encode%28%27Me%27%29") {
			t.Errorf("token %s does not end in &skn=encode%%28%%27Me%%27%%29", tok)
		}
	})
	t.Run("2 node hmacHash and stringToSign", func(t *testing.T) {
		// Source: azure-iot-sdk-node common/core/test/_authorization_test.js.
		if got, want := Sign([]byte("password"), "string-to-sign"), "o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4="; got != want {
			t.Errorf("hmacHash = %s, want %s", got, want)
		}
		if got, want := StringToSign("blah/blah", time.Unix(12345, 0)), "blah%2Fblah\n12345"; got != want {
			// The Node test passes an already encoded uri; ours encodes, so
			// check the unencoded form separately below.
			t.Errorf("StringToSign = %q, want %q", got, want)
		}
		if got, want := StringToSign("blah", time.Unix(12345, 0)), "blah\n12345"; got != want {
			t.Errorf("StringToSign = %q, want %q", got, want)
		}
	})
	t.Run("3 python signing mechanism", func(t *testing.T) {
		// Source: azure-iot-sdk-python tests/unit/common/auth/test_signing_mechanism.py.
		key := b64(t, "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=")
		if got, want := Sign(key, "sign this message"), "8NJRMT83CcplGrAGaUVIUM/md5914KpWVNngSVoF9/M="; got != want {
			t.Errorf("sign = %s, want %s", got, want)
		}
	})
	t.Run("4 amenzhinsky iothub policy token", func(t *testing.T) {
		// Source: github.com/amenzhinsky/iothub common/sas_test.go.
		exp := time.Date(2019, 1, 1, 2, 1, 1, 0, time.UTC)
		if exp.Unix() != 1546308061 {
			t.Fatalf("expiry %d", exp.Unix())
		}
		got := SASToken("test.azure-devices.net", b64(t, "c2VjcmV0"), exp, "owner").Reveal()
		want := "SharedAccessSignature sr=test.azure-devices.net&sig=uux4PSAK1s9efNcBHin0pm7O5oENedTWkhqGp8JAyFY%3D&se=1546308061&skn=owner"
		if got != want {
			t.Errorf("token\n got %s\nwant %s", got, want)
		}
	})
	t.Run("5 C SDK formatting", func(t *testing.T) {
		// Source: azure-sdk-for-c sdk/tests/iot/hub/test_az_iot_hub_client_sas.c.
		uri := DeviceResourceURI("myiothub.azure-devices.net", "my_device")
		exp := time.Unix(1578941692, 0)
		if got, want := StringToSign(uri, exp), "myiothub.azure-devices.net%2Fdevices%2Fmy_device\n1578941692"; got != want {
			t.Errorf("string to sign %q, want %q", got, want)
		}
		got := FormatSASToken(uri, "cS1eHM/lDjsRsrZV9508wOFrgmZk4g8FNg8NwHVSiSQ", exp, "").Reveal()
		want := "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=cS1eHM%2FlDjsRsrZV9508wOFrgmZk4g8FNg8NwHVSiSQ&se=1578941692"
		if got != want {
			t.Errorf("password\n got %s\nwant %s", got, want)
		}
	})
	t.Run("6 DPS derived device key", func(t *testing.T) {
		// Source: Azure docs, legacy DPS symmetric-key how-to (group enrollment).
		group := b64(t, "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==")
		got := base64.StdEncoding.EncodeToString(DeriveDeviceKey(group, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"))
		if want := "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="; got != want {
			t.Errorf("derived key %s, want %s", got, want)
		}
	})
}

// The signature covers exactly the encoded sr: sign and token agree.
func TestSASTokenSignsEncodedResource(t *testing.T) {
	key := []byte("k")
	exp := time.Unix(1700000000, 0)
	uri := DeviceResourceURI("Hub.azure-devices.net", "Dev 1/ä")
	tok := SASToken(uri, key, exp, "").Reveal()
	wantSR := "sr=Hub.azure-devices.net%2Fdevices%2FDev%201%2F%C3%A4&"
	if !strings.Contains(tok, wantSR) {
		t.Fatalf("token %s lacks %s", tok, wantSR)
	}
	sig := Sign(key, StringToSign(uri, exp))
	if !strings.Contains(tok, "&sig="+string(appendURLEncoded(nil, sig))+"&") {
		t.Fatalf("token signature is not Sign(StringToSign)")
	}
	if got := string(AppendSASToken([]byte("x"), uri, key, exp, "")); got != "x"+tok {
		t.Fatalf("AppendSASToken = %s, want x%s", got, tok)
	}
}

func TestURLEncodeUnreserved(t *testing.T) {
	in := "AZaz09-_.~ !'()*/+=%$"
	want := "AZaz09-_.~%20%21%27%28%29%2A%2F%2B%3D%25%24"
	if got := string(appendURLEncoded(nil, in)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestHubUsernameAndResource(t *testing.T) {
	if got, want := HubUsername("h.azure-devices.net", "dev-1", ""), "h.azure-devices.net/dev-1/?api-version=2021-04-12"; got != want {
		t.Errorf("HubUsername = %s, want %s", got, want)
	}
	if got, want := HubUsername("h", "d", "2020-09-30"), "h/d/?api-version=2020-09-30"; got != want {
		t.Errorf("HubUsername = %s, want %s", got, want)
	}
	if got, want := DeviceResourceURI("h", "d"), "h/devices/d"; got != want {
		t.Errorf("DeviceResourceURI = %s, want %s", got, want)
	}
}

func TestVerifySAS(t *testing.T) {
	key := []byte("device-key")
	uri := DeviceResourceURI("hub.example", "dev-1")
	now := time.Unix(1_700_000_000, 0)
	good := SASToken(uri, key, now.Add(time.Hour), "").Reveal()
	tests := []struct {
		name  string
		token string
		uri   string
		key   []byte
		now   time.Time
		want  error
	}{
		{"valid", good, uri, key, now, nil},
		{"host case-insensitive", good, DeviceResourceURI("HUB.example", "dev-1"), key, now, nil},
		{"other device", good, DeviceResourceURI("hub.example", "dev-2"), key, now, ErrSASResource},
		{"device id is case-sensitive", good, DeviceResourceURI("hub.example", "DEV-1"), key, now, ErrSASResource},
		{"wrong key", good, uri, []byte("other"), now, ErrSASSignature},
		{"expired exactly at se", good, uri, key, now.Add(time.Hour), ErrSASExpired},
		{"expired after se", good, uri, key, now.Add(2 * time.Hour), ErrSASExpired},
		{"tampered expiry", strings.Replace(good, "&se=", "&se=9", 1), uri, key, now, ErrSASSignature},
		{"no prefix", strings.TrimPrefix(good, "SharedAccessSignature "), uri, key, now, ErrSASMalformed},
		{"missing sig", "SharedAccessSignature sr=a&se=1", "a", key, now, ErrSASMalformed},
		{"unknown field", good + "&x=1", uri, key, now, ErrSASMalformed},
		{"bad se", "SharedAccessSignature sr=a&sig=b&se=z", "a", key, now, ErrSASMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySAS(tc.token, tc.uri, tc.key, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifySAS = %v, want %v", err, tc.want)
			}
			_, sig, _ := strings.Cut(good, "&sig=")
			sig, _, _ = strings.Cut(sig, "&")
			if err != nil && strings.Contains(err.Error(), sig) {
				t.Fatalf("error quotes the token: %v", err)
			}
		})
	}
}

// A published token (vector 4) parses into its fields and verifies.
func TestParseSASVector(t *testing.T) {
	tok := "SharedAccessSignature sr=test.azure-devices.net&sig=uux4PSAK1s9efNcBHin0pm7O5oENedTWkhqGp8JAyFY%3D&se=1546308061&skn=owner"
	f, err := ParseSAS(tok)
	if err != nil {
		t.Fatal(err)
	}
	if f.Resource != "test.azure-devices.net" || f.Policy != "owner" || f.Expiry.Unix() != 1546308061 {
		t.Fatalf("fields %+v", f)
	}
	if err := f.Verify("test.azure-devices.net", []byte("secret"), time.Unix(1546308000, 0)); err != nil {
		t.Fatal(err)
	}
}
