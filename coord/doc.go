// Package coord is the channel between the shards of one fleetbench run and
// their coordinator: HTTP/1.1 with JSON bodies under /v1/ (net/http),
// optionally over TLS, every request carrying the run's token as
// "Authorization: Bearer TOKEN". docs/coordinator.md is the schema.
//
// The coordinator runs a [Server]; each shard [Dial]s it. The flow is
// register (with a clock-offset measurement) → wait for the one epoch
// ([Server.SetEpoch], [Client.WaitStart]) → progress about once a second
// ([Client.SendProgress], answered with a [Control]) → final summary
// ([Client.SendFinal], [Server.WaitFinals]).
//
// The package knows nothing of how a run is made (run/, fleet/): it moves
// registrations, an epoch, progress and summaries, and keeps each shard's
// latest state. It touches no files or environment itself: the token is
// read through functions the caller passes ([TokenFromEnv]).
package coord
