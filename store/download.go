package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	"golang.org/x/sync/errgroup"
)

// Download copies every object under the run location url into localDir
// (created if needed), each at its path relative to the prefix, and
// returns how many files it wrote. It fails when there is no object under
// the prefix (no run there), or when an object's name would leave
// localDir. Errors are scrubbed of secrets (Options.Redact); Download does
// not retry beyond what the SDK does.
func Download(ctx context.Context, url, localDir string, opts Options) (int, error) {
	loc, err := Parse(url)
	if err != nil {
		return 0, err
	}
	bucket, err := loc.open(ctx)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", url, scrub(err, opts.Redact))
	}
	defer bucket.Close()

	var keys []string
	it := bucket.List(&blob.ListOptions{Prefix: loc.Prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("list %s: %w", url, scrub(err, opts.Redact))
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
	if len(keys) == 0 {
		return 0, fmt.Errorf("no run at %s: nothing is stored under that prefix", url)
	}
	if err := os.MkdirAll(localDir, 0o755); err != nil {
		return 0, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, key := range keys {
		rel := strings.TrimPrefix(key, loc.Prefix)
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return 0, fmt.Errorf("download %s: object %q would be written outside %s; refusing it", url, key, localDir)
		}
		g.Go(func() error {
			if err := get(gctx, bucket, key, filepath.Join(localDir, filepath.FromSlash(rel))); err != nil {
				return fmt.Errorf("download %s: %s: %w", url, rel, scrub(err, opts.Redact))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// get copies one object to the file path, creating its directory.
func get(ctx context.Context, bucket *blob.Bucket, key, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	r, err := bucket.NewReader(ctx, key, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
