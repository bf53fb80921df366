package testbed

import (
	"io"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an S3 server (gofakes3, in-memory) serving in the test process on
// a free 127.0.0.1 port: the S3 protocol, signatures and all, is real; the
// storage behind it is a map. Fields are read-only.
type S3 struct {
	Endpoint string // http://127.0.0.1:PORT
	Bucket   string // created at start

	backend *flakyS3
}

// S3Options shape the server.
type S3Options struct {
	Bucket string // "": "runs"
	// FailPuts makes the first FailPuts object writes (of FailKey, if
	// set) answer 500 InternalError, a transient failure the client should
	// retry. The AWS SDK itself tries each request 3 times (gocloud.dev
	// installs its standard retryer), so more than 3 failures of one key
	// reach the caller.
	FailPuts int
	FailKey  string // "": any key
}

// StartS3 starts an S3 server for the calling test, with one bucket, and
// closes it with tb.Cleanup. It needs nothing installed. It sets the
// AWS_* environment the SDK reads (a dummy key, a region, no instance
// metadata, no shared config files), so the calling test may not be
// parallel.
func StartS3(tb testing.TB, opt S3Options) *S3 {
	tb.Helper()
	if opt.Bucket == "" {
		opt.Bucket = "runs"
	}
	back := &flakyS3{Backend: s3mem.New(), failPuts: opt.FailPuts, failKey: opt.FailKey}
	if err := back.CreateBucket(opt.Bucket); err != nil {
		tb.Fatalf("testbed: s3 bucket: %v", err)
	}
	srv := httptest.NewServer(gofakes3.New(back).Server())
	tb.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "fleetbench-test", "AWS_SECRET_ACCESS_KEY": "fleetbench-test-secret",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
	} {
		tb.Setenv(k, v)
	}
	return &S3{Endpoint: srv.URL, Bucket: opt.Bucket, backend: back}
}

// URL is the gocloud.dev/blob URL of prefix in the bucket:
// s3://BUCKET/PREFIX?endpoint=...&use_path_style=true&disable_https=true.
func (s *S3) URL(prefix string) string {
	return S3URL(s.Endpoint, s.Bucket, prefix)
}

// S3URL is the gocloud.dev/blob URL of prefix in bucket at an S3
// endpoint (http://HOST:PORT), path-style.
func S3URL(endpoint, bucket, prefix string) string {
	q := url.Values{"endpoint": {endpoint}, "use_path_style": {"true"}, "disable_https": {"true"}, "region": {"us-east-1"}}
	u := url.URL{Scheme: "s3", Host: bucket, Path: "/" + prefix, RawQuery: q.Encode()}
	return u.String()
}

// Puts returns the keys of the object writes the server accepted, in order.
func (s *S3) Puts() []string {
	s.backend.mu.Lock()
	defer s.backend.mu.Unlock()
	return append([]string(nil), s.backend.puts...)
}

// FailedPuts is how many writes the server refused (S3Options.FailPuts).
func (s *S3) FailedPuts() int {
	s.backend.mu.Lock()
	defer s.backend.mu.Unlock()
	return s.backend.failed
}

// flakyS3 refuses the first failPuts writes (of failKey) and records the
// others.
type flakyS3 struct {
	gofakes3.Backend

	mu       sync.Mutex
	failPuts int
	failKey  string
	failed   int
	puts     []string
}

func (b *flakyS3) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	b.mu.Lock()
	if b.failed < b.failPuts && (b.failKey == "" || key == b.failKey) {
		b.failed++
		b.mu.Unlock()
		return gofakes3.PutObjectResult{}, gofakes3.ErrInternal
	}
	b.mu.Unlock()
	res, err := b.Backend.PutObject(bucket, key, meta, input, size, cond)
	if err == nil {
		b.mu.Lock()
		b.puts = append(b.puts, key)
		b.mu.Unlock()
	}
	return res, err
}
