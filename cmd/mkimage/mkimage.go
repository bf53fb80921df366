package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/fleetbench/fleetbench/internal/image"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // an input could not be read, or the image not written
	exitUsage = 2 // bad command line
)

const usage = `usage: mkimage -bin FILE -version V -out FILE.tar [flags]

Writes fleetbench's container image (docs/image.md) as a docker-load tarball
and, with -layout, an OCI image layout directory.

`

// options are mkimage's flags.
type options struct {
	bin, ca, out, layoutDir, tag        string
	version, revision, source, licenses string
	created                             time.Time
}

// run is mkimage without the process: arguments, environment and output in,
// an exit code out.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mkimage: %v (try 'mkimage -h')\n", err)
		return exitUsage
	}
	digest, platform, err := build(opts)
	if err != nil {
		fmt.Fprintf(stderr, "mkimage: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s: %s %s %s\n", opts.out, opts.tag, platform, digest)
	if opts.layoutDir != "" {
		fmt.Fprintf(stdout, "%s: OCI image layout of the same image\n", opts.layoutDir)
	}
	return exitOK
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&o.bin, "bin", "", "the fleetbench binary, built with CGO_ENABLED=0 GOOS=linux (required)")
	fs.StringVar(&o.ca, "ca", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle copied into the image at "+image.CABundlePath)
	fs.StringVar(&o.out, "out", "", "the docker-load tarball to write (required)")
	fs.StringVar(&o.layoutDir, "layout", "", "also write an OCI image layout into this directory (its index is replaced)")
	fs.StringVar(&o.tag, "tag", "", "the tag the tarball records (default fleetbench:VERSION)")
	fs.StringVar(&o.version, "version", "", "the binary's version, for the labels and the default tag (required)")
	fs.StringVar(&o.revision, "revision", "", "the source commit (label org.opencontainers.image.revision)")
	fs.StringVar(&o.source, "source", "", "the source repository URL (label org.opencontainers.image.source)")
	fs.StringVar(&o.licenses, "licenses", "", "SPDX license expression (label org.opencontainers.image.licenses)")
	created := fs.String("created", "", "creation time and every file's time stamp, in Unix seconds (default $SOURCE_DATE_EPOCH, else 0)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, f := range []struct{ name, value string }{{"-bin", o.bin}, {"-out", o.out}, {"-version", o.version}} {
		if f.value == "" {
			return o, fmt.Errorf("%s is required", f.name)
		}
	}
	if o.tag == "" {
		o.tag = "fleetbench:" + o.version
	}
	if _, err := name.NewTag(o.tag); err != nil {
		return o, fmt.Errorf("-tag %q: %v (a tag looks like fleetbench:v1.2.3)", o.tag, err)
	}
	epoch, from := *created, "-created"
	if epoch == "" {
		epoch, from = getenv("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH"
	}
	if epoch == "" {
		epoch = "0"
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return o, fmt.Errorf("%s %q is not a time in Unix seconds (git log -1 --format=%%ct prints the commit's)", from, epoch)
	}
	o.created = time.Unix(secs, 0).UTC()
	return o, nil
}

// build reads the inputs, builds the image and writes it where opts say. It
// returns the image's digest and platform.
func build(opts options) (v1.Hash, string, error) {
	binary, err := os.ReadFile(opts.bin)
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("reading the binary: %w (build it with make image, or CGO_ENABLED=0 GOOS=linux go build)", err)
	}
	ca, err := os.ReadFile(opts.ca)
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("reading the CA bundle: %w (install the ca-certificates package, or pass -ca FILE)", err)
	}
	img, err := image.Build(image.Spec{
		Binary:   binary,
		CABundle: ca,
		Version:  opts.version,
		Revision: opts.revision,
		Source:   opts.source,
		Licenses: opts.licenses,
		Created:  opts.created,
	})
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("%s: %w", opts.bin, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, "", err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, "", err
	}
	if err := writeTarball(opts.out, opts.tag, img); err != nil {
		return v1.Hash{}, "", err
	}
	if opts.layoutDir != "" {
		if err := writeLayout(opts.layoutDir, opts.version, img); err != nil {
			return v1.Hash{}, "", err
		}
	}
	return digest, cf.OS + "/" + cf.Architecture, nil
}

// writeTarball writes img as a docker-load tarball tagged tag, through a
// temporary file renamed into place, so a failure leaves no half tarball.
func writeTarball(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing the tarball: %w", err)
	}
	tmp := path + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the tarball %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the tarball: %w", err)
	}
	return nil
}

// writeLayout writes img into an OCI image layout at dir, replacing its
// index, the image annotated with its version as the ref name.
func writeLayout(dir, version string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the OCI layout %s: %w", dir, err)
	}
	err = p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": version,
	}))
	if err != nil {
		return fmt.Errorf("writing the OCI layout %s: %w", dir, err)
	}
	return nil
}
