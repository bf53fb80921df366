package coord

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestNewTokenIs32RandomBytesBase64URL(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b {
		t.Fatal("two tokens are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, err %v; want 32 bytes of base64url", a, len(raw), err)
	}
	if err := checkToken(a); err != nil {
		t.Fatalf("NewToken's token refused: %v", err)
	}
}

// env is a fake environment: lookup and readFile over maps.
type env struct {
	vars  map[string]string
	files map[string]string
}

func (e env) lookup(k string) (string, bool) { v, ok := e.vars[k]; return v, ok }
func (e env) readFile(name string) ([]byte, error) {
	if v, ok := e.files[name]; ok {
		return []byte(v), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func TestTokenFromEnv(t *testing.T) {
	good := NewToken()
	other := NewToken()
	tests := []struct {
		name    string
		env     env
		file    string
		want    string
		wantErr []string // each must appear in the error
	}{
		{name: "environment", env: env{vars: map[string]string{TokenEnv: good}}, want: good},
		{name: "file, final newline trimmed", env: env{files: map[string]string{"tok": good + "\n"}}, file: "tok", want: good},
		{name: "an explicit file beats the environment", env: env{vars: map[string]string{TokenEnv: other}, files: map[string]string{"tok": good}}, file: "tok", want: good},
		{name: "neither: says both ways", env: env{}, wantErr: []string{TokenEnv, "--token-file"}},
		{name: "unreadable file: names it", env: env{}, file: "/no/such", wantErr: []string{"--token-file /no/such", "not exist"}},
		{name: "empty file", env: env{files: map[string]string{"tok": "\n"}}, file: "tok", wantErr: []string{"--token-file tok", "empty"}},
		{name: "short token from the environment", env: env{vars: map[string]string{TokenEnv: "secret"}}, wantErr: []string{TokenEnv, "too short"}},
		{name: "two words", env: env{vars: map[string]string{TokenEnv: "abcdefghij klmnopqrstuv"}}, wantErr: []string{"white space"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TokenFromEnv(tt.env.lookup, tt.env.readFile, tt.file)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %q, no error; want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{"secret", "klmnop", good} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the token", err)
				}
			}
		})
	}
}

func TestTokenFromEnvKeepsTheFileError(t *testing.T) {
	_, err := TokenFromEnv(env{}.lookup, env{}.readFile, "missing")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestTokenGate(t *testing.T) {
	tok := NewToken()
	g := newTokenGate(tok)
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"Bearer " + tok, true},
		{"", false},
		{tok, false},                          // no scheme
		{"Basic " + tok, false},               // another scheme
		{"Bearer " + tok[:len(tok)-1], false}, // a prefix of the token
		{"Bearer " + tok + "x", false},
		{"Bearer " + NewToken(), false},
	} {
		if got := g.admits(tc.header); got != tc.want {
			t.Errorf("admits(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
