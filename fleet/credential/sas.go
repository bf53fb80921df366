package credential

import (
	"encoding/base64"
	"strconv"
	"time"
)

// DefaultAPIVersion is the IoT Hub MQTT api-version put in the username when
// the scenario names none.
const DefaultAPIVersion = "2021-04-12"

// sasPrefix starts every IoT Hub SAS token.
const sasPrefix = "SharedAccessSignature "

// DeriveDeviceKey returns the DPS group-enrollment device key
// HMAC-SHA256(groupKey, registrationID) as raw bytes (32 of them); the portal
// and SDKs show it base64-encoded. groupKey is the base64-decoded group key.
// This is how one secret yields a distinct key for each of 100,000 devices.
// Safe for concurrent use.
func DeriveDeviceKey(groupKey []byte, registrationID string) []byte {
	return appendHMAC(make([]byte, 0, 32), hashSHA256, groupKey, registrationID)
}

// DeviceResourceURI returns the resource URI of a device-scoped token,
// "{host}/devices/{deviceId}" (not yet URL-encoded).
func DeviceResourceURI(hubHost, deviceID string) string {
	return hubHost + "/devices/" + deviceID
}

// HubUsername returns the IoT Hub MQTT CONNECT username
// "{host}/{deviceId}/?api-version={apiVersion}"; an empty apiVersion means
// DefaultAPIVersion.
func HubUsername(hubHost, deviceID, apiVersion string) string {
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	return hubHost + "/" + deviceID + "/?api-version=" + apiVersion
}

// StringToSign returns what an IoT Hub SAS signature covers:
// urlenc(resourceURI) + "\n" + expiry in Unix seconds, with the same
// upper-case percent-encoding that goes into sr.
func StringToSign(resourceURI string, expiry time.Time) string {
	b := appendURLEncoded(nil, resourceURI)
	b = append(b, '\n')
	return string(strconv.AppendInt(b, expiry.Unix(), 10))
}

// Sign returns base64(HMAC-SHA256(key, stringToSign)), the unescaped sig of
// a SAS token; key is the base64-decoded key. Safe for concurrent use.
func Sign(key []byte, stringToSign string) string {
	var mac [32]byte
	m := appendHMAC(mac[:0], hashSHA256, key, stringToSign)
	return base64.StdEncoding.EncodeToString(m)
}

// SASToken returns the IoT Hub SAS token
// "SharedAccessSignature sr={urlenc(uri)}&sig={urlenc(sig)}&se={expiry}[&skn={urlenc(policy)}]"
// where sig = base64(HMAC-SHA256(key, urlenc(uri) + "\n" + expiry)), key is
// the base64-decoded device or policy key and expiry is truncated to Unix
// seconds. The skn field is added when policy is not empty. Safe for
// concurrent use.
func SASToken(resourceURI string, key []byte, expiry time.Time, policy string) Secret {
	s := getScratch()
	defer putScratch(s)
	s.out = appendSAS(s.out[:0], s, key, expiry.Unix(), policy, resourceURI, "", "")
	return Secret(s.out)
}

// AppendSASToken appends the token SASToken would return to dst and returns
// the extended slice; with enough capacity in dst it allocates nothing. The
// caller owns the secret bytes it appended and must not log them.
func AppendSASToken(dst []byte, resourceURI string, key []byte, expiry time.Time, policy string) []byte {
	s := getScratch()
	defer putScratch(s)
	return appendSAS(dst, s, key, expiry.Unix(), policy, resourceURI, "", "")
}

// FormatSASToken assembles a token from an already computed base64
// signature (for signatures made elsewhere, such as a hardware module).
func FormatSASToken(resourceURI, signature string, expiry time.Time, policy string) Secret {
	b := append([]byte(sasPrefix+"sr="), appendURLEncoded(nil, resourceURI)...)
	return Secret(appendSASTail(b, signature, expiry.Unix(), policy))
}

// appendSAS appends a SAS token whose resource URI is uri1+uri2+uri3 (split
// so the provider need not concatenate host, "/devices/" and the id first).
func appendSAS[K string | []byte](dst []byte, s *scratch, key K, se int64, policy, uri1, uri2, uri3 string) []byte {
	dst = append(dst, sasPrefix+"sr="...)
	start := len(dst)
	dst = appendURLEncoded(dst, uri1)
	dst = appendURLEncoded(dst, uri2)
	dst = appendURLEncoded(dst, uri3)
	msg := append(s.msg[:0], dst[start:]...)
	msg = append(msg, '\n')
	msg = strconv.AppendInt(msg, se, 10)
	s.msg = msg
	var mac [32]byte
	m := appendHMAC(mac[:0], hashSHA256, key, msg)
	var sig [44]byte
	base64.StdEncoding.Encode(sig[:], m)
	return appendSASTail(dst, sig[:], se, policy)
}

func appendSASTail[S string | []byte](dst []byte, sig S, se int64, policy string) []byte {
	dst = append(dst, "&sig="...)
	dst = appendURLEncoded(dst, sig)
	dst = append(dst, "&se="...)
	dst = strconv.AppendInt(dst, se, 10)
	if policy != "" {
		dst = append(dst, "&skn="...)
		dst = appendURLEncoded(dst, policy)
	}
	return dst
}
