package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"golang.org/x/sync/errgroup"
)

// Options tune Upload and Download. The zero value is ready to use.
type Options struct {
	// Attempts is how many times one object is tried before the upload
	// gives up (0: 4). Each attempt is itself retried by the cloud's SDK
	// for the failures it knows to be transient.
	Attempts int
	// Backoff is the wait before the second attempt of an object, doubled
	// before each later one (0: 1s).
	Backoff time.Duration
	// Exclude, if set, keeps the files it returns true for (by path
	// relative to the directory, slash-separated) out of the upload.
	Exclude func(rel string) bool
	// Redact lists secret values (credentials from the environment) that
	// must never appear in an error; they are replaced by "REDACTED".
	Redact []string
	// Sleep waits d or until ctx ends (nil: a timer); tests pass their own.
	Sleep func(ctx context.Context, d time.Duration) error
}

// parallel is how many objects are uploaded or downloaded at once.
const parallel = 8

func (o Options) attempts() int {
	if o.Attempts <= 0 {
		return 4
	}
	return o.Attempts
}

func (o Options) backoff() time.Duration {
	if o.Backoff <= 0 {
		return time.Second
	}
	return o.Backoff
}

func (o Options) sleep(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		return o.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SummaryFile is uploaded last, after every other file of the directory
// arrived: a reader that finds PREFIX/summary.json finds a whole run.
const SummaryFile = "summary.json"

// UploadReport says what an Upload did. Files are paths relative to the
// uploaded directory, slash-separated.
type UploadReport struct {
	URL      string
	Uploaded []string      // stored, in completion order
	Failed   []ObjectError // gave up after the retries (or a permanent error)
	NotTried []string      // left out because the upload had already failed
	Retries  int           // attempts beyond the first, over every object
}

// ObjectError is one file that could not be stored.
type ObjectError struct {
	File     string
	Attempts int
	Err      error // scrubbed of secrets
}

// Upload copies every regular file below localDir to the run location url
// (see the package comment), summary.json last. Each object is retried
// with exponential back-off (Options); a permanent error (no such bucket,
// access denied) or the first object that still fails ends the upload, and
// the rest are reported as not tried. The local directory is never
// changed. The error, when not nil, names the location, the failed file
// and the cause; it is also in the report.
func Upload(ctx context.Context, localDir, url string, opts Options) (UploadReport, error) {
	rep := UploadReport{URL: url}
	loc, err := Parse(url)
	if err != nil {
		return rep, err
	}
	files, err := listLocal(localDir, opts.Exclude)
	if err != nil {
		return rep, err
	}
	bucket, err := loc.open(ctx)
	if err != nil {
		return rep, fmt.Errorf("open %s: %w", url, scrub(err, opts.Redact))
	}
	defer bucket.Close()

	u := &uploader{bucket: bucket, loc: loc, dir: localDir, opts: opts, rep: &rep}
	// Everything but summary.json, in parallel; then summary.json.
	rest, last := splitLast(files, SummaryFile)
	ok := u.putAll(ctx, rest)
	if last != "" {
		if ok {
			u.putAll(ctx, []string{last})
		} else {
			rep.NotTried = append(rep.NotTried, last)
		}
	}
	if len(rep.Failed) == 0 {
		return rep, nil
	}
	f := rep.Failed[0]
	return rep, fmt.Errorf("upload to %s: %s failed after %d attempt(s): %w (%d of %d files stored)",
		url, f.File, f.Attempts, f.Err, len(rep.Uploaded), len(files))
}

// uploader holds one Upload's state; mu guards rep.
type uploader struct {
	bucket *blob.Bucket
	loc    Location
	dir    string
	opts   Options

	mu  sync.Mutex
	rep *UploadReport
}

// putAll stores files, parallel at most `parallel` at once. The first
// file that fails for good stops the others: the files not started are
// reported as not tried. It reports whether every file was stored.
func (u *uploader) putAll(ctx context.Context, files []string) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := new(errgroup.Group)
	g.SetLimit(parallel)
	for _, rel := range files {
		if ctx.Err() != nil {
			u.mu.Lock()
			u.rep.NotTried = append(u.rep.NotTried, rel)
			u.mu.Unlock()
			continue
		}
		g.Go(func() error {
			n, err := u.putWithRetry(ctx, rel)
			u.mu.Lock()
			defer u.mu.Unlock()
			u.rep.Retries += n - 1
			if err != nil {
				if ctx.Err() != nil && len(u.rep.Failed) > 0 {
					u.rep.NotTried = append(u.rep.NotTried, rel) // stopped by another file's failure
					return nil
				}
				u.rep.Failed = append(u.rep.Failed, ObjectError{File: rel, Attempts: n, Err: err})
				cancel()
				return nil
			}
			u.rep.Uploaded = append(u.rep.Uploaded, rel)
			return nil
		})
	}
	g.Wait()
	return len(u.rep.Failed) == 0
}

// putWithRetry stores one file, retrying transient failures; it returns
// the attempts made and the last error, scrubbed.
func (u *uploader) putWithRetry(ctx context.Context, rel string) (int, error) {
	wait := u.opts.backoff()
	for attempt := 1; ; attempt++ {
		err := u.put(ctx, rel)
		if err == nil {
			return attempt, nil
		}
		if attempt >= u.opts.attempts() || !transient(ctx, err) {
			return attempt, scrub(err, u.opts.Redact)
		}
		if err := u.opts.sleep(ctx, wait); err != nil {
			return attempt, err
		}
		wait *= 2
	}
}

// put stores one file as one object.
func (u *uploader) put(ctx context.Context, rel string) error {
	f, err := os.Open(filepath.Join(u.dir, filepath.FromSlash(rel)))
	if err != nil {
		return localError{err}
	}
	defer f.Close()
	w, err := u.bucket.NewWriter(ctx, u.loc.Prefix+rel, nil)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Close()
		return err // a read error of f or a write error of w: retry either
	}
	return w.Close()
}

// transient reports whether err may go away on another attempt: not when
// ctx ended, nor for errors that name a permanent cause.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.As(err, new(localError)) {
		return false
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound, gcerrors.PermissionDenied, gcerrors.InvalidArgument,
		gcerrors.FailedPrecondition, gcerrors.Unimplemented, gcerrors.Canceled:
		return false
	}
	// gocloud maps few of the services' refusals to a code: a status 4xx
	// (a wrong key, a missing container) will not change by retrying,
	// except a timeout (408) or throttling (429).
	if code := httpStatus(err); code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
		return false
	}
	return true
}

// httpStatus is the HTTP status of the response an SDK error carries, or
// 0: Azure's azcore.ResponseError, or AWS's (and others') HTTPStatusCode.
func httpStatus(err error) int {
	var az *azcore.ResponseError
	if errors.As(err, &az) {
		return az.StatusCode
	}
	var withStatus interface{ HTTPStatusCode() int }
	if errors.As(err, &withStatus) {
		return withStatus.HTTPStatusCode()
	}
	return 0
}

// localError is a failure to open the local file: another attempt would
// fail the same way.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

// listLocal returns the regular files below dir, relative and
// slash-separated, sorted, without those exclude returns true for.
func listLocal(dir string, exclude func(string) bool) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("upload: %s is not a directory", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if exclude == nil || !exclude(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upload: reading %s: %w", dir, err)
	}
	slices.Sort(files)
	return files, nil
}

// splitLast takes name out of files (if there) to go last.
func splitLast(files []string, name string) (rest []string, last string) {
	i := slices.Index(files, name)
	if i < 0 {
		return files, ""
	}
	return slices.Delete(slices.Clone(files), i, i+1), name
}
