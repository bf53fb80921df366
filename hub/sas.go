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
var errPolicyToken = errors.New("policy-scoped SAS token (skn)")

// checkPassword checks a device CONNECT password: a device-scoped SAS token
// for {hostName}/devices/{deviceID} (host case-insensitive), signed with key
// and not expired at now. It returns the token's expiry (second
// precision). Errors are *refusal; they wrap credential's ErrSASMalformed,
// ErrSASResource, ErrSASExpired or ErrSASSignature, or errPolicyToken, and
// never quote the token or the signature.
func checkPassword(password, hostName, deviceID string, key []byte, now time.Time) (time.Time, error) {
	f, err := credential.ParseSAS(password)
	if err != nil {
		return time.Time{}, &refusal{ReasonTokenMalformed, fmt.Errorf("%w: fields sr, sig and se once each (skn optional), se in unix seconds, sig URL-encoded", err)}
	}
	if f.Policy != "" {
		return time.Time{}, &refusal{ReasonPolicyToken, errPolicyToken}
	}
	uri := credential.DeviceResourceURI(hostName, deviceID)
	err = f.Verify(uri, key, now)
	switch {
	case err == nil:
		return f.Expiry, nil
	case errors.Is(err, credential.ErrSASResource):
		return time.Time{}, &refusal{ReasonTokenResource, fmt.Errorf("%w: sr=%q is not %s", err, f.Resource, uri)}
	case errors.Is(err, credential.ErrSASExpired):
		return time.Time{}, &refusal{ReasonTokenExpired, fmt.Errorf("%w: it expired at %s", err, f.Expiry.UTC().Format(time.RFC3339))}
	case errors.Is(err, credential.ErrSASSignature):
		return time.Time{}, &refusal{ReasonWrongKey, err}
	}
	return time.Time{}, &refusal{ReasonTokenMalformed, err}
}

// deviceKey returns the key a device signs with: derived from the group
// key as DPS does (credential.DeriveDeviceKey), else the shared device key.
func deviceKey(groupKey, sharedKey []byte, deviceID string) []byte {
	if len(groupKey) > 0 {
		return credential.DeriveDeviceKey(groupKey, deviceID)
	}
	return sharedKey
}

// deviceUsername is what a device username says.
type deviceUsername struct {
	deviceID string
	// versioned is false when the username carries no api-version: IoT
	// Hub accepts {host}/{id} and {host}/{id}/ but its MQTT documentation
	// recommends the api-version, warning that its absence "could cause
	// unexpected behaviors".
	versioned bool
}

// parseUsername reads an IoT Hub device username, host case-insensitive:
//
//	{hostName}/{deviceId}/?api-version={v}[&more]   (what the SDKs send)
//	{hostName}/{deviceId}/?{query without api-version}
//	{hostName}/{deviceId}/
//	{hostName}/{deviceId}
//
// Module identities ({hostName}/{deviceId}/{moduleId}[/...]) are refused:
// the embedded hub has none. Errors are *refusal.
func parseUsername(username, hostName string) (deviceUsername, error) {
	host, rest, ok := strings.Cut(username, "/")
	if !ok {
		return deviceUsername{}, refuseWith(ReasonUsername, "username %q is not {hub host}/{device id}", username)
	}
	if !strings.EqualFold(host, hostName) {
		return deviceUsername{}, refuseWith(ReasonWrongHost, "username %q names hub %q, this hub is %s", username, host, hostName)
	}
	id, tail, _ := strings.Cut(rest, "/")
	if err := checkDeviceID(id); err != nil {
		return deviceUsername{}, err
	}
	u := deviceUsername{deviceID: id}
	if tail == "" {
		return u, nil
	}
	query, ok := strings.CutPrefix(tail, "?")
	if !ok {
		module, _, _ := strings.Cut(tail, "/")
		return deviceUsername{}, refuseWith(ReasonModule, "username %q names module %q of device %q", username, module, id)
	}
	for _, kv := range strings.Split(query, "&") {
		if v, ok := strings.CutPrefix(kv, "api-version="); ok {
			if v == "" {
				return deviceUsername{}, refuseWith(ReasonUsername, "username %q has an empty api-version", username)
			}
			u.versioned = true
		}
	}
	return u, nil
}

// checkDeviceID applies IoT Hub's device id rules: 1-128 ASCII letters,
// digits or any of - . % _ * ? ! ( ) , : = @ $ '. None of them is an MQTT
// topic separator or wildcard, which the topic rules rely on.
func checkDeviceID(id string) error {
	if id == "" || len(id) > 128 {
		return refuseWith(ReasonDeviceID, "device id %q must have 1 to 128 characters", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-.%_*?!(),:=@$'", c) >= 0 {
			continue
		}
		return refuseWith(ReasonDeviceID, "device id %q contains %q", id, c)
	}
	return nil
}
