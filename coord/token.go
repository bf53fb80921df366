package coord

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// TokenEnv is the environment variable that carries the run's token to a
// shard (or to a coordinator that should use a given one).
const TokenEnv = "FLEETBENCH_RUN_TOKEN"

// minTokenLen is the shortest token accepted: a token guards the run's
// figures, so a guessable one is refused. NewToken's are 43 characters.
const minTokenLen = 16

// howToPassToken ends every error about a missing or refused token.
const howToPassToken = "give the shard the coordinator's token in " + TokenEnv + " or in a file named by --token-file (never on the command line)"

// NewToken returns a fresh run token: 32 bytes from crypto/rand, base64url
// without padding (43 characters).
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TokenFromEnv returns the run's token: the content of file when file is
// not empty (read with readFile; surrounding white space, such as a final
// newline, is trimmed), else the value of FLEETBENCH_RUN_TOKEN (looked up
// with lookup, e.g. os.LookupEnv). An explicit file takes precedence over
// the environment. The error names the source and says how to give a
// token; it never contains the token.
func TokenFromEnv(lookup func(string) (string, bool), readFile func(string) ([]byte, error), file string) (string, error) {
	var tok, from string
	if file != "" {
		data, err := readFile(file)
		if err != nil {
			return "", fmt.Errorf("run token: read --token-file %s: %w", file, err)
		}
		tok, from = strings.TrimSpace(string(data)), "--token-file "+file
	} else {
		v, ok := lookup(TokenEnv)
		if !ok {
			return "", fmt.Errorf("run token: none given: set %s or pass --token-file FILE", TokenEnv)
		}
		tok, from = strings.TrimSpace(v), TokenEnv
	}
	if err := checkToken(tok); err != nil {
		return "", fmt.Errorf("run token from %s: %w", from, err)
	}
	return tok, nil
}

// checkToken refuses an empty or short token without quoting it.
func checkToken(tok string) error {
	switch {
	case tok == "":
		return fmt.Errorf("empty: the token must be at least %d characters (fleetbench makes one with 32 random bytes)", minTokenLen)
	case len(tok) < minTokenLen:
		return fmt.Errorf("too short (%d characters): the token must be at least %d characters", len(tok), minTokenLen)
	case strings.ContainsAny(tok, " \t\r\n"):
		return fmt.Errorf("contains white space: a token is one word (a header value)")
	}
	return nil
}

// tokenGate compares presented tokens with the run's in constant time.
// Both sides are hashed first so that neither the token's content nor its
// length shows in the time a comparison takes.
type tokenGate struct{ want [sha256.Size]byte }

func newTokenGate(token string) tokenGate { return tokenGate{want: sha256.Sum256([]byte(token))} }

// admits reports whether an Authorization header value presents the token.
func (g tokenGate) admits(authorization string) bool {
	got, ok := strings.CutPrefix(authorization, "Bearer ")
	h := sha256.Sum256([]byte(got))
	eq := subtle.ConstantTimeCompare(h[:], g.want[:]) == 1
	return ok && eq
}
