// Package image builds fleetbench's container image without a container
// runtime: one layer holding the static binary, a CA bundle, passwd and group
// entries for a non-root user and a writable run directory, under a config
// with the entrypoint, user, working directory and OCI labels. It is what ko
// does, with go-containerregistry, minus the base image: the few files a base
// such as distroless/static would bring are written here.
//
// Build is a pure function of its Spec: the same Spec gives the same image,
// byte for byte, so the same commit gives the same digest. Writing the image
// (a docker-load tarball, an OCI layout) is the caller's job; cmd/mkimage
// does it.
package image

import (
	"compress/gzip"
	"errors"
	"fmt"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// The image's fixed layout. Kubernetes manifests refer to these.
const (
	// Entrypoint is where the binary lives and what the image runs.
	Entrypoint = "/fleetbench"
	// UID and GID are the numeric user and group the image runs as (the
	// "nonroot" user of distroless and ko). Numeric, so that Kubernetes'
	// runAsNonRoot can verify it without reading /etc/passwd.
	UID, GID = 65532, 65532
	// UserName is the name /etc/passwd and /etc/group give UID and GID.
	UserName = "nonroot"
	// RunDir is the working directory and HOME: owned by UID, so that
	// fleetbench can write runs/ and the embedded hub's files there. With a
	// read-only root file system, mount a volume here.
	RunDir = "/runs"
	// CABundlePath is where the CA bundle goes: the path Go's crypto/x509
	// reads first on Linux (and distroless puts its bundle).
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
)

// Spec is everything an image is built from. Every field that reaches the
// image is here, which is what makes Build reproducible.
type Spec struct {
	// Binary is fleetbench built for Linux with CGO_ENABLED=0: a statically
	// linked ELF executable. Its architecture becomes the image's platform.
	Binary []byte
	// CABundle is the PEM bundle of trusted roots written to CABundlePath.
	// Required: without it TLS to any real hub fails.
	CABundle []byte
	// Version is the binary's version (org.opencontainers.image.version).
	// Required.
	Version string
	// Revision is the source commit (org.opencontainers.image.revision);
	// empty leaves the label out.
	Revision string
	// Source is the URL of the source repository
	// (org.opencontainers.image.source); empty leaves the label out.
	Source string
	// Licenses is an SPDX expression (org.opencontainers.image.licenses);
	// empty leaves the label out.
	Licenses string
	// Created is the image's creation time and the modification time of
	// every file in it (org.opencontainers.image.created), truncated to
	// whole seconds. Pass the commit time (SOURCE_DATE_EPOCH) for a
	// reproducible image, never the clock.
	Created time.Time
}

// Labels returns the OCI annotations Build puts on the image's config.
func (s Spec) Labels() map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "fleetbench",
		"org.opencontainers.image.description": "Load generator for IoT device fleets (MQTT over TLS, open-model schedule, HDR latencies)",
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.created":     s.Created.UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	for key, v := range map[string]string{
		"org.opencontainers.image.revision": s.Revision,
		"org.opencontainers.image.source":   s.Source,
		"org.opencontainers.image.licenses": s.Licenses,
	} {
		if v != "" {
			l[key] = v
		}
	}
	return l
}

// Build returns the image for s: one gzip layer (Docker media types, the
// ones a docker-load tarball records, so the digest Build gives is the one
// a registry shows after pushing that tarball). It fails when the binary is
// not a static Linux executable or a required field is empty.
func Build(s Spec) (v1.Image, error) {
	platform, err := PlatformOf(s.Binary)
	if err != nil {
		return nil, err
	}
	switch {
	case len(s.CABundle) == 0:
		return nil, errors.New("image: the CA bundle is empty (pass the machine's, e.g. /etc/ssl/certs/ca-certificates.crt)")
	case s.Version == "":
		return nil, errors.New("image: no version (pass the one the binary was built with)")
	}
	created := s.Created.UTC().Truncate(time.Second)

	layer, err := rootLayer(s.Binary, s.CABundle, created, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "fleetbench cmd/mkimage",
			Comment:   "static binary, CA bundle, passwd/group for " + UserName + ", " + RunDir,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	cf.Config = v1.Config{
		Entrypoint: []string{Entrypoint},
		User:       strconv.Itoa(UID) + ":" + strconv.Itoa(GID),
		WorkingDir: RunDir,
		Env: []string{
			"PATH=/usr/local/bin:/usr/bin:/bin:/",
			"HOME=" + RunDir,
			"SSL_CERT_FILE=" + CABundlePath,
		},
		Labels: s.Labels(),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	return img, nil
}
