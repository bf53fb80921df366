package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
	"github.com/fleetbench/fleetbench/store"
)

// A short run on the embedded hub: enough for a real run directory.
const storageScenario = `
target: {kind: embedded}
auth: {type: azure-sas}
devices: {count: 5}
connect: {rate: 500/s}
publish:
  qos: 1
  stages: [{duration: 1s, rate: 20/s}]
drain: 1s
`

// `run --out s3://...` writes the run, uploads it (the hub's private keys
// stay local) and exits with the run's verdict; `report` and `compare` of
// the URL read it back: the report of the URL is the report of the local
// copy, byte for byte.
func TestRunUploadsAndReportReadsBack(t *testing.T) {
	s3 := testbed.StartS3(t, testbed.S3Options{})
	url := s3.URL("runs/tiny")
	local := filepath.Join(t.TempDir(), "tiny")
	r := run(t, context.Background(), Env{}, "run", writeScenario(t, storageScenario), "--out", url, "--local", local, "--progress", "0")
	if r.code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "uploaded ") || !strings.Contains(r.stderr, url) {
		t.Errorf("run does not say where it uploaded:\n%s", r.stderr)
	}
	puts := s3.Puts()
	if !slices.Contains(puts, "runs/tiny/summary.json") || !slices.Contains(puts, "runs/tiny/hub/ca.pem") {
		t.Errorf("objects: %v", puts)
	}
	for _, k := range puts {
		if strings.HasSuffix(k, "key.pem") {
			t.Errorf("a private key was uploaded: %s", k)
		}
	}
	if got := readSummaryFile(t, local); got.Run.ID != "tiny" {
		t.Errorf("run id %q, want the URL's last element", got.Run.ID)
	}
	for _, format := range []string{"text", "json"} {
		fromURL := run(t, context.Background(), Env{}, "report", url, "--format", format)
		fromDir := run(t, context.Background(), Env{}, "report", local, "--format", format)
		if fromURL.code != ExitOK || fromURL.stdout != fromDir.stdout {
			t.Errorf("report --format %s of the URL: exit %d, %d bytes, want the local copy's %d\n%s", format, fromURL.code, len(fromURL.stdout), len(fromDir.stdout), fromURL.stderr)
		}
	}
	if c := run(t, context.Background(), Env{}, "compare", url, url); c.code != ExitOK || !strings.Contains(c.stdout, "publish") {
		t.Errorf("compare URL URL: exit %d\n%s\n%s", c.code, c.stdout, c.stderr)
	}
	if c := run(t, context.Background(), Env{}, "report", s3.URL("runs/none")); c.code != ExitUsage || !strings.Contains(c.stderr, "no run at") {
		t.Errorf("report of an empty prefix: exit %d\n%s", c.code, c.stderr)
	}
}

// Without --local the run is written to a temporary directory, removed
// once uploaded.
func TestRunUploadRemovesItsTemporaryDir(t *testing.T) {
	s3 := testbed.StartS3(t, testbed.S3Options{})
	r := run(t, context.Background(), Env{}, "run", writeScenario(t, storageScenario), "--out", s3.URL("runs/tmp"), "--progress", "0")
	if r.code != ExitOK {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	dir := wroteDir(t, r.stdout+r.stderr)
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("the temporary run directory %s is still there after the upload", dir)
	}
}

// wroteDir finds the local run directory a run names in its output
// (a path under the temporary directory ending in the run's name).
func wroteDir(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(os.TempDir()) + `/fleetbench-[0-9]+/[a-z]+`).FindString(out)
	if m == "" {
		t.Fatalf("no temporary run directory named in:\n%s", out)
	}
	return m
}

// Nothing listens at the bucket's endpoint: the run still completes and
// writes its report, the upload is retried, then reported with the local
// directory kept, and the exit code is 7 (the run itself passed).
func TestRunUploadToUnreachableKeepsLocalAndExits7(t *testing.T) {
	testbed.StartS3(t, testbed.S3Options{}) // for its AWS_* environment
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	url := testbed.S3URL(endpoint, "runs", "runs/lost")
	r := run(t, context.Background(), Env{}, "run", writeScenario(t, storageScenario), "--out", url, "--progress", "0")
	if r.code != ExitOutput {
		t.Fatalf("run: exit %d, want %d\n%s", r.code, ExitOutput, r.stderr)
	}
	dir := wroteDir(t, r.stderr)
	defer os.RemoveAll(filepath.Dir(dir))
	if !strings.Contains(r.stderr, "the run is kept in "+dir) || !strings.Contains(r.stderr, "upload to ") {
		t.Errorf("stderr does not report the failed upload and the kept directory:\n%s", r.stderr)
	}
	if s := readSummaryFile(t, dir); s.Publish.Acked == 0 {
		t.Errorf("the kept run has no messages: %+v", s.Publish)
	}
}

// Shards stored in Azure Blob (Azurite) merge into a run stored there
// too; `report` of the merged URL shows the merge of the shards.
func TestMergeReadsAndWritesAzureBlob(t *testing.T) {
	az := testbed.StartAzurite(t)
	ctx := context.Background()
	if err := az.CreateContainer(ctx, "results"); err != nil {
		t.Fatal(err)
	}
	for k, v := range az.Env() {
		t.Setenv(k, v)
	}
	env := Env{LookupEnv: os.LookupEnv}
	shards, _ := reporttest.Shards(3, 0)
	var urls []string
	for i, dir := range writeShardDirs(t, shards) {
		u := az.BucketURL("results", "runs/big/shards/"+string(rune('0'+i)))
		if _, err := store.Upload(ctx, dir, u, store.Options{}); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, u)
	}
	out := az.BucketURL("results", "runs/big/merged")
	r := run(t, ctx, env, append([]string{"merge", "--out", out}, urls...)...)
	if r.code != ExitOK {
		t.Fatalf("merge: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want, err := report.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	back := t.TempDir()
	if _, err := store.Download(ctx, out, back, store.Options{}); err != nil {
		t.Fatal(err)
	}
	got := readSummaryFile(t, back)
	if got.Publish != want.Publish || len(got.Shards) != 3 || got.Run.ID != "merged" {
		t.Errorf("merged run in the bucket differs from report.Merge's:\n%+v\n%+v", got.Publish, want.Publish)
	}
	rep, local := run(t, ctx, env, "report", out), run(t, ctx, env, "report", back)
	if rep.code != ExitOK || rep.stdout != local.stdout || !strings.Contains(rep.stdout, "30 devices") {
		t.Errorf("report of the merged URL: exit %d\n%s\n%s", rep.code, rep.stdout, rep.stderr)
	}
	// A key from the environment never reaches the output, even when the
	// service refuses it.
	wrong := "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleQ=="
	t.Setenv("AZURE_STORAGE_KEY", wrong)
	bad := run(t, ctx, env, "report", out)
	if bad.code != ExitUsage || strings.Contains(bad.stdout+bad.stderr, wrong) {
		t.Errorf("report with a refused key: exit %d\n%s", bad.code, bad.stderr)
	}
}

func TestBadOutURLIsAUsageError(t *testing.T) {
	for _, out := range []string{"ftp://host/run", "s3://bucket", "s3://bucket/"} {
		r := run(t, context.Background(), Env{}, "run", writeScenario(t, storageScenario), "--out", out)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "--out") {
			t.Errorf("run --out %s: exit %d\n%s", out, r.code, r.stderr)
		}
	}
}
