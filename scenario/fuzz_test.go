package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and always returns either a
// scenario or an error of one of the documented classes with positions.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../scenarios/*.yaml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b, "devices.count=5")
		}
	}
	f.Add([]byte(base), "publish.stages[0]={duration: 1s}")
	f.Add([]byte("a: &x [*x]\n"), "")
	f.Add([]byte("{{{"), "x=[")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		s, err := Parse("f.yaml", data, sets)
		if err == nil {
			if s == nil {
				t.Fatal("nil scenario without error")
			}
			// Checking against a machine where every variable is set
			// to the same non-base64 text and no file exists never
			// panics, and every problem has a position.
			h := Host{
				LookupEnv: func(string) (string, bool) { return "not base64!", true },
				ReadFile:  func(string) ([]byte, error) { return nil, os.ErrNotExist },
				CPUs:      1,
			}
			if _, err = s.Check(h); err == nil {
				return
			}
		}
		var ve *ValidationError
		var se *SyntaxError
		switch {
		case errors.As(err, &ve):
			if len(ve.Problems) == 0 {
				t.Fatal("ValidationError without problems")
			}
			for _, p := range ve.Problems {
				if p.File == "" || p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Fatalf("problem without position or message: %+v", p)
				}
			}
		case errors.As(err, &se):
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}
