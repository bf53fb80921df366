package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// entry is one file or directory of the image's root file system.
type entry struct {
	path     string // relative to /, no leading slash; directories end in "/"
	mode     int64  // permission bits, with the sticky bit where set
	uid, gid int
	data     []byte // nil for a directory
}

// rootFS lists the image's files: the binary, the CA bundle, the user, the
// run directory and what Go's standard library reads from /etc and /tmp.
// Everything belongs to root and is read-only to the user except RunDir.
func rootFS(binary, caBundle []byte) []entry {
	user := strconv.Itoa(UID)
	group := strconv.Itoa(GID)
	return []entry{
		{path: "etc/", mode: 0o755},
		{path: "etc/passwd", mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				UserName + ":x:" + user + ":" + group + ":" + UserName + ":" + RunDir + ":/sbin/nologin\n")},
		{path: "etc/group", mode: 0o644, data: []byte(
			"root:x:0:\n" +
				UserName + ":x:" + group + ":\n")},
		// Go's resolver reads it for the order of /etc/hosts and DNS.
		{path: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{path: "etc/ssl/", mode: 0o755},
		{path: "etc/ssl/certs/", mode: 0o755},
		{path: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: caBundle},
		{path: strings.TrimPrefix(Entrypoint, "/"), mode: 0o755, data: binary},
		{path: strings.TrimPrefix(RunDir, "/") + "/", mode: 0o755, uid: UID, gid: GID},
		{path: "tmp/", mode: 0o1777},
	}
}

// layerTar writes entries as an uncompressed tar, sorted by path (a parent
// before its children), every time stamp set to modTime and nothing taken
// from the machine (no user names, no access times), so equal inputs give
// equal bytes.
func layerTar(entries []entry, modTime time.Time) ([]byte, error) {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].path < sorted[j].path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range sorted {
		h := &tar.Header{
			Name:    e.path,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: modTime,
			Format:  tar.FormatPAX,
		}
		if strings.HasSuffix(e.path, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image: layer entry %s: %w", e.path, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("image: layer entry %s: %w", e.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	return buf.Bytes(), nil
}

// rootLayer is the image's only layer, gzip-compressed at level.
func rootLayer(binary, caBundle []byte, modTime time.Time, level int) (v1.Layer, error) {
	b, err := layerTar(rootFS(binary, caBundle), modTime)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithCompressionLevel(level))
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	return layer, nil
}
