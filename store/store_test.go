package store

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/testbed"
)

// writeTree writes a run-directory-like tree of files with random bytes
// (a nested hub/ and shards/1/ included) and returns their contents by
// relative path.
func writeTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	files := map[string][]byte{}
	for i, rel := range []string{"summary.json", "summary.txt", "report.html", "publish.hlog", "hub/ca.pem", "shards/1/summary.json", "empty.txt"} {
		b := make([]byte, i*1500)
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		files[rel] = b
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// readTree reads every file below dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameTree(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%d files, want %d: %v", len(got), len(want), slices.Sorted(func(yield func(string) bool) {
			for k := range got {
				if !yield(k) {
					return
				}
			}
		}))
	}
	for rel, b := range want {
		if !bytes.Equal(got[rel], b) {
			t.Errorf("%s: %d bytes back, differing from the %d uploaded", rel, len(got[rel]), len(b))
		}
	}
}

// noSleep records back-off waits instead of waiting.
type noSleep struct{ waits []time.Duration }

func (n *noSleep) sleep(_ context.Context, d time.Duration) error {
	n.waits = append(n.waits, d)
	return nil
}

// roundTrip uploads a tree to url, downloads it into a new directory and
// checks both are byte-identical and the local tree untouched.
func roundTrip(t *testing.T, url string) UploadReport {
	t.Helper()
	ctx := context.Background()
	src := t.TempDir()
	want := writeTree(t, src)
	rep, err := Upload(ctx, src, url, Options{})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if len(rep.Uploaded) != len(want) || rep.Uploaded[len(rep.Uploaded)-1] != SummaryFile {
		t.Errorf("uploaded %v, want %d files with %s last", rep.Uploaded, len(want), SummaryFile)
	}
	dst := filepath.Join(t.TempDir(), "back")
	n, err := Download(ctx, url, dst, Options{})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if n != len(want) {
		t.Errorf("downloaded %d files, want %d", n, len(want))
	}
	sameTree(t, want, readTree(t, dst))
	sameTree(t, want, readTree(t, src))
	return rep
}

func TestRoundTripS3(t *testing.T) {
	s3 := testbed.StartS3(t, testbed.S3Options{})
	roundTrip(t, s3.URL("runs/r1"))
	// Objects are named PREFIX/REL and summary.json is written last.
	puts := s3.Puts()
	if puts[len(puts)-1] != "runs/r1/summary.json" || !slices.Contains(puts, "runs/r1/shards/1/summary.json") {
		t.Errorf("objects written: %v", puts)
	}
}

func TestRoundTripAzurite(t *testing.T) {
	az := testbed.StartAzurite(t)
	if err := az.CreateContainer(context.Background(), "results"); err != nil {
		t.Fatal(err)
	}
	for k, v := range az.Env() {
		t.Setenv(k, v)
	}
	roundTrip(t, az.BucketURL("results", "team/runs/r2"))
}

func TestRoundTripFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bucket", "runs", "r3")
	roundTrip(t, "file://"+dir)
	if _, err := os.Stat(filepath.Join(dir, "hub", "ca.pem")); err != nil {
		t.Errorf("a file URL keeps the tree as it is locally: %v", err)
	}
}

// Two runs under one prefix's neighbours do not mix: downloading
// runs/r1 does not bring runs/r10.
func TestDownloadTakesOnlyItsPrefix(t *testing.T) {
	s3 := testbed.StartS3(t, testbed.S3Options{})
	ctx := context.Background()
	for _, run := range []string{"r1", "r10"} {
		src := t.TempDir()
		writeTree(t, src)
		os.WriteFile(filepath.Join(src, run+".only"), nil, 0o644)
		if _, err := Upload(ctx, src, s3.URL("runs/"+run), Options{}); err != nil {
			t.Fatal(err)
		}
	}
	dst := t.TempDir()
	if _, err := Download(ctx, s3.URL("runs/r1"), dst, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "r10.only")); err == nil {
		t.Error("runs/r1 brought runs/r10's file")
	}
	if _, err := Download(ctx, s3.URL("runs/r2"), t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "no run at") {
		t.Errorf("download of an empty prefix: %v, want 'no run at'", err)
	}
}

