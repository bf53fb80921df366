package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"

	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/store"
)

// Run directories in object storage (docs/storage.md): the commands take a
// bucket URL wherever they take a run directory. Reading downloads the run
// into a temporary directory; writing writes a local directory, then
// uploads it.

// secretVars are the environment variables whose values the cloud SDKs
// take as credentials; their values are scrubbed from every error printed.
var secretVars = []string{
	"AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING",
	"AZURE_STORAGEBLOB_CONNECTIONSTRING", "AZURE_CLIENT_SECRET",
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
}

// storeOptions are the store options of every command: secrets to scrub,
// and the embedded hub's private keys kept out of buckets (they stay in
// the local run directory).
func storeOptions(env Env) store.Options {
	var redact []string
	for _, v := range secretVars {
		if s, ok := env.LookupEnv(v); ok && s != "" {
			redact = append(redact, s)
		}
	}
	return store.Options{
		Redact: redact,
		Exclude: func(rel string) bool {
			base := path.Base(rel)
			return base == pki.CAKeyFileName || base == pki.ServerKeyFileName
		},
	}
}

// fetchRun returns a local directory holding the run at arg: arg itself
// when it is a path, or a temporary directory the run at a bucket URL was
// downloaded into. cleanup removes what fetchRun made; call it always.
func fetchRun(ctx context.Context, arg string, env Env) (dir string, cleanup func(), err error) {
	if !store.IsURL(arg) {
		return arg, func() {}, nil
	}
	if err := store.Check(arg); err != nil {
		return "", func() {}, err
	}
	tmp, err := os.MkdirTemp("", "fleetbench-fetch-")
	if err != nil {
		return "", func() {}, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if _, err := store.Download(ctx, arg, tmp, storeOptions(env)); err != nil {
		cleanup()
		return "", func() {}, err
	}
	return tmp, cleanup, nil
}

// localFor returns the local directory to write a run bound for the
// bucket URL out: local when given, else a new temporary directory
// ($TMPDIR/fleetbench-*/RUN, named after the URL's last path element, which
// becomes the run's id). temp says whether fleetbench made it (and may
// remove it once the upload succeeded).
func localFor(out, local string) (dir string, temp bool, err error) {
	if err := store.Check(out); err != nil {
		return "", false, err
	}
	u, _ := url.Parse(out)
	name := path.Base(path.Clean("/" + u.Path)) // the run's prefix's last element, or a file URL's directory
	if name == "/" {
		return "", false, fmt.Errorf("%s names no run: give the run's prefix, e.g. %s://%s/runs/NAME", out, u.Scheme, u.Host)
	}
	if local != "" {
		return local, false, nil
	}
	tmp, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return "", false, err
	}
	return filepath.Join(tmp, name), true, nil
}

// publishRunDir uploads the run directory dir to the bucket URL out and
// says where on env.Stderr. On failure it says what failed and that dir
// is kept, and returns the error (the caller exits ExitOutput unless the
// run's own verdict is worse). With temp, dir's temporary parent is removed
// after a successful upload.
func publishRunDir(ctx context.Context, dir, out string, temp bool, env Env) error {
	rep, err := store.Upload(ctx, dir, out, storeOptions(env))
	if err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench: %v\nfleetbench: the run is kept in %s (%d files stored, %d failed, %d not tried)\n",
			err, dir, len(rep.Uploaded), len(rep.Failed), len(rep.NotTried))
		return err
	}
	retried := ""
	if rep.Retries > 0 {
		retried = fmt.Sprintf(" after %d retries", rep.Retries)
	}
	fmt.Fprintf(env.Stderr, "fleetbench: uploaded %d files to %s%s\n", len(rep.Uploaded), out, retried)
	if temp {
		os.RemoveAll(filepath.Dir(dir))
	}
	return nil
}
