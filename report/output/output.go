// Package output writes every file of a run directory from the one saved
// result model, [report.Summary], and renders any single format on demand.
// `fleetbench run` calls WriteAll at the end of a run; `fleetbench report
// RUN_DIR --format X` reads summary.json back and calls Render, so any
// output can be regenerated from a saved run. docs/outputs.md documents
// every file.
//
// Output depends only on the summary (the same summary gives the same
// bytes). Functions are safe for concurrent use as long as nobody mutates
// the summary meanwhile.
package output

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/htmlreport"
)

// Formats Render accepts, in the order the help text should list them.
const (
	FormatText     = "text"     // the terminal report (summary.txt)
	FormatJSON     = "json"     // the saved model itself (summary.json)
	FormatMarkdown = "markdown" // GitHub-flavoured Markdown (summary.md)
	FormatHTML     = "html"     // self-contained HTML page with plots (report.html)
	FormatJUnit    = "junit"    // JUnit XML, one test case per threshold (junit.xml)
)

// Formats returns the names Render accepts, in help order. The slice is
// new on every call.
func Formats() []string {
	return []string{FormatText, FormatJSON, FormatMarkdown, FormatHTML, FormatJUnit}
}

// Render writes s to w in one of [Formats]. An unknown format is an error
// naming the valid ones.
func Render(w io.Writer, s *report.Summary, format string) error {
	switch format {
	case FormatText:
		return report.WriteText(w, s)
	case FormatJSON:
		return report.WriteJSON(w, s)
	case FormatMarkdown:
		return report.WriteMarkdown(w, s)
	case FormatHTML:
		return htmlreport.Write(w, s)
	case FormatJUnit:
		return report.WriteJUnit(w, s)
	}
	return fmt.Errorf("unknown report format %q: use one of %s", format, strings.Join(Formats(), ", "))
}

// fixedFiles are the run directory's files that do not depend on the
// histograms present, with their formats.
var fixedFiles = []struct{ name, format string }{
	{"summary.json", FormatJSON},
	{"summary.txt", FormatText},
	{"summary.md", FormatMarkdown},
	{"junit.xml", FormatJUnit},
	{"report.html", FormatHTML},
}

// histogramName is what a histogram may be called to become a file name.
var histogramName = regexp.MustCompile(`^[a-z0-9_]+$`)

// FileNames lists the files WriteAll writes for s, relative to the run
// directory: summary.json, summary.txt, summary.md, junit.xml,
// report.html, then NAME.hlog and NAME.hgrm for every histogram in
// s.Histograms (sorted by name).
func FileNames(s *report.Summary) []string {
	var names []string
	for _, f := range fixedFiles {
		names = append(names, f.name)
	}
	for _, h := range histogramNames(s) {
		names = append(names, h+".hlog", h+".hgrm")
	}
	return names
}

func histogramNames(s *report.Summary) []string {
	var names []string
	for name := range s.Histograms {
		if histogramName.MatchString(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// WriteAll writes every output of s into dir (created if missing): the
// files FileNames lists. Each file is written to a temporary name and
// renamed into place, so a reader never sees a half-written file. A
// failure does not stop the other files; the returned error joins every
// failure. A histogram whose name is not a plain lower-case identifier
// (possible only in a hand-edited summary.json) is skipped with an error
// rather than used as a file name.
func WriteAll(dir string, s *report.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	var errs []error
	for _, f := range fixedFiles {
		errs = append(errs, writeFile(dir, f.name, func(w io.Writer) error { return Render(w, s, f.format) }))
	}
	for name := range s.Histograms {
		if !histogramName.MatchString(name) {
			errs = append(errs, fmt.Errorf("histogram %q: not written, its name is not a plain identifier (is summary.json hand-edited?)", name))
		}
	}
	for _, h := range histogramNames(s) {
		errs = append(errs,
			writeFile(dir, h+".hlog", func(w io.Writer) error { return report.WriteHlog(w, s, h) }),
			writeFile(dir, h+".hgrm", func(w io.Writer) error { return report.WriteHgrm(w, s, h) }))
	}
	return errors.Join(errs...)
}

// writeFile writes dir/name through a temporary file and a rename.
func writeFile(dir, name string, render func(io.Writer) error) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := render(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
