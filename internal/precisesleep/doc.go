// Package precisesleep sleeps to within tens of microseconds, where
// time.Sleep and Go's timers are only accurate to about a millisecond: when
// every P is idle the runtime waits in the netpoller with a timeout in
// whole milliseconds, so a timer fires up to a millisecond late
// (docs/design.md measures it). The fleet's pacers and the hub's delayed
// PUBACKs both depend on it.
package precisesleep
