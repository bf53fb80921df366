package hub

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/fleet/credential"
)

// The published HMAC vectors (Node create and hmacHash, Python signing,
// amenzhinsky/iothub, C SDK formatting, DPS key derivation) are tested in
// package credential (TestSASVectors), which parses and verifies tokens for
// the hub. These tests run tokens through checkPassword, the hub's refusal
// path for a device CONNECT.

const sasPrefix = "SharedAccessSignature "

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Azure docs (legacy DPS symmetric key how-to): with a group key the hub
// derives the device key; without one every device uses the shared key.
func TestDeviceKey(t *testing.T) {
	group := b64(t, "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==")
	got := base64.StdEncoding.EncodeToString(deviceKey(group, []byte("shared"), "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"))
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
func TestCSDKPassword(t *testing.T) {
	const pw = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=cS1eHM%2FlDjsRsrZV9508wOFrgmZk4g8FNg8NwHVSiSQ&se=1578941692"
	f, err := credential.ParseSAS(pw)
	if err != nil {
		t.Fatal(err)
	}
	if f.RawResource != "myiothub.azure-devices.net%2Fdevices%2Fmy_device" || f.RawExpiry != "1578941692" || f.Policy != "" {
		t.Errorf("parsed sr %q, se %q, skn %q", f.RawResource, f.RawExpiry, f.Policy)
	}
	_, err = checkPassword(pw, "myiothub.azure-devices.net", "my_device", []byte("k"), time.Unix(1578941000, 0))
	if !errors.Is(err, credential.ErrSASSignature) {
		t.Errorf("checkPassword = %v, want %v", err, credential.ErrSASSignature)
	}
}

// makeToken builds a token signed with key over sr (as given, already
// encoded) and se, with extra fields appended.
func makeToken(key []byte, sr, se string, extra ...string) string {
	fields := append([]string{"sr=" + sr, "sig=" + url.QueryEscape(testSig(key, sr, se)), "se=" + se}, extra...)
	return sasPrefix + strings.Join(fields, "&")
}

// sigField returns the raw sig value of a token, "" if it has none.
func sigField(token string) string {
	_, sig, ok := strings.Cut(token, "sig=")
	if !ok {
		return ""
	}
	sig, _, _ = strings.Cut(sig, "&")
	return sig
}

func TestCheckPassword(t *testing.T) {
	const host, id = "hub.azure-devices.net", "dev-1"
	key := []byte("device key")
	sr := url.QueryEscape(host + "/devices/" + id)
	now := time.Unix(1_700_000_000, 0)
	se := "1700000060"
	good := makeToken(key, sr, se)
	// credential does not say which part of a malformed token is wrong; the
	// hub's message lists the rules instead.
	cases := []struct {
		name   string
		pw     string
		now    time.Time
		want   error  // nil = valid
		text   string // in the refusal message
		reason Reason // of the refusal
	}{
		{"valid", good, now, nil, "", 0},
		{"valid until the last second", good, time.Unix(1700000059, 0), nil, "", 0},
		{"expired at se", good, time.Unix(1700000060, 0), credential.ErrSASExpired, "expired at 2023-11-14T22:14:20Z", ReasonTokenExpired},
		{"fields in another order", sasPrefix + "se=" + se + "&sig=" + url.QueryEscape(testSig(key, sr, se)) + "&sr=" + sr, now, nil, "", 0},
		{"host in upper case, lower-case hex", makeToken(key, strings.ToUpper(host)+"%2fdevices%2f"+id, se), now, nil, "", 0},
		{"wrong key", makeToken([]byte("other"), sr, se), now, credential.ErrSASSignature, "does not match", ReasonWrongKey},
		{"other device", makeToken(key, url.QueryEscape(host+"/devices/dev-2"), se), now, credential.ErrSASResource, "is not " + host + "/devices/" + id, ReasonTokenResource},
		{"device id case differs", makeToken(key, url.QueryEscape(host+"/devices/DEV-1"), se), now, credential.ErrSASResource, "is not", ReasonTokenResource},
		{"hub-level resource", makeToken(key, host, se), now, credential.ErrSASResource, "is not", ReasonTokenResource},
		{"other hub", makeToken(key, url.QueryEscape("x.azure-devices.net/devices/"+id), se), now, credential.ErrSASResource, "is not", ReasonTokenResource},
		{"signed sr differs from sent sr", strings.Replace(good, "sr="+sr, "sr="+host+"/devices/"+id, 1), now, credential.ErrSASSignature, "does not match", ReasonWrongKey},
		{"skn", makeToken(key, sr, se, "skn=owner"), now, errPolicyToken, "policy", ReasonPolicyToken},
		{"no prefix", strings.TrimPrefix(good, sasPrefix), now, credential.ErrSASMalformed, "once each", ReasonTokenMalformed},
		{"missing se", sasPrefix + "sr=" + sr + "&sig=abc", now, credential.ErrSASMalformed, "once each", ReasonTokenMalformed},
		{"repeated sr", good + "&sr=" + sr, now, credential.ErrSASMalformed, "once each", ReasonTokenMalformed},
		{"unknown field", good + "&foo=1", now, credential.ErrSASMalformed, "once each", ReasonTokenMalformed},
		{"field without =", good + "&foo", now, credential.ErrSASMalformed, "once each", ReasonTokenMalformed},
		{"se not a number", makeToken(key, sr, "soon"), now, credential.ErrSASMalformed, "unix seconds", ReasonTokenMalformed},
		{"sig not URL-encoded correctly", sasPrefix + "sr=" + sr + "&sig=%%%&se=" + se, now, credential.ErrSASMalformed, "sig URL-encoded", ReasonTokenMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expiry, err := checkPassword(tc.pw, host, id, key, tc.now)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == nil && expiry.Unix() != 1700000060:
				t.Fatalf("expiry %v, want se", expiry)
			case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text)):
				t.Fatalf("error %v, want %v containing %q", err, tc.want, tc.text)
			}
			if rf := (*refusal)(nil); err != nil && (!errors.As(err, &rf) || rf.reason != tc.reason) {
				t.Errorf("error %v is not a refusal for %s", err, tc.reason)
			}
			if err != nil && (strings.Contains(err.Error(), tc.pw) || len(sigField(tc.pw)) > 3 && strings.Contains(err.Error(), sigField(tc.pw))) {
				t.Errorf("error quotes the token: %v", err)
			}
		})
	}
}

