package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/scenario"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// README's exit code table has a row for every exit code, and says that 4
// also covers a confirm consumer that cannot attach.
func TestREADMEDocumentsEveryExitCode(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	for _, code := range []int{ExitOK, ExitRunFailed, ExitUsage, ExitInvalidScenario, ExitUnreachable,
		ExitThresholds, ExitRegression, ExitOutput, ExitInterrupted} {
		if !strings.Contains(readme, "\n| "+strconv.Itoa(code)+" |") {
			t.Errorf("README.md has no row for exit code %d", code)
		}
	}
	if row := regexp.MustCompile(`\n\| 4 \|[^\n]*`).FindString(readme); !strings.Contains(row, "confirm") {
		t.Errorf("exit code 4's row does not mention the confirm consumer: %q", row)
	}
}

// README's layout table names every top-level folder of the repository.
func TestREADMELayoutNamesEveryFolder(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	_, layout, _ := strings.Cut(readme, "## Layout")
	entries, err := os.ReadDir(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || name == "runs" {
			continue
		}
		if !strings.Contains(layout, "`"+name+"/") && !strings.Contains(layout, "`"+name+"`") {
			t.Errorf("README.md's layout table does not name %s/", name)
		}
	}
}

// The docs name only Markdown files that are in the repository.
func TestDocsNameOnlyFilesInTheRepo(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "..", "README.md"))
	mdName := regexp.MustCompile(`[A-Za-z0-9_./-]+\.md\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range mdName.FindAllString(string(b), -1) {
			found := false
			for _, dir := range []string{filepath.Dir(f), filepath.Join("..", ".."), filepath.Join("..", "..", "docs")} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					found = true
				}
			}
			if !found {
				t.Errorf("%s names %s, which is not in the repository", filepath.Base(f), name)
			}
		}
	}
}

// README's example scenario is valid, and its first stage does what its
// comment says: it ramps up (a first stage is constant unless start_rate
// is set).
func TestREADMEExampleScenarioRampsAsItsCommentSays(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	_, rest, ok := strings.Cut(readme, "```yaml\n")
	body, _, _ := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md has no YAML example")
	}
	sc, err := scenario.Parse("README.md", []byte(body), nil)
	if err != nil {
		t.Fatalf("README's example does not validate: %v", err)
	}
	if strings.Contains(body, "# ramp up") && !(sc.Publish.StartRate < sc.Publish.Stages[0].Rate) {
		t.Errorf("the example's first stage is commented as a ramp but runs at a constant %g/s", sc.Publish.StartRate)
	}
}
