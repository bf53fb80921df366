package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml/token"
)

// MaxFileSize is the largest scenario file Parse accepts, in bytes. Real
// scenarios are a few kilobytes; the bound keeps parsing time small.
const MaxFileSize = 64 << 10

// utf8BOM is the UTF-8 encoding of U+FEFF, the byte-order mark.
var utf8BOM = []byte("\ufeff")

// Run-level defaults.
const (
	DefaultDrain      = 5 * time.Second
	DefaultAbortDelay = 10 * time.Second
)

// Load reads, parses, defaults and validates the scenario file at path.
// sets are "path=value" overrides (as given with --set, e.g.
// "devices.count=500", "publish.stages[0].rate=20/s") applied before
// validation; an empty value removes the key. Relative file names in the
// scenario resolve against its directory.
//
// The error wraps exactly one of ErrNotFound (the file cannot be read),
// ErrSyntax (a *SyntaxError) or ErrInvalid (a *ValidationError listing
// every problem). Load never panics, reads no environment variables and
// opens no file but path: Scenario.Check checks key, certificate and CA
// files and variables against the machine, through an injected Host.
func Load(path string, sets []string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		reason := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err
		}
		return nil, fmt.Errorf("%w %s: %w — check the path (scenarios live in scenarios/, e.g. scenarios/quickstart.yaml)", ErrNotFound, path, reason)
	}
	return Parse(path, data, sets)
}

// Parse is Load for a scenario already in memory; name stands for the file
// in positions and messages, and its directory is where relative file
// names resolve. The returned Scenario's File is name.
func Parse(name string, data []byte, sets []string) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, &ValidationError{[]Problem{{File: name, Line: 1, Col: 1,
			Msg: fmt.Sprintf("the file is %d bytes; a scenario is at most %d", len(data), MaxFileSize),
			Fix: "check that this is a scenario file"}}}
	}
	// A UTF-8 byte-order mark (some Windows editors write one) is not part
	// of the first key.
	data = bytes.TrimPrefix(data, utf8BOM)
	root, probs, err := parseYAML(name, data, func(t *token.Token) pos {
		return pos{name, t.Position.Line, t.Position.Column}
	})
	if err != nil {
		return nil, err
	}
	d := newDecoder(name)
	d.problems = append(d.problems, probs...)
	root = d.applySets(root, sets)
	s := d.scenario(root)
	if len(d.problems) > 0 {
		sortProblems(d.problems)
		return nil, &ValidationError{Problems: d.problems}
	}
	s.File = name
	s.Warnings = d.warnings
	s.positions = make(map[string]pos, len(d.vals))
	for p := range d.vals {
		s.positions[p] = d.at(p)
	}
	return s, nil
}

// scenario decodes the whole tree, then applies defaults and cross-field
// checks section by section (later sections depend on earlier ones).
func (d *decoder) scenario(root *node) *Scenario {
	s := &Scenario{}
	if root == nil {
		d.report(pos{d.file, 1, 1}, "", "the scenario is empty",
			"start from scenarios/quickstart.yaml; docs/scenario.md describes every key")
		return s
	}
	var thresholdEntries []thresholdEntry
	d.object(root, "", topKeys, func(key string, v *node, p string) {
		switch key {
		case "name":
			s.Name, _ = d.name(v, p)
		case "target":
			d.decodeTarget(v, &s.Target)
		case "auth":
			d.decodeAuth(v, &s.Auth)
		case "devices":
			d.decodeDevices(v, &s.Devices)
		case "connect":
			d.decodeConnect(v, &s.Connect)
		case "publish":
			d.decodePublish(v, &s.Publish)
		case "duration":
			s.Duration, _ = d.duration(v, p, time.Millisecond, 365*24*time.Hour)
		case "drain":
			s.Drain, _ = d.duration(v, p, 0, 24*time.Hour)
		case "confirm":
			s.Confirm = &Confirm{}
			d.decodeConfirm(v, s.Confirm)
		case "thresholds":
			s.Thresholds, thresholdEntries = d.decodeThresholds(v, p)
		case "abort_on_fail":
			s.AbortOnFail, _ = d.boolean(v, p)
		case "abort_delay":
			s.AbortDelay, _ = d.duration(v, p, 0, 24*time.Hour)
		case "churn":
			s.Churn = &Churn{}
			d.decodeChurn(v, s.Churn)
		case "storm":
			s.Storm = &Storm{}
			d.decodeStorm(v, s.Storm)
		case "search":
			s.Search = &Search{}
			d.decodeSearch(v, s.Search)
		}
	})
	if root.kind != kMap {
		return s
	}
	if !d.has("name") {
		s.Name = strings.TrimSuffix(filepath.Base(d.file), filepath.Ext(d.file))
	}
	d.finishTarget(&s.Target)
	d.finishAuth(&s.Auth, &s.Target)
	d.finishDevices(&s.Devices, &s.Auth)
	d.finishClientID(&s.Auth, &s.Devices)
	d.finishConnect(&s.Connect, &s.Auth)
	d.finishSources(&s.Connect, &s.Target)
	d.finishPublish(&s.Publish, &s.Devices, &s.Auth, &s.Target)
	d.finishRun(s)
	d.finishDisruptions(s)
	d.checkPlan(s)
	if s.Confirm != nil {
		d.finishConfirm(s.Confirm, &s.Target)
		if !HasField(d.payloadSegs, FieldStamp) && d.has("publish.payload.template") {
			d.fail("publish.payload.template", "confirming delivery needs {stamp} in the payload to match messages to devices",
				"add {stamp} to the template, or remove the confirm section")
		}
	}
	d.finishThresholds(s, thresholdEntries)
	if s.Search != nil {
		d.finishSearch(s.Search, s)
	}
	return s
}

// name decodes the scenario name: used in reports and file names.
func (d *decoder) name(v *node, p string) (string, bool) {
	s, ok := d.nonEmpty(v, p)
	if ok && strings.ContainsAny(s, "/\\\x00\n\r\t") {
		d.report(v.pos, p, "cannot contain slashes, tabs or line breaks (it names output files)", "use letters, digits, - and _")
		return "", false
	}
	return s, ok
}

// finishRun applies the duration, drain and abort defaults.
func (d *decoder) finishRun(s *Scenario) {
	var sum time.Duration
	for _, st := range s.Publish.Stages {
		sum += st.Duration
	}
	switch {
	case !d.has("duration"):
		s.Duration = sum
	case s.Duration < sum && !d.bad["publish.stages"]:
		d.fail("duration", fmt.Sprintf("duration %v is shorter than the stages, which take %v", s.Duration, sum),
			fmt.Sprintf("use duration: %v or more (or remove it to run the stages once)", sum))
	}
	if !d.has("drain") {
		s.Drain = DefaultDrain
	}
	if !d.has("abort_delay") {
		s.AbortDelay = DefaultAbortDelay
	} else if !s.AbortOnFail {
		d.warn("abort_delay", "has no effect without abort_on_fail: true")
	}
	if s.AbortOnFail && len(s.Thresholds) == 0 && !d.given("thresholds") {
		d.fail("abort_on_fail", "there are no thresholds that could fail", "add a thresholds section, or remove abort_on_fail")
	}
}
