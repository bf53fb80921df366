package imagetest

import (
	"archive/tar"
	"errors"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// File is one entry of an image layer: its header and, for a regular file,
// its contents.
type File struct {
	Header tar.Header
	Data   []byte
}

// Files reads every layer of img (uncompressed) and returns its entries by
// name, and their names in the order the layers hold them.
func Files(tb testing.TB, img v1.Image) (files map[string]File, order []string) {
	tb.Helper()
	layers, err := img.Layers()
	if err != nil {
		tb.Fatal(err)
	}
	files = map[string]File{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			tb.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				tb.Fatal(err)
			}
			files[h.Name] = File{Header: *h, Data: data}
			order = append(order, h.Name)
		}
		rc.Close()
	}
	return files, order
}
