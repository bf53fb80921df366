package testbed

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The Azure Storage emulators' well-known development account and key
// (published in Azurite's documentation; it opens nothing but a local
// emulator).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteVersion is the npm package .ci/run installs.
const AzuriteVersion = "azurite@3.37.0"

// Azurite is an Azure Blob Storage emulator (Azurite's blob service)
// started for one test on a free 127.0.0.1 port, with its data in Dir.
// Fields are read-only.
type Azurite struct {
	Addr    string // "127.0.0.1:PORT"
	Port    int
	Account string // AzuriteAccount
	Key     string // AzuriteKey
	Dir     string // data (--location) and azurite.log

	proc *proc
}

// azuriteBinary finds azurite-blob: in $FLEETBENCH_AZURITE_DIR (an npm
// prefix), then $HOME/.cache/fleetbench/azurite (where .ci/run installs
// it), then on PATH. It needs node on PATH.
func azuriteBinary() (string, error) {
	install := "npm install --no-audit --no-fund --prefix ~/.cache/fleetbench/azurite " + AzuriteVersion
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("%w: node not found on PATH, Azurite needs it (install nodejs and npm, then: %s)", ErrNotInstalled, install)
	}
	var dirs []string
	if d := os.Getenv("FLEETBENCH_AZURITE_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "fleetbench", "azurite"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "node_modules", ".bin", "azurite-blob")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: azurite-blob not found in $FLEETBENCH_AZURITE_DIR, ~/.cache/fleetbench/azurite or on PATH (install it: %s)", ErrNotInstalled, install)
}

// StartAzurite starts Azurite's blob service for the calling test and
// stops it with tb.Cleanup. It skips the test when node or Azurite is not
// installed (naming the npm command), except with CI=true, where it fails.
// It returns once the service accepts TCP connections. Call it from the
// test goroutine.
func StartAzurite(tb testing.TB) *Azurite {
	tb.Helper()
	a, err := StartAzuriteIn(tb.TempDir())
	RequireBroker(tb, err)
	tb.Cleanup(func() {
		if err := a.Stop(); err != nil {
			tb.Error(err)
		}
		if tb.Failed() {
			tb.Logf("azurite log (%s):\n%s", a.proc.logPath, a.proc.logTail(4000))
		}
	})
	return a
}

// StartAzuriteIn starts Azurite's blob service with its data in dir
// (created if missing) on a free port; the caller calls Stop. An error
// wraps ErrNotInstalled when node or Azurite is missing. A port taken
// between choosing and binding is retried.
func StartAzuriteIn(dir string) (*Azurite, error) {
	bin, err := azuriteBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: azurite dir: %w", err)
	}
	a := &Azurite{Account: AzuriteAccount, Key: AzuriteKey, Dir: dir}
	for attempt := 0; ; attempt++ {
		err = a.start(bin)
		if err == nil || attempt == 2 {
			return a, err
		}
	}
}

func (a *Azurite) start(bin string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	a.Port, a.Addr = ports[0], addr(ports[0])
	// --skipApiVersionCheck: the Go SDK may speak a newer service version
	// than this Azurite knows; the blob calls fleetbench makes are old.
	// --disableTelemetry: no connection leaves 127.0.0.1 (and with
	// telemetry on, Azurite lingers for seconds after SIGTERM).
	p, err := startProc("azurite", filepath.Join(a.Dir, "azurite.log"), os.Environ(), bin,
		"--silent", "--disableTelemetry", "--skipApiVersionCheck", "--location", a.Dir,
		"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(a.Port))
	if err != nil {
		return err
	}
	if err := waitTCP(context.Background(), p, a.Addr, time.Now().Add(30*time.Second)); err != nil {
		_ = p.stop(time.Second)
		return err
	}
	a.proc = p
	return nil
}

// Stop stops the emulator (SIGTERM, SIGKILL after 5 s). Idempotent.
func (a *Azurite) Stop() error {
	if a == nil || a.proc == nil {
		return nil
	}
	return a.proc.stop(5 * time.Second)
}

// ServiceURL is the blob service endpoint of the account:
// http://127.0.0.1:PORT/devstoreaccount1.
func (a *Azurite) ServiceURL() string {
	return "http://" + a.Addr + "/" + a.Account
}

// ConnectionString is the account's connection string (it holds the key).
func (a *Azurite) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", a.Account, a.Key, a.ServiceURL())
}

// BucketURL is the gocloud.dev/blob URL of prefix in container on this
// emulator (azblob://CONTAINER/PREFIX?...). The key is not in it: set
// AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (Env gives both).
func (a *Azurite) BucketURL(containerName, prefix string) string {
	q := url.Values{"protocol": {"http"}, "domain": {a.Addr}, "localemu": {"true"}, "storage_account": {a.Account}}
	u := url.URL{Scheme: "azblob", Host: containerName, Path: "/" + prefix, RawQuery: q.Encode()}
	return u.String()
}

// Env is the environment that gives gocloud's azblob driver this
// emulator's account and key.
func (a *Azurite) Env() map[string]string {
	return map[string]string{"AZURE_STORAGE_ACCOUNT": a.Account, "AZURE_STORAGE_KEY": a.Key}
}

// CreateContainer creates a blob container (a bucket); one that exists
// already is fine.
func (a *Azurite) CreateContainer(ctx context.Context, name string) error {
	cred, err := azblob.NewSharedKeyCredential(a.Account, a.Key)
	if err != nil {
		return err
	}
	c, err := container.NewClientWithSharedKeyCredential(a.ServiceURL()+"/"+name, cred, nil)
	if err != nil {
		return err
	}
	_, err = c.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("testbed: azurite: create container %s: %w", name, err)
	}
	return nil
}
