package hub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/fleet/credential"
)

// SAS token checks for device CONNECTs. Parsing and verification follow the
// IoT Hub rules in /work/shared/protocols.md and are fleet/credential's
// (ParseSAS, SASFields.Verify, DeriveDeviceKey), tested there against the
// published vectors. The hub adds what IoT Hub's device endpoint adds: no
// policy-scoped tokens, and refusal reasons that say what to do.

// errPolicyToken refuses a token naming a shared access policy (skn).
var errPolicyToken = errors.New("policy-scoped SAS token (skn) refused: the embedded hub has no shared access policies; sign a device-scoped token with the device key")

// checkPassword checks a device CONNECT password: a device-scoped SAS token
// for {hostName}/devices/{deviceID} (host case-insensitive), signed with key
// and not expired at now. It returns the token's expiry (second
// precision). Errors wrap credential's ErrSASMalformed, ErrSASResource,
// ErrSASExpired or ErrSASSignature, or are errPolicyToken; they say what to
// fix and never quote the token or the signature.
func checkPassword(password, hostName, deviceID string, key []byte, now time.Time) (time.Time, error) {
	f, err := credential.ParseSAS(password)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: fields sr, sig and se once each (skn optional), se in unix seconds, sig URL-encoded", err)
	}
	if f.Policy != "" {
		return time.Time{}, errPolicyToken
	}
	uri := credential.DeviceResourceURI(hostName, deviceID)
	err = f.Verify(uri, key, now)
	switch {
	case err == nil:
		return f.Expiry, nil
	case errors.Is(err, credential.ErrSASResource):
		err = fmt.Errorf("%w: sr=%q is not %s: sign a token for this device on this hub", err, f.Resource, uri)
	case errors.Is(err, credential.ErrSASExpired):
		err = fmt.Errorf("%w: it expired at %s", err, f.Expiry.UTC().Format(time.RFC3339))
	case errors.Is(err, credential.ErrSASSignature):
		err = fmt.Errorf("%w: sig must be base64 (padded) of HMAC-SHA256(device key, sr as sent + \"\\n\" + se), URL-encoded", err)
	}
	return time.Time{}, err
}

// deviceKey returns the key a device signs with: derived from the group
// key as DPS does (credential.DeriveDeviceKey), else the shared device key.
func deviceKey(groupKey, sharedKey []byte, deviceID string) []byte {
	if len(groupKey) > 0 {
		return credential.DeriveDeviceKey(groupKey, deviceID)
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
