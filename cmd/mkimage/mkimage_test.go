package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/fleetbench/fleetbench/internal/image/imagetest"
	"github.com/fleetbench/fleetbench/internal/pki"
)

const testVersion = "v9.9.9-imagetest"

// mkimage runs the command with args and SOURCE_DATE_EPOCH, failing the
// test unless it exits 0; it returns stdout.
func mkimage(t *testing.T, epoch string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return epoch
		}
		return ""
	}
	if code := run(args, getenv, &stdout, &stderr); code != exitOK {
		t.Fatalf("mkimage %q: exit %d\n%s", args, code, stderr.String())
	}
	return stdout.String()
}

// The whole way, as `make image` goes: fleetbench built static with its
// version, mkimage writing the tarball and an OCI layout; then the tarball
// opened as docker load, crane and skopeo open it, its config and files
// checked, and the binary taken from its layer run.
func TestImageTarball(t *testing.T) {
	dir := t.TempDir()
	bin := imagetest.GoBuild(t, dir, "github.com/fleetbench/fleetbench/cmd/fleetbench", runtime.GOARCH,
		"-ldflags", "-X main.version="+testVersion)
	ca, err := pki.NewCA("image test root", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "fleetbench-image.tar")
	layoutDir := filepath.Join(dir, "oci")
	args := []string{"-bin", bin, "-ca", caFile, "-version", testVersion, "-out", out, "-layout", layoutDir,
		"-revision", "0123456789abcdef0123456789abcdef01234567", "-source", "https://github.com/fleetbench/fleetbench"}
	printed := mkimage(t, "1796121000", args...)

	tag, err := name.NewTag("fleetbench:" + testVersion)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("the tarball does not open as tagged %s: %v", tag, err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	wantLine := out + ": fleetbench:" + testVersion + " linux/" + runtime.GOARCH + " " + digest.String() + "\n"
	if !strings.HasPrefix(printed, wantLine) {
		t.Errorf("mkimage printed %q, want it to start with %q (the digest the tarball gives)", printed, wantLine)
	}

	// The config.
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if strings.Join(c.Entrypoint, " ") != "/fleetbench" || c.User != "65532:65532" || c.WorkingDir != "/runs" {
		t.Errorf("entrypoint %q user %q workdir %q, want [/fleetbench], 65532:65532, /runs", c.Entrypoint, c.User, c.WorkingDir)
	}
	if !strings.Contains(strings.Join(c.Env, "\n"), "HOME=/runs") {
		t.Errorf("env %q has no HOME=/runs", c.Env)
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.source":   "https://github.com/fleetbench/fleetbench",
		"org.opencontainers.image.created":  "2026-12-01T10:30:00Z", // SOURCE_DATE_EPOCH 1796121000
		"org.opencontainers.image.title":    "fleetbench",
	} {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}

	// The files.
	files, _ := imagetest.Files(t, img)
	binFile, ok := files["fleetbench"]
	if !ok || binFile.Header.Mode != 0o755 || binFile.Header.Uid != 0 {
		t.Fatalf("/fleetbench: present %v, mode %o, uid %d; want a root-owned 0755 file", ok, binFile.Header.Mode, binFile.Header.Uid)
	}
	if built, _ := os.ReadFile(bin); !bytes.Equal(binFile.Data, built) {
		t.Errorf("/fleetbench (%d bytes) is not the binary built (%d bytes)", len(binFile.Data), len(built))
	}
	if got := files["etc/ssl/certs/ca-certificates.crt"].Data; !bytes.Equal(got, ca.CertPEM) {
		t.Errorf("the image's CA bundle is not -ca's file:\n%s", got)
	}
	if !strings.Contains(string(files["etc/passwd"].Data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user:\n%s", files["etc/passwd"].Data)
	}
	if h := files["runs/"].Header; h.Uid != 65532 || h.Gid != 65532 || h.Mode != 0o755 {
		t.Errorf("/runs: owner %d:%d mode %o, want 65532:65532 0755", h.Uid, h.Gid, h.Mode)
	}

	// The binary from the layer runs and knows its version.
	if runtime.GOOS != "linux" {
		t.Logf("not running the image's binary: this is %s, it is linux", runtime.GOOS)
	} else {
		exe := filepath.Join(dir, "from-layer", "fleetbench")
		if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, binFile.Data, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, arg := range []string{"version", "--help"} {
			cmd := exec.Command(exe, arg)
			cmd.Dir = filepath.Dir(exe)
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("fleetbench %s from the image's layer: %v\n%s", arg, err, b)
			}
			want := map[string]string{"version": "fleetbench " + testVersion, "--help": "fleetbench run"}[arg]
			if !strings.Contains(string(b), want) {
				t.Errorf("fleetbench %s from the image's layer printed %q, want it to contain %q", arg, b, want)
			}
		}
	}

	// What docker load reads: manifest.json names the tag.
	assertRepoTag(t, out, "fleetbench:"+testVersion)

	// The OCI layout holds the same image.
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatalf("the OCI layout does not open: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != digest ||
		im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != testVersion {
		t.Errorf("the OCI layout's index %+v, want one image %s named %s", im.Manifests, digest, testVersion)
	}

	// A second build of the same inputs writes the same bytes.
	again := filepath.Join(dir, "again.tar")
	mkimage(t, "1796121000", append(args[:len(args):len(args)], "-out", again)...)
	if a, b := fileSum(t, out), fileSum(t, again); a != b {
		t.Errorf("two builds of the same inputs differ: %x and %x", a, b)
	}
}

// assertRepoTag checks that the tarball's manifest.json, which docker load
// reads, tags the image as tag.
func assertRepoTag(t *testing.T, path, tag string) {
	t.Helper()
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != tag {
		b, _ := json.Marshal(m)
		t.Errorf("manifest.json %s, want one image tagged %s", b, tag)
	}
}

func fileSum(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Bad command lines exit 2 and bad inputs 1, each with a line that says
// what to do.
func TestMkimageRefuses(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.tar")
	cases := []struct {
		args  []string
		epoch string
		code  int
		want  string
	}{
		{[]string{"-out", out, "-version", "v1"}, "", exitUsage, "-bin is required"},
		{[]string{"-bin", notELF, "-out", out, "-version", "v1", "-tag", "Bad Tag"}, "", exitUsage, "-tag"},
		{[]string{"-bin", notELF, "-out", out, "-version", "v1"}, "yesterday", exitUsage, "SOURCE_DATE_EPOCH"},
		{[]string{"-bin", filepath.Join(dir, "missing"), "-out", out, "-version", "v1"}, "", exitError, "reading the binary"},
		{[]string{"-bin", notELF, "-ca", filepath.Join(dir, "no-ca.pem"), "-out", out, "-version", "v1"}, "", exitError, "-ca FILE"},
		{[]string{"-bin", notELF, "-ca", notELF, "-out", out, "-version", "v1"}, "", exitError, "GOOS=linux"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, func(string) string { return c.epoch }, &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("mkimage %q: exit %d, stderr %q; want exit %d and one line mentioning %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused build left %s behind (stat: %v)", out, err)
	}
}
