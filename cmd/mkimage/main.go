// Command mkimage writes fleetbench's container image, without a container
// runtime, as a tarball that docker load, crane and skopeo accept, and
// optionally as an OCI image layout. `make image` runs it (docs/image.md).
//
//	mkimage -bin bin/linux_amd64/fleetbench -version V -out bin/fleetbench-image.tar
//
// The binary must be built for Linux with CGO_ENABLED=0; the image's
// platform is the binary's. Time stamps come from -created or
// SOURCE_DATE_EPOCH (the commit time in `make image`), so two builds of one
// commit on one machine give the same digest.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
