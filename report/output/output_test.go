package output

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

func sample() *report.Summary {
	return reporttest.WithThresholds(
		reporttest.Run(reporttest.Options{Seconds: 8, Consumer: true, Lost: 2, Missed: 3}),
		reporttest.Threshold{Metric: "publish.p99", Op: "<", Bound: 0.05, Text: "< 50ms"},
		reporttest.Threshold{Metric: "delivery.ratio", Op: ">=", Bound: 0.999, Text: ">= 99.9%"})
}

// WriteAll writes every documented file, and re-rendering from the saved
// summary.json gives every file byte for byte: summary.json is the source
// of every output.
func TestWriteAllThenReRenderFromSummaryJSON(t *testing.T) {
	s := sample()
	dir := filepath.Join(t.TempDir(), "run")
	if err := WriteAll(dir, s); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := FileNames(s)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("run directory holds %v, want %v (and no temporary files)", got, want)
	}
	for _, name := range []string{"connect.hlog", "publish.hgrm", "publish_uncorrected.hlog", "e2e.hlog", "e2e.hgrm", "lateness.hgrm"} {
		if !slices.Contains(got, name) {
			t.Errorf("%s not written", name)
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(saved, s) {
		t.Fatal("summary.json does not read back to the summary that was written")
	}
	for _, f := range fixedFiles {
		var buf bytes.Buffer
		if err := Render(&buf, saved, f.format); err != nil {
			t.Fatalf("render %s from summary.json: %v", f.format, err)
		}
		assertFile(t, dir, f.name, buf.Bytes())
	}
	for _, h := range histogramNames(saved) {
		var hlog, hgrm bytes.Buffer
		if err := report.WriteHlog(&hlog, saved, h); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteHgrm(&hgrm, saved, h); err != nil {
			t.Fatal(err)
		}
		assertFile(t, dir, h+".hlog", hlog.Bytes())
		assertFile(t, dir, h+".hgrm", hgrm.Bytes())
	}

	// A second WriteAll replaces the files in place.
	s.Thresholds = nil
	if err := WriteAll(dir, s); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "junit.xml")); !strings.Contains(string(b), report.NoThresholdsCase) {
		t.Error("junit.xml not rewritten by the second WriteAll")
	}
}

func assertFile(t *testing.T, dir, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its re-rendering from summary.json (%d vs %d bytes)", name, len(got), len(want))
	}
}

func TestRenderFormats(t *testing.T) {
	s := sample()
	starts := map[string]string{
		FormatText:     "fleetbench  synthetic",
		FormatJSON:     "{\n  \"schema\": \"fleetbench.summary/v1\"",
		FormatMarkdown: "## ✅ fleetbench synthetic: all 2 thresholds passed",
		FormatHTML:     "<!DOCTYPE html>",
		FormatJUnit:    "<?xml",
	}
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := Render(&buf, s, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.HasPrefix(buf.String(), starts[f]) {
			t.Errorf("%s output starts %q, want %q", f, buf.String()[:min(60, buf.Len())], starts[f])
		}
	}
	err := Render(&bytes.Buffer{}, s, "pdf")
	if err == nil || !strings.Contains(err.Error(), "text, json, markdown, html, junit") {
		t.Errorf("unknown format: %v", err)
	}
}

// A histogram name from a hand-edited summary.json never becomes a path.
func TestWriteAllRefusesOddHistogramNames(t *testing.T) {
	s := sample()
	s.Histograms["../escape"] = s.Histograms[report.HistPublish]
	dir := t.TempDir()
	err := WriteAll(filepath.Join(dir, "run"), s)
	if err == nil || !strings.Contains(err.Error(), `"../escape"`) {
		t.Errorf("err = %v, want one naming the odd histogram", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "escape.hlog")); statErr == nil {
		t.Error("a file was written outside the run directory")
	}
	if _, statErr := os.Stat(filepath.Join(dir, "run", "publish.hlog")); statErr != nil {
		t.Errorf("the other files were not written: %v", statErr)
	}
}

func TestWriteAllReportsUnwritableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteAll(filepath.Join(file, "run"), sample()); err == nil {
		t.Error("WriteAll under a regular file returned nil")
	}
}
