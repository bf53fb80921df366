package credential

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Reasons a SAS token is refused by VerifySAS; test with errors.Is. None of
// the errors quotes the token.
var (
	ErrSASMalformed = errors.New("SAS token is malformed (want \"SharedAccessSignature sr=...&sig=...&se=...\")")
	ErrSASResource  = errors.New("SAS token is for another resource")
	ErrSASExpired   = errors.New("SAS token has expired (reconnect with a fresh token)")
	ErrSASSignature = errors.New("SAS token signature does not match the key")
)

// SASFields are the fields of a parsed SAS token.
type SASFields struct {
	// RawResource is sr exactly as sent (still URL-encoded): the signed text.
	RawResource string
	// Resource is sr decoded, e.g. "myhub.azure-devices.net/devices/dev1".
	Resource string
	// Signature is sig decoded: base64 text of the HMAC.
	Signature Secret
	// RawExpiry is se exactly as sent.
	RawExpiry string
	// Expiry is se as a time (second precision).
	Expiry time.Time
	// Policy is skn decoded; empty for a device-scoped token.
	Policy string
}

// ParseSAS splits an IoT Hub SAS token into its fields. Fields may come in any
// order; sr, sig and se are required. The error wraps ErrSASMalformed and
// never quotes the token.
func ParseSAS(token string) (SASFields, error) {
	var f SASFields
	rest, ok := strings.CutPrefix(token, sasPrefix)
	if !ok {
		return f, ErrSASMalformed
	}
	var haveSR, haveSig, haveSE bool
	for rest != "" {
		var kv string
		kv, rest, _ = strings.Cut(rest, "&")
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, ErrSASMalformed
		}
		switch k {
		case "sr":
			dec, err := url.PathUnescape(v)
			if err != nil || haveSR {
				return f, ErrSASMalformed
			}
			f.RawResource, f.Resource, haveSR = v, dec, true
		case "sig":
			dec, err := url.QueryUnescape(v)
			if err != nil || haveSig {
				return f, ErrSASMalformed
			}
			f.Signature, haveSig = Secret(dec), true
		case "se":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || haveSE {
				return f, ErrSASMalformed
			}
			f.RawExpiry, f.Expiry, haveSE = v, time.Unix(n, 0), true
		case "skn":
			dec, err := url.PathUnescape(v)
			if err != nil {
				return f, ErrSASMalformed
			}
			f.Policy = dec
		default:
			return f, ErrSASMalformed
		}
	}
	if !haveSR || !haveSig || !haveSE {
		return f, ErrSASMalformed
	}
	return f, nil
}

// VerifySAS checks a token the way IoT Hub does: well formed, sr names
// resourceURI (host compared case-insensitively, the path exactly), not
// expired at now, and sig is the HMAC-SHA256 under key (base64-decoded
// device or policy key) of sr as sent + "\n" + se as sent. The caller picks
// key from the token's Policy (see ParseSAS). Errors wrap one of the ErrSAS*
// values. Safe for concurrent use.
func VerifySAS(token, resourceURI string, key []byte, now time.Time) error {
	f, err := ParseSAS(token)
	if err != nil {
		return err
	}
	return f.Verify(resourceURI, key, now)
}

// Verify checks parsed fields; see VerifySAS.
func (f SASFields) Verify(resourceURI string, key []byte, now time.Time) error {
	if !sameResource(f.Resource, resourceURI) {
		return ErrSASResource
	}
	if !now.Before(f.Expiry) {
		return ErrSASExpired
	}
	got, err := base64.StdEncoding.DecodeString(f.Signature.Reveal())
	if err != nil {
		return ErrSASSignature
	}
	s := getScratch()
	defer putScratch(s)
	msg := append(s.msg[:0], f.RawResource...)
	msg = append(msg, '\n')
	msg = append(msg, f.RawExpiry...)
	s.msg = msg
	var mac [32]byte
	want := appendHMAC(mac[:0], hashSHA256, key, msg)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrSASSignature
	}
	return nil
}

// sameResource compares host case-insensitively and the rest exactly
// (device ids are case-sensitive).
func sameResource(a, b string) bool {
	ah, ap, _ := strings.Cut(a, "/")
	bh, bp, _ := strings.Cut(b, "/")
	return strings.EqualFold(ah, bh) && ap == bp
}
