package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SAS token verification, written from the IoT Hub rules in
// /work/shared/protocols.md:
//
//	SharedAccessSignature sr={urlenc(uri)}&sig={urlenc(base64(HMAC-SHA256(key, urlenc(uri) + "\n" + se)))}&se={unix seconds}
//
// The signature covers sr exactly as sent (still URL-encoded), so the hub
// signs the raw field, never a re-encoded one.

const sasPrefix = "SharedAccessSignature "

// sasToken holds the raw (still URL-encoded) fields of a SAS token.
type sasToken struct {
	sr, sig, se string
	hasSkn      bool
}

// parseSAS splits a SAS token into its fields, in any order. Every field
// must appear once; unknown fields are refused. Errors never quote the
// token (it is a secret).
func parseSAS(password string) (sasToken, error) {
	var t sasToken
	rest, ok := strings.CutPrefix(password, sasPrefix)
	if !ok {
		return t, errors.New("password is not a SAS token: it must start with \"SharedAccessSignature \"")
	}
	var seen [4]bool
	for field := range strings.SplitSeq(rest, "&") {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return t, errors.New("SAS token field without '=': expected sr=...&sig=...&se=...")
		}
		var i int
		switch k {
		case "sr":
			i, t.sr = 0, v
		case "sig":
			i, t.sig = 1, v
		case "se":
			i, t.se = 2, v
		case "skn":
			i, t.hasSkn = 3, true
		default:
			return t, fmt.Errorf("SAS token has unknown field %q: only sr, sig, se (and skn) are allowed", k)
		}
		if seen[i] {
			return t, fmt.Errorf("SAS token repeats field %q", k)
		}
		seen[i] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return t, errors.New("SAS token lacks sr, sig or se")
	}
	return t, nil
}

// Refusal reasons a client may learn from the log (never the token itself).
var (
	errPolicyToken = errors.New("policy-scoped SAS token (skn) refused: the embedded hub has no shared access policies; sign a device-scoped token with the device key")
	errBadSig      = errors.New("SAS signature does not match the device key")
	errExpired     = errors.New("SAS token expired")
)

// verify checks a parsed token for deviceID: the resource must be
// {hostName}/devices/{deviceID} (host case-insensitive), the signature must
// be HMAC-SHA256(key, sr+"\n"+se) (constant-time compare), and se must lie
// after now.
func (t sasToken) verify(hostName, deviceID string, key []byte, now time.Time) error {
	if t.hasSkn {
		return errPolicyToken
	}
	sr, err := url.QueryUnescape(t.sr)
	if err != nil {
		return fmt.Errorf("SAS sr is not URL-encoded correctly: %w", err)
	}
	host, path, _ := strings.Cut(sr, "/")
	if !strings.EqualFold(host, hostName) || path != "devices/"+deviceID {
		return fmt.Errorf("SAS sr=%q is not %s/devices/%s: sign a token for this device on this hub", sr, hostName, deviceID)
	}
	se, err := parseUnix(t.se)
	if err != nil {
		return fmt.Errorf("SAS se=%q is not a positive unix time in seconds", t.se)
	}
	sig, err := decodeSig(t.sig)
	if err != nil {
		return err
	}
	if !hmac.Equal(sig, hmacSHA256(key, t.sr, "\n", t.se)) {
		return errBadSig
	}
	if now.Unix() >= se {
		return fmt.Errorf("%w at %s", errExpired, time.Unix(se, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// parseUnix parses a positive decimal unix time in seconds.
func parseUnix(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && n <= 0 {
		err = errors.New("not positive")
	}
	return n, err
}

// decodeSig URL-decodes then base64-decodes a signature, padded or not.
func decodeSig(raw string) ([]byte, error) {
	s, err := url.QueryUnescape(raw)
	if err != nil {
		return nil, fmt.Errorf("SAS sig is not URL-encoded correctly: %w", err)
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("SAS sig is not a base64 HMAC-SHA256 (URL-encode it: '+' as %2B, '/' as %2F, '=' as %3D)")
	}
	return b, nil
}

// hmacSHA256 returns HMAC-SHA256(key, concatenation of parts).
func hmacSHA256(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// deviceKey returns the key a device signs with: derived from the group
// key as DPS does (HMAC-SHA256(groupKey, registrationID)), else the shared
// device key.
func deviceKey(groupKey, sharedKey []byte, deviceID string) []byte {
	if len(groupKey) > 0 {
		return hmacSHA256(groupKey, deviceID)
	}
	return sharedKey
}

// parseUsername extracts the device id from an IoT Hub device username,
// {hostName}/{deviceId}/?api-version={v}[&more], host case-insensitive.
// Module identities ({hostName}/{deviceId}/{moduleId}/?...) are refused.
func parseUsername(username, hostName string) (string, error) {
	host, rest, ok := strings.Cut(username, "/")
	if !ok || !strings.EqualFold(host, hostName) {
		return "", fmt.Errorf("username %q does not start with %s/: use {hub host}/{device id}/?api-version=2021-04-12", username, hostName)
	}
	id, query, ok := strings.Cut(rest, "/")
	if !ok {
		return "", fmt.Errorf("username %q lacks /?api-version=...", username)
	}
	version, ok := strings.CutPrefix(query, "?api-version=")
	if v, _, _ := strings.Cut(version, "&"); !ok || v == "" {
		return "", fmt.Errorf("username %q must end in /?api-version={version}[&...] (module identities are not supported)", username)
	}
	if err := checkDeviceID(id); err != nil {
		return "", err
	}
	return id, nil
}

// checkDeviceID applies IoT Hub's device id rules: 1-128 ASCII letters,
// digits or any of - . % _ * ? ! ( ) , : = @ $ '. None of them is an MQTT
// topic separator or wildcard, which the topic rules rely on.
func checkDeviceID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("device id %q must have 1 to 128 characters", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-.%_*?!(),:=@$'", c) >= 0 {
			continue
		}
		return fmt.Errorf("device id %q contains %q: IoT Hub allows letters, digits and - . %% _ * ? ! ( ) , : = @ $ '", id, c)
	}
	return nil
}
