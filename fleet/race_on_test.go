//go:build race

package fleet

// raceEnabled: the race detector allocates on its own, so allocation
// counts are not meaningful (make test runs the allocation tests without
// it).
const raceEnabled = true