// The server refuses the first 7 writes of summary.json with 500: more
// than the SDK's own 3 tries, so only Upload's retries get it stored,
// after doubling waits.
func TestUploadRetriesTransientFailures(t *testing.T) {
	s3 := testbed.StartS3(t, testbed.S3Options{FailPuts: 7, FailKey: "runs/flaky/summary.json"})
	src := t.TempDir()
	want := writeTree(t, src)
	var ns noSleep
	rep, err := Upload(context.Background(), src, s3.URL("runs/flaky"), Options{Attempts: 4, Backoff: time.Second, Sleep: ns.sleep})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if s3.FailedPuts() != 7 || rep.Retries == 0 || len(rep.Uploaded) != len(want) {
		t.Errorf("refused %d, retries %d, uploaded %d of %d", s3.FailedPuts(), rep.Retries, len(rep.Uploaded), len(want))
	}
	for i, w := range ns.waits {
		if w != time.Second<<i {
			t.Errorf("back-off waits %v, want 1s doubling", ns.waits)
		}
	}
	dst := t.TempDir()
	if _, err := Download(context.Background(), s3.URL("runs/flaky"), dst, Options{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, want, readTree(t, dst))
}

// More failures than attempts: the upload gives up, names the file, says
// how much was stored, never writes summary.json (so no reader takes the
// prefix for a whole run) and leaves the local directory as it was.
func TestUploadGivesUpAndKeepsLocal(t *testing.T) {
	s3 := testbed.StartS3(t, testbed.S3Options{FailPuts: 1000})
	src := t.TempDir()
	want := writeTree(t, src)
	var ns noSleep
	rep, err := Upload(context.Background(), src, s3.URL("runs/down"), Options{Attempts: 3, Sleep: ns.sleep})
	if err == nil {
		t.Fatal("upload to a failing server succeeded")
	}
	if len(rep.Failed) == 0 || rep.Failed[0].Attempts != 3 || !slices.Contains(rep.NotTried, SummaryFile) || len(rep.Uploaded) != 0 {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(err.Error(), "failed after 3 attempt(s)") || !strings.Contains(err.Error(), "0 of 7 files stored") {
		t.Errorf("error %q", err)
	}
	if len(s3.Puts()) != 0 {
		t.Errorf("stored %v", s3.Puts())
	}
	sameTree(t, want, readTree(t, src))
}

// Nothing listens at the endpoint: the upload fails with the location in
// the error.
func TestUploadToUnreachableEndpoint(t *testing.T) {
	testbed.StartS3(t, testbed.S3Options{}) // for its AWS_* environment
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	src := t.TempDir()
	writeTree(t, src)
	var ns noSleep
	url := testbed.S3URL(endpoint, "runs", "r")
	rep, err := Upload(context.Background(), src, url, Options{Attempts: 2, Sleep: ns.sleep})
	if err == nil || !strings.Contains(err.Error(), url) || len(rep.Uploaded) != 0 {
		t.Fatalf("upload to %s: %v, report %+v", endpoint, err, rep)
	}
}

// A wrong account key is refused by the emulator: the upload stops at
// once (not retried: the key will not become right) and the key is in
// no error.
func TestWrongKeyIsNotRetriedNorPrinted(t *testing.T) {
	az := testbed.StartAzurite(t)
	if err := az.CreateContainer(context.Background(), "results"); err != nil {
		t.Fatal(err)
	}
	wrong := "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleQ==" // base64, not the account's
	t.Setenv("AZURE_STORAGE_ACCOUNT", az.Account)
	t.Setenv("AZURE_STORAGE_KEY", wrong)
	src := t.TempDir()
	writeTree(t, src)
	var ns noSleep
	rep, err := Upload(context.Background(), src, az.BucketURL("results", "r"), Options{Sleep: ns.sleep, Redact: []string{wrong}})
	if err == nil {
		t.Fatal("upload with a wrong key succeeded")
	}
	if len(ns.waits) != 0 || rep.Retries != 0 {
		t.Errorf("an authentication failure was retried: waits %v", ns.waits)
	}
	for _, s := range []string{wrong, az.Key} {
		if strings.Contains(fmt.Sprint(err), s) {
			t.Errorf("error shows a key: %v", err)
		}
	}
	if _, err := Download(context.Background(), az.BucketURL("results", "r"), t.TempDir(), Options{Redact: []string{wrong}}); err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("download with a wrong key: %v", err)
	}
}
