package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

const schemaPrefix = "fleetbench.summary/v"

// WriteJSON writes s as indented JSON (summary.json), setting s.Schema to
// SchemaVersion when it is empty.
func WriteJSON(w io.Writer, s *Summary) error {
	if s.Schema == "" {
		s.Schema = SchemaVersion
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write summary JSON: %w", err)
	}
	return nil
}

// ReadJSON reads a summary written by WriteJSON. It accepts any summary of
// the same major schema version (fields it does not know are ignored) and
// rejects other majors or non-summaries with an error saying what to do.
func ReadJSON(r io.Reader) (*Summary, error) {
	var s Summary
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("read summary JSON (is this a fleetbench summary.json?): %w", err)
	}
	if err := checkSchema(s.Schema); err != nil {
		return nil, err
	}
	return &s, nil
}

// checkSchema accepts "fleetbench.summary/v1" and "fleetbench.summary/v1.<x>".
func checkSchema(got string) error {
	want := SchemaVersion[len(schemaPrefix):] // "1"
	v, ok := strings.CutPrefix(got, schemaPrefix)
	if !ok {
		if got == "" {
			return fmt.Errorf("summary has no schema field: not a fleetbench summary.json (expected %q)", SchemaVersion)
		}
		return fmt.Errorf("summary schema %q is not a fleetbench summary (expected %q)", got, SchemaVersion)
	}
	major, _, _ := strings.Cut(v, ".")
	if major != want {
		return fmt.Errorf("summary schema %q has major version %s; this fleetbench reads only v%s: use the fleetbench version that wrote it", got, major, want)
	}
	return nil
}
