package credential

import (
	"encoding/base64"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// appendURLEncoded appends s percent-encoded the way the IoT Hub SDKs do
// (Node's strict encodeURIComponent, the C SDK's az_span_url_encode): every
// byte outside the RFC 3986 unreserved set A-Z a-z 0-9 - _ . ~ becomes %XX
// with upper-case hex; a space is %20, never '+'.
func appendURLEncoded[S string | []byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// decodeBase64Key decodes a base64 key (standard alphabet, padded or not)
// after trimming surrounding whitespace. The error never contains the key.
func decodeBase64Key(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errEmptyKey
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		var err2 error
		if b, err2 = base64.RawStdEncoding.DecodeString(s); err2 != nil {
			if ce, ok := err.(base64.CorruptInputError); ok {
				return nil, &notBase64Error{at: int64(ce)}
			}
			return nil, &notBase64Error{at: -1}
		}
	}
	if len(b) == 0 {
		return nil, errEmptyKey
	}
	return b, nil
}
