package credential

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every printed form of a Secret shows.
const redacted = "[redacted]"

// Secret holds key material: a key, a password or a token. Every way of
// printing it (fmt verbs including %v, %+v, %#v, %s, %q, %x; String;
// GoString; JSON; text marshalling; slog) shows "[redacted]". Reveal returns
// the value for the one place that must send it. A Secret is an immutable
// string and safe for concurrent use.
type Secret string

// Reveal returns the secret value. Call it only where the value is sent
// (the MQTT CONNECT password), never to log or report it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v hides the value too.
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every fmt verb and flag.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalText returns "[redacted]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns the JSON string "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// LogValue returns "[redacted]" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

var (
	_ fmt.Stringer   = Secret("")
	_ fmt.GoStringer = Secret("")
	_ fmt.Formatter  = Secret("")
	_ slog.LogValuer = Secret("")
)
