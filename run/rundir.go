package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/output"
)

// Files of the run directory besides the reports (docs/outputs.md).
const (
	ScenarioFileName         = "scenario.yaml"          // the effective scenario: the file with its --set overrides applied
	OriginalScenarioFileName = "scenario.original.yaml" // the file as given, when overrides changed it
	hubDirName               = "hub"                    // the embedded hub's CA and server certificate
)

// ownFiles are the names fleetbench itself writes in a run directory,
// relative to it: the reports of every latency family, the scenario files
// and the embedded hub's certificates. Only these are ever removed from a
// reused --out.
func ownFiles() []string {
	every := &report.Summary{Histograms: map[string]string{}}
	for _, h := range []string{report.HistConnect, report.HistPublish, report.HistPublishUncorrected,
		report.HistLateness, report.HistE2E, report.HistE2EDeviceToHub, report.HistReconnect, report.HistRecovery} {
		every.Histograms[h] = ""
	}
	names := output.FileNames(every)
	names = append(names, ScenarioFileName, OriginalScenarioFileName)
	for _, f := range []string{pki.CAFileName, pki.CAKeyFileName, pki.ServerFileName, pki.ServerKeyFileName} {
		names = append(names, filepath.Join(hubDirName, f))
	}
	return names
}

// scenarioCopy is what a run saves of its scenario.
type scenarioCopy struct {
	file      string   // the scenario file as given on the command line
	original  []byte   // its bytes
	effective []byte   // the scenario after the overrides (scenario.Effective)
	overrides []string // the --set overrides, in order
}

// effectiveFile is scenario.yaml's content: the effective scenario under a
// comment that says where it came from, so the run directory alone
// reproduces the run (`fleetbench run RUN_DIR/scenario.yaml`).
func (c scenarioCopy) effectiveFile() []byte {
	if len(c.overrides) == 0 {
		return c.original // unchanged: keep the file with its comments
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The scenario this run used: %s with these overrides applied\n", c.file)
	fmt.Fprintf(&b, "# (the file as given is %s; relative file names resolve against its directory):\n", OriginalScenarioFileName)
	for _, s := range c.overrides {
		fmt.Fprintf(&b, "#   --set %s\n", strings.ReplaceAll(s, "\n", " "))
	}
	b.Write(c.effective)
	return []byte(b.String())
}

// prepareRunDir makes dir ready for a run before anyone connects: it
// creates it, removes the files an earlier run left there (only the names
// fleetbench writes, see ownFiles, so a stale e2e.hlog never sits beside
// a new run), and writes the scenario. That write is the check that the
// directory is writable. It returns the names it removed.
func prepareRunDir(dir string, sc scenarioCopy) (removed []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if removed, err = ClearOwnFiles(dir); err != nil {
		return removed, err
	}
	if err := os.WriteFile(filepath.Join(dir, ScenarioFileName), sc.effectiveFile(), 0o644); err != nil {
		return removed, err
	}
	if len(sc.overrides) > 0 {
		if err := os.WriteFile(filepath.Join(dir, OriginalScenarioFileName), sc.original, 0o644); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// ClearOwnFiles removes from dir the files an earlier run or merge left
// there: only the names fleetbench writes (ownFiles), so a stale e2e.hlog
// never sits beside a new result and nothing else of the user's is
// touched. It returns the names it removed.
func ClearOwnFiles(dir string) (removed []string, err error) {
	for _, name := range ownFiles() {
		switch err := os.Remove(filepath.Join(dir, name)); {
		case err == nil:
			removed = append(removed, name)
		case !errors.Is(err, fs.ErrNotExist):
			return removed, fmt.Errorf("removing %s left by an earlier run: %w", name, err)
		}
	}
	_ = os.Remove(filepath.Join(dir, hubDirName)) // only when empty
	return removed, nil
}

// writeOutputs writes every report file of s into dir. When that fails it
// writes them to a new temporary directory instead, so a finished run's
// results are never lost, and returns where they went with the first
// error.
func writeOutputs(dir string, s *report.Summary, scen scenarioCopy) (wroteTo string, err error) {
	err = output.WriteAll(dir, s)
	if err == nil {
		return dir, nil
	}
	fallback, ferr := os.MkdirTemp("", "fleetbench-"+s.Run.Scenario+"-*")
	if ferr == nil {
		ferr = output.WriteAll(fallback, s)
	}
	if ferr == nil {
		_ = os.WriteFile(filepath.Join(fallback, ScenarioFileName), scen.effectiveFile(), 0o644)
		return fallback, err
	}
	return "", errors.Join(err, fmt.Errorf("and the fallback directory: %w", ferr))
}
