package image

import (
	"archive/tar"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/image/imagetest"
	"github.com/fleetbench/fleetbench/internal/pki"
)

var (
	helloOnce sync.Once
	helloBin  []byte
	helloDir  string
)

// hello is testdata/hello built static for amd64: a real executable, small
// enough to build in a second. Built once for every test in this package.
func hello(t *testing.T) []byte {
	t.Helper()
	helloOnce.Do(func() {
		dir, err := os.MkdirTemp("", "image-test-")
		if err != nil {
			t.Fatal(err)
		}
		helloDir = dir
		b, err := os.ReadFile(imagetest.GoBuild(t, dir, "./testdata/hello", "amd64"))
		if err != nil {
			t.Fatal(err)
		}
		helloBin = b
	})
	if helloBin == nil {
		t.Skip("the hello binary could not be built (see the first test that tried)")
	}
	return helloBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helloDir != "" {
		os.RemoveAll(helloDir)
	}
	os.Exit(code)
}

func testSpec(t *testing.T) Spec {
	ca, err := pki.NewCA("image test root", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Binary:   hello(t),
		CABundle: ca.CertPEM,
		Version:  "v1.2.3-test",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Source:   "https://github.com/fleetbench/fleetbench",
		Created:  time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
	}
}

// Building the same Spec twice gives the same digest, and changing any one
// input changes it: the digest is a function of the inputs alone.
func TestBuildIsReproducible(t *testing.T) {
	spec := testSpec(t)
	digest := func(s Spec) string {
		t.Helper()
		img, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	first := digest(spec)
	if again := digest(spec); again != first {
		t.Fatalf("two builds of one spec differ: %s, then %s", first, again)
	}
	changes := map[string]func(*Spec){
		"created":   func(s *Spec) { s.Created = s.Created.Add(time.Second) },
		"CA bundle": func(s *Spec) { s.CABundle = append([]byte("# extra\n"), s.CABundle...) },
		"version":   func(s *Spec) { s.Version = "v1.2.4" },
		"binary":    func(s *Spec) { s.Binary = append(append([]byte(nil), s.Binary...), 0) },
	}
	for what, change := range changes {
		s := spec
		change(&s)
		if digest(s) == first {
			t.Errorf("changing the %s left the digest at %s", what, first)
		}
	}
	// Sub-second parts of Created are dropped, as in the tar headers.
	s := spec
	s.Created = s.Created.Add(300 * time.Millisecond)
	if got := digest(s); got != first {
		t.Errorf("a created time 300ms later changed the digest: %s, not %s", got, first)
	}
}

// The config runs the binary as the non-root user in the run directory,
// with the platform read from the binary and the OCI labels.
func TestBuildConfig(t *testing.T) {
	spec := testSpec(t)
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if !cf.Created.Time.Equal(spec.Created) {
		t.Errorf("created %v, want %v", cf.Created.Time, spec.Created)
	}
	c := cf.Config
	if !reflect.DeepEqual(c.Entrypoint, []string{"/fleetbench"}) || c.Cmd != nil {
		t.Errorf("entrypoint %q cmd %q, want [/fleetbench] and no cmd", c.Entrypoint, c.Cmd)
	}
	if c.User != "65532:65532" || c.WorkingDir != "/runs" {
		t.Errorf("user %q workdir %q, want 65532:65532 and /runs", c.User, c.WorkingDir)
	}
	if !slices.Contains(c.Env, "HOME=/runs") {
		t.Errorf("env %q has no HOME=/runs", c.Env)
	}
	want := map[string]string{
		"org.opencontainers.image.title":    "fleetbench",
		"org.opencontainers.image.version":  "v1.2.3-test",
		"org.opencontainers.image.revision": spec.Revision,
		"org.opencontainers.image.source":   spec.Source,
		"org.opencontainers.image.created":  "2026-12-01T10:30:00Z",
	}
	for k, v := range want {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if _, ok := c.Labels["org.opencontainers.image.licenses"]; ok {
		t.Errorf("a spec without Licenses has a licenses label: %q", c.Labels["org.opencontainers.image.licenses"])
	}
}

// The layer holds exactly the listed files, sorted, with root owning all
// but the run directory, and every time stamp the spec's.
func TestBuildLayer(t *testing.T) {
	spec := testSpec(t)
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	files, order := imagetest.Files(t, img)
	if !sort.StringsAreSorted(order) {
		t.Errorf("layer entries are not sorted: %q", order)
	}
	type want struct {
		typ      byte
		mode     int64
		uid, gid int
	}
	wants := map[string]want{
		"etc/":                              {tar.TypeDir, 0o755, 0, 0},
		"etc/group":                         {tar.TypeReg, 0o644, 0, 0},
		"etc/nsswitch.conf":                 {tar.TypeReg, 0o644, 0, 0},
		"etc/passwd":                        {tar.TypeReg, 0o644, 0, 0},
		"etc/ssl/":                          {tar.TypeDir, 0o755, 0, 0},
		"etc/ssl/certs/":                    {tar.TypeDir, 0o755, 0, 0},
		"etc/ssl/certs/ca-certificates.crt": {tar.TypeReg, 0o644, 0, 0},
		"fleetbench":                        {tar.TypeReg, 0o755, 0, 0},
		"runs/":                             {tar.TypeDir, 0o755, 65532, 65532},
		"tmp/":                              {tar.TypeDir, 0o1777, 0, 0},
	}
	if len(files) != len(wants) {
		t.Errorf("layer has %d entries %q, want %d", len(files), order, len(wants))
	}
	for name, w := range wants {
		f, ok := files[name]
		if !ok {
			t.Errorf("layer has no %s", name)
			continue
		}
		h := f.Header
		if h.Typeflag != w.typ || h.Mode != w.mode || h.Uid != w.uid || h.Gid != w.gid {
			t.Errorf("%s: type %c mode %o owner %d:%d, want type %c mode %o owner %d:%d",
				name, h.Typeflag, h.Mode, h.Uid, h.Gid, w.typ, w.mode, w.uid, w.gid)
		}
		if !h.ModTime.Equal(spec.Created) || h.Uname != "" || !h.AccessTime.IsZero() {
			t.Errorf("%s: mtime %v uname %q atime %v, want %v, none, none", name, h.ModTime, h.Uname, h.AccessTime, spec.Created)
		}
	}
	if got := files["fleetbench"].Data; string(got) != string(spec.Binary) {
		t.Errorf("/fleetbench is %d bytes, not the %d-byte binary", len(got), len(spec.Binary))
	}
	if got := files["etc/ssl/certs/ca-certificates.crt"].Data; string(got) != string(spec.CABundle) {
		t.Errorf("the CA bundle in the image is not the spec's:\n%s", got)
	}
	if passwd := string(files["etc/passwd"].Data); !strings.Contains(passwd, "\nnonroot:x:65532:65532:nonroot:/runs:/sbin/nologin\n") {
		t.Errorf("/etc/passwd has no nonroot entry with home /runs:\n%s", passwd)
	}
	if group := string(files["etc/group"].Data); !strings.Contains(group, "\nnonroot:x:65532:\n") {
		t.Errorf("/etc/group has no nonroot group:\n%s", group)
	}
}

// Build refuses what cannot run in an image without a C library, or lacks a
// required input, with an error that says how to fix it.
func TestBuildRefuses(t *testing.T) {
	spec := testSpec(t)
	dir := t.TempDir()
	pie, err := os.ReadFile(imagetest.GoBuild(t, dir, "./testdata/hello", "amd64", "-buildmode=pie"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		change func(*Spec)
		want   string
	}{
		"a PIE (dynamic loader)": {func(s *Spec) { s.Binary = pie }, "CGO_ENABLED=0"},
		"a shell script":         {func(s *Spec) { s.Binary = []byte("#!/bin/sh\necho hi\n") }, "GOOS=linux"},
		"no CA bundle":           {func(s *Spec) { s.CABundle = nil }, "ca-certificates.crt"},
		"no version":             {func(s *Spec) { s.Version = "" }, "no version"},
	}
	for name, c := range cases {
		s := spec
		c.change(&s)
		_, err := Build(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
	}
}

// The platform comes from the binary: an arm64 build gives linux/arm64.
func TestPlatformOfArm64(t *testing.T) {
	b, err := os.ReadFile(imagetest.GoBuild(t, t.TempDir(), "./testdata/hello", "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlatformOf(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.OS != "linux" || p.Architecture != "arm64" {
		t.Errorf("platform %s/%s, want linux/arm64", p.OS, p.Architecture)
	}
}
