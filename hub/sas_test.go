package hub

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Published vectors (see /work/shared/protocols.md for their sources).
func TestHMACVectors(t *testing.T) {
	cases := []struct {
		name  string
		key   []byte
		parts []string
		want  string // base64, or URL-encoded base64 when urlenc
		enc   bool
	}{
		// Node SDK common/core/test/_shared_access_signature_test.js:
		// create('uri', 'name', base64("password"), 12345).
		{"node create", []byte("password"), []string{"uri", "\n", "12345"}, "kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D", true},
		// Node SDK _authorization_test.js: hmacHash(key, 'string-to-sign').
		{"node hmacHash", []byte("password"), []string{"string-to-sign"}, "o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4=", false},
		// Python SDK tests/unit/common/auth/test_signing_mechanism.py.
		{"python sign", b64(t, "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg="), []string{"sign this message"}, "8NJRMT83CcplGrAGaUVIUM/md5914KpWVNngSVoF9/M=", false},
		// amenzhinsky/iothub common/sas_test.go (policy token, sr = host).
		{"iothub go", []byte("secret"), []string{"test.azure-devices.net", "\n", "1546308061"}, "uux4PSAK1s9efNcBHin0pm7O5oENedTWkhqGp8JAyFY%3D", true},
	}
	for _, tc := range cases {
		got := base64.StdEncoding.EncodeToString(hmacSHA256(tc.key, tc.parts...))
		if tc.enc {
			got = url.QueryEscape(got)
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Azure docs (legacy DPS symmetric key how-to): derived device key.
func TestDeviceKeyDerivationVector(t *testing.T) {
	group := b64(t, "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==")
	got := base64.StdEncoding.EncodeToString(deviceKey(group, nil, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"))
	if want := "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="; got != want {
		t.Errorf("derived key %s, want %s", got, want)
	}
	if got := deviceKey(nil, []byte("shared"), "any"); string(got) != "shared" {
		t.Errorf("without a group key the shared key is used, got %q", got)
	}
}

// C SDK test_az_iot_hub_client_sas.c formats a password with an unpadded
// signature; it parses, its resource matches, and only the (made-up)
// signature fails.
func TestParseCSDKPassword(t *testing.T) {
	const pw = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=cS1eHM%2FlDjsRsrZV9508wOFrgmZk4g8FNg8NwHVSiSQ&se=1578941692"
	tok, err := parseSAS(pw)
	if err != nil {
		t.Fatal(err)
	}
	if tok.sr != "myiothub.azure-devices.net%2Fdevices%2Fmy_device" || tok.se != "1578941692" || tok.hasSkn {
		t.Errorf("parsed %+v", tok)
	}
	err = tok.verify("myiothub.azure-devices.net", "my_device", []byte("k"), time.Unix(1578941000, 0))
	if !errors.Is(err, errBadSig) {
		t.Errorf("verify = %v, want %v", err, errBadSig)
	}
}

// sigOf signs sr (as given, already encoded) and se with key.
func sigOf(key []byte, sr, se string) string {
	return url.QueryEscape(base64.StdEncoding.EncodeToString(hmacSHA256(key, sr, "\n", se)))
}

// makeToken builds a token from sigOf, with extra fields appended.
func makeToken(key []byte, sr, se string, extra ...string) string {
	fields := append([]string{"sr=" + sr, "sig=" + sigOf(key, sr, se), "se=" + se}, extra...)
	return sasPrefix + strings.Join(fields, "&")
}

func TestVerify(t *testing.T) {
	const host, id = "hub.azure-devices.net", "dev-1"
	key := []byte("device key")
	sr := url.QueryEscape(host + "/devices/" + id)
	now := time.Unix(1_700_000_000, 0)
	se := "1700000060"
	good := makeToken(key, sr, se)
	cases := []struct {
		name    string
		pw      string
		now     time.Time
		wantErr string // substring; "" = valid
	}{
		{"valid", good, now, ""},
		{"valid until the last second", good, time.Unix(1700000059, 0), ""},
		{"expired at se", good, time.Unix(1700000060, 0), "expired"},
		{"fields in another order", sasPrefix + "se=" + se + "&sig=" + sigOf(key, sr, se) + "&sr=" + sr, now, ""},
		{"host in upper case, lower-case hex", makeToken(key, strings.ToUpper(host)+"%2fdevices%2f"+id, se), now, ""},
		{"wrong key", makeToken([]byte("other"), sr, se), now, "does not match"},
		{"other device", makeToken(key, url.QueryEscape(host+"/devices/dev-2"), se), now, "is not"},
		{"device id case differs", makeToken(key, url.QueryEscape(host+"/devices/DEV-1"), se), now, "is not"},
		{"hub-level resource", makeToken(key, host, se), now, "is not"},
		{"other hub", makeToken(key, url.QueryEscape("x.azure-devices.net/devices/"+id), se), now, "is not"},
		{"signed sr differs from sent sr", strings.Replace(good, "sr="+sr, "sr="+host+"/devices/"+id, 1), now, "does not match"},
		{"skn", makeToken(key, sr, se, "skn=owner"), now, "policy"},
		{"no prefix", strings.TrimPrefix(good, sasPrefix), now, "not a SAS token"},
		{"missing se", sasPrefix + "sr=" + sr + "&sig=abc", now, "lacks"},
		{"repeated sr", good + "&sr=" + sr, now, "repeats"},
		{"unknown field", good + "&foo=1", now, "unknown field"},
		{"field without =", good + "&foo", now, "without '='"},
		{"se not a number", makeToken(key, sr, "soon"), now, "unix time"},
		{"sig not base64", sasPrefix + "sr=" + sr + "&sig=%%%&se=" + se, now, "sig"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := parseSAS(tc.pw)
			if err == nil {
				err = tok.verify(host, id, key, tc.now)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "sig=") && strings.Contains(err.Error(), tc.pw) {
				t.Errorf("error quotes the token: %v", err)
			}
		})
	}
}

// Signatures are URL-decoded then base64-decoded, padded or not; a raw '+'
// decodes to a space (form encoding, as IoT Hub's service does), so it fails.
func TestDecodeSig(t *testing.T) {
	mac := hmacSHA256([]byte("k"), "m")
	std := base64.StdEncoding.EncodeToString(mac)
	for _, tc := range []struct {
		name, raw string
		ok        bool
	}{
		{"encoded", url.QueryEscape(std), true},
		{"unencoded, no special characters", strings.NewReplacer("+", "A", "/", "A").Replace(std), true},
		{"unpadded", url.QueryEscape(base64.RawStdEncoding.EncodeToString(mac)), true},
		{"raw plus", "ab+" + url.QueryEscape(std)[3:], false},
		{"too short", url.QueryEscape(base64.StdEncoding.EncodeToString(mac[:16])), false},
		{"bad escape", "%zz", false},
	} {
		_, err := decodeSig(tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestParseUsername(t *testing.T) {
	const host = "hub.azure-devices.net"
	cases := []struct {
		user, wantID string // wantID "" = refused
	}{
		{host + "/dev-1/?api-version=2021-04-12", "dev-1"},
		{host + "/dev-1/?api-version=2021-04-12&DeviceClientType=fleetbench%2F1.0&model-id=dtmi%3Ax%3B1", "dev-1"},
		{"HUB.Azure-Devices.net/dev-1/?api-version=2018-06-30", "dev-1"},
		{host + "/a.b_c-d%e*f?g!h(i)j,k:l=m@n$o'p/?api-version=1", "a.b_c-d%e*f?g!h(i)j,k:l=m@n$o'p"},
		{host + "/dev-1/", ""},
		{host + "/dev-1/?api-version=", ""},
		{host + "/dev-1/?api-version=&x=1", ""},
		{host + "/dev-1?api-version=1", ""},
		{host + "/dev-1/module-1/?api-version=1", ""},
		{"other.azure-devices.net/dev-1/?api-version=1", ""},
		{host + "//?api-version=1", ""},
		{host + "/dev+1/?api-version=1", ""},
		{host + "/dev#1/?api-version=1", ""},
		{host + "/dev 1/?api-version=1", ""},
		{host + "/" + strings.Repeat("x", 129) + "/?api-version=1", ""},
		{"dev-1", ""},
	}
	for _, tc := range cases {
		id, err := parseUsername(tc.user, host)
		if tc.wantID == "" && err == nil {
			t.Errorf("%q accepted as device %q", tc.user, id)
		}
		if tc.wantID != "" && (err != nil || id != tc.wantID) {
			t.Errorf("%q: got %q, %v; want %q", tc.user, id, err, tc.wantID)
		}
	}
}
