package run

import (
	"errors"
	"fmt"
	"os"

	"github.com/fleetbench/fleetbench/report"
)

// writeReport writes every output of the run into its directory (see
// docs/outputs.md), or a fallback directory when that fails, prints the
// text summary, and appends the Markdown summary to $GITHUB_STEP_SUMMARY
// when that is set (failing that is a warning). It returns where the
// outputs went ("" for nowhere) and whether that is where the run was
// told to put them.
func (r *runner) writeReport(s *report.Summary) (wroteTo string, inPlace bool) {
	wroteTo, err := writeOutputs(r.dir, s, r.scen)
	if path, ok := r.env.LookupEnv("GITHUB_STEP_SUMMARY"); ok && path != "" {
		if serr := appendStepSummary(path, s); serr != nil {
			fmt.Fprintf(r.env.Stderr, "fleetbench: warning: cannot append the Markdown summary to $GITHUB_STEP_SUMMARY: %v (the run's own files are unaffected)\n", serr)
		}
	}
	_ = report.WriteText(r.env.Stdout, s)
	switch {
	case err == nil:
		return wroteTo, true
	case wroteTo != "":
		fmt.Fprintf(r.env.Stderr, "fleetbench: cannot write the report to %s: %v\nfleetbench: the report is in %s instead (the run itself is judged above)\n", r.dir, err, wroteTo)
	default:
		fmt.Fprintf(r.env.Stderr, "fleetbench: cannot write the report anywhere: %v (only the summary above remains)\n", err)
	}
	return wroteTo, false
}

// appendStepSummary appends the Markdown summary to the file at path.
func appendStepSummary(path string, s *report.Summary) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return errors.Join(report.WriteMarkdown(f, s), f.Close())
}
