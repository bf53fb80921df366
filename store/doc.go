// Package store keeps run directories in object storage: Upload copies a
// run (or shard) directory to a bucket URL, Download fetches one back so
// that report, compare and merge read it like any local run directory.
//
// A run is named by a URL whose path is the run's prefix in the bucket
// (docs/storage.md):
//
//	s3://BUCKET/runs/RUN?region=eu-west-1
//	azblob://CONTAINER/runs/RUN
//	gs://BUCKET/runs/RUN
//	file:///srv/results/runs/RUN
//
// The host is the bucket (container), the path the prefix, and the query
// the driver's options, passed to gocloud.dev/blob unchanged (endpoint,
// region, use_path_style, localemu, ...). A file in the run directory
// at REL becomes the object PREFIX/REL. A file URL names a directory:
// the run's files are written below it as they are locally.
//
// Credentials are found the way each cloud's SDK finds them (environment,
// shared config, workload identity); the package never takes them as
// arguments and never prints them: errors are scrubbed of the secrets the
// caller names (Options.Redact) and of SAS signatures and account keys.
//
// Every function is safe for concurrent use; each call opens its own
// bucket connection.
package store