// Signatures are URL-decoded then base64-decoded (padded, as every IoT Hub
// SDK sends them); a raw '+' decodes to a space (form encoding, as IoT
// Hub's service does), so it fails.
func TestSignatureEncoding(t *testing.T) {
	const host, id = "hub.azure-devices.net", "dev-1"
	key := []byte("k")
	sr := url.QueryEscape(host + "/devices/" + id)
	now := time.Unix(1_700_000_000, 0)
	// seWhere returns an se whose signature satisfies ok.
	seWhere := func(ok func(sig string) bool) string {
		for n := int64(1_700_000_060); n < 1_700_001_060; n++ {
			if se := strconv.FormatInt(n, 10); ok(testSig(key, sr, se)) {
				return se
			}
		}
		t.Fatal("no se found")
		return ""
	}
	plain := seWhere(func(sig string) bool { return !strings.ContainsAny(sig, "+/") })
	plus := seWhere(func(sig string) bool { return strings.Contains(sig, "+") })
	const se = "1700000060"
	mac := b64(t, testSig(key, sr, se))
	for _, tc := range []struct {
		name, se, rawSig string
		want             error // nil = accepted
	}{
		{"encoded", se, url.QueryEscape(testSig(key, sr, se)), nil},
		{"unencoded, no special characters", plain, testSig(key, sr, plain), nil},
		// The hub used to accept unpadded base64 too; credential requires
		// padding (StdEncoding), which every IoT Hub SDK sends.
		{"unpadded", se, url.QueryEscape(base64.RawStdEncoding.EncodeToString(mac)), credential.ErrSASSignature},
		{"raw plus", plus, testSig(key, sr, plus), credential.ErrSASSignature},
		{"too short", se, url.QueryEscape(base64.StdEncoding.EncodeToString(mac[:16])), credential.ErrSASSignature},
		{"bad escape", se, "%zz", credential.ErrSASMalformed},
	} {
		pw := sasPrefix + "sr=" + sr + "&sig=" + tc.rawSig + "&se=" + tc.se
		if _, err := checkPassword(pw, host, id, key, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseUsername(t *testing.T) {
	const host = "hub.azure-devices.net"
	cases := []struct {
		user      string
		wantID    string // "" = refused
		versioned bool
		reason    Reason // when refused
	}{
		{host + "/dev-1/?api-version=2021-04-12", "dev-1", true, 0},
		{host + "/dev-1/?api-version=2021-04-12&DeviceClientType=fleetbench%2F1.0&model-id=dtmi%3Ax%3B1", "dev-1", true, 0},
		{host + "/dev-1/?DeviceClientType=x&api-version=1", "dev-1", true, 0},
		{"HUB.Azure-Devices.net/dev-1/?api-version=2018-06-30", "dev-1", true, 0},
		{host + "/a.b_c-d%e*f?g!h(i)j,k:l=m@n$o'p/?api-version=1", "a.b_c-d%e*f?g!h(i)j,k:l=m@n$o'p", true, 0},
		// Accepted by IoT Hub without the recommended api-version (issue 15).
		{host + "/dev-1", "dev-1", false, 0},
		{host + "/dev-1/", "dev-1", false, 0},
		{host + "/dev-1/?DeviceClientType=x", "dev-1", false, 0},
		// '?' and '=' are device id characters, so this names device
		// "dev-1?api-version=1" (whose client id must match).
		{host + "/dev-1?api-version=1", "dev-1?api-version=1", false, 0},
		{host + "/dev-1/?api-version=", "", false, ReasonUsername},
		{host + "/dev-1/?api-version=&x=1", "", false, ReasonUsername},
		{host + "/dev-1/module-1/?api-version=1", "", false, ReasonModule},
		{host + "/dev-1/module-1", "", false, ReasonModule},
		{"other.azure-devices.net/dev-1/?api-version=1", "", false, ReasonWrongHost},
		{"other.azure-devices.net/dev-1", "", false, ReasonWrongHost},
		{host + "//?api-version=1", "", false, ReasonDeviceID},
		{host + "/", "", false, ReasonDeviceID},
		{host + "/dev+1/?api-version=1", "", false, ReasonDeviceID},
		{host + "/dev#1/?api-version=1", "", false, ReasonDeviceID},
		{host + "/dev 1/?api-version=1", "", false, ReasonDeviceID},
		{host + "/" + strings.Repeat("x", 129) + "/?api-version=1", "", false, ReasonDeviceID},
		{"dev-1", "", false, ReasonUsername},
	}
	for _, tc := range cases {
		u, err := parseUsername(tc.user, host)
		var rf *refusal
		switch {
		case tc.wantID == "" && !errors.As(err, &rf):
			t.Errorf("%q accepted as %+v (err %v), want refused for %s", tc.user, u, err, tc.reason)
		case tc.wantID == "" && rf.reason != tc.reason:
			t.Errorf("%q refused for %s (%v), want %s", tc.user, rf.reason, err, tc.reason)
		case tc.wantID != "" && (err != nil || u.deviceID != tc.wantID || u.versioned != tc.versioned):
			t.Errorf("%q: got %+v, %v; want %q, versioned %v", tc.user, u, err, tc.wantID, tc.versioned)
		}
	}
}
