package store

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/gcsblob"  // gs:// URLs
	_ "gocloud.dev/blob/s3blob"   // s3:// URLs
)

// Schemes are the URL schemes a run location may have.
var Schemes = []string{"azblob", "s3", "gs", "file"}

// urlPrefix matches the start of anything written as a URL ("x://"), so
// that a mistyped scheme is reported instead of being taken for a
// directory name.
var urlPrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// IsURL reports whether s names a bucket location (SCHEME://...) rather
// than a local path. It does not check the scheme: Check does.
func IsURL(s string) bool { return urlPrefix.MatchString(s) }

// Location is a parsed run URL: the bucket to open and the prefix of the
// run's objects in it.
type Location struct {
	URL       string // as given
	BucketURL string // SCHEME://HOST?QUERY, for blob.OpenBucket
	Prefix    string // "" or "runs/RUN/": the objects' common prefix
}

// Parse splits a run URL into its bucket and prefix. It checks the form
// only (scheme, bucket name); whether the bucket answers is known when it
// is used.
func Parse(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil || !IsURL(raw) {
		return Location{}, fmt.Errorf("%q is not a bucket URL (expected SCHEME://BUCKET/PREFIX with SCHEME one of %s)", raw, strings.Join(Schemes, ", "))
	}
	if !slices.Contains(Schemes, u.Scheme) {
		return Location{}, fmt.Errorf("%q: unsupported scheme %q (one of %s; see docs/storage.md)", raw, u.Scheme, strings.Join(Schemes, ", "))
	}
	loc := Location{URL: raw}
	if u.Scheme == "file" {
		// gocloud's file bucket is the directory in the path: the run
		// directory itself, created when missing, without metadata sidecars.
		if u.Path == "" || u.Path == "/" {
			return Location{}, fmt.Errorf("%q: a file URL names a directory (file:///abs/path/RUN)", raw)
		}
		q := u.Query()
		if !q.Has("create_dir") {
			q.Set("create_dir", "true")
		}
		if !q.Has("metadata") {
			q.Set("metadata", "skip")
		}
		u.RawQuery = q.Encode()
		loc.BucketURL = u.String()
		return loc, nil
	}
	if u.Host == "" {
		return Location{}, fmt.Errorf("%q: no bucket name (expected %s://BUCKET/PREFIX)", raw, u.Scheme)
	}
	if p := strings.Trim(path.Clean("/"+u.Path), "/"); p != "" {
		loc.Prefix = p + "/"
	}
	u.Path, u.RawPath = "", ""
	loc.BucketURL = u.String()
	return loc, nil
}

// Check reports whether raw is a usable run URL (see Parse).
func Check(raw string) error {
	_, err := Parse(raw)
	return err
}

// open opens the location's bucket.
//
// azblob is opened with a fresh opener on each call rather than the
// default one, which reads the AZURE_STORAGE_* variables once per process:
// a rotated key, or a test that changes them, is then seen.
func (l Location) open(ctx context.Context) (*blob.Bucket, error) {
	if strings.HasPrefix(l.BucketURL, azureblob.Scheme+"://") {
		u, err := url.Parse(l.BucketURL)
		if err != nil {
			return nil, err
		}
		o := &azureblob.URLOpener{MakeClient: azureblob.NewDefaultClient, ServiceURLOptions: *azureblob.NewDefaultServiceURLOptions()}
		return o.OpenBucketURL(ctx, u)
	}
	return blob.OpenBucket(ctx, l.BucketURL)
}
