// Package tier is IoT Hub's published quotas per pricing tier and unit: a
// table with no dependencies, shared by the embedded hub (which enforces
// it) and the scenario's plan check (which compares a plan with it).
package tier

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// IoT Hub's published quotas per tier and unit, from Microsoft Learn, "IoT
// Hub quotas and throttling"
// (https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-quotas-throttling,
// read 2026-12-04; docs/hub.md has the table). The tier and the number of
// units fix the rate of new device connections, the rate of
// device-to-cloud sends, and the daily message quota, in which a message
// counts as one block per started MeterBytes of payload.

// tierRow is one tier's published figures.
type tierRow struct {
	name string
	// perUnit is the rate (operations/s) each unit adds, for new
	// connections and for device-to-cloud sends alike.
	perUnit float64
	// floor is the rate the hub gets whatever its units (Free, B1 and S1:
	// "100/sec or 12/sec/unit, whichever is higher"); 0 for none.
	floor float64
	// meterBytes is the message size the daily quota counts in.
	meterBytes int
	// dailyPerUnit is the daily message quota of each unit.
	dailyPerUnit int64
	// maxUnits is the most units the tier may have; 0: no published bound
	// enforced here.
	maxUnits int
}

var tierTable = []tierRow{
	{name: "F1", perUnit: 12, floor: 100, meterBytes: 512, dailyPerUnit: 8_000, maxUnits: 1},
	{name: "B1", perUnit: 12, floor: 100, meterBytes: 4096, dailyPerUnit: 400_000},
	{name: "B2", perUnit: 120, meterBytes: 4096, dailyPerUnit: 6_000_000},
	{name: "B3", perUnit: 6000, meterBytes: 4096, dailyPerUnit: 300_000_000},
	{name: "S1", perUnit: 12, floor: 100, meterBytes: 4096, dailyPerUnit: 400_000},
	{name: "S2", perUnit: 120, meterBytes: 4096, dailyPerUnit: 6_000_000},
	{name: "S3", perUnit: 6000, meterBytes: 4096, dailyPerUnit: 300_000_000},
}

// Names lists the tier names Lookup knows, in the table's order.
func Names() []string {
	names := make([]string, len(tierTable))
	for i, r := range tierTable {
		names[i] = r.name
	}
	return names
}

// Quota is what an IoT hub of one tier and number of units allows.
type Quota struct {
	Tier  string // "S1"
	Units int    // 1 or more
	// ConnectsPerSecond is the rate of new device connections (not the
	// number of connections open).
	ConnectsPerSecond float64
	// SendsPerSecond is the rate of device-to-cloud sends (messages).
	SendsPerSecond float64
	// MeterBytes is the block size the daily quota counts in: a message
	// of n payload bytes counts ceil(n / MeterBytes) blocks, at least 1.
	MeterBytes int
	// DailyBlocks is the daily quota, in blocks of MeterBytes.
	DailyBlocks int64
}

// Lookup returns the quota of a hub of the named tier (F1, B1, B2, B3, S1,
// S2, S3; case-insensitive) with units units. An unknown tier or a unit
// count the tier does not allow is an *Error saying what to use.
func Lookup(tier string, units int) (Quota, error) {
	i := slices.IndexFunc(tierTable, func(r tierRow) bool { return strings.EqualFold(r.name, tier) })
	if i < 0 {
		return Quota{}, newError("Tier", "%q is not an IoT Hub tier: use one of %s", tier, strings.Join(Names(), ", "))
	}
	r := tierTable[i]
	if units < 1 {
		return Quota{}, newError("Units", "%d: an IoT hub has at least 1 unit", units)
	}
	if r.maxUnits > 0 && units > r.maxUnits {
		return Quota{}, newError("Units", "%d: tier %s has at most %d unit", units, r.name, r.maxUnits)
	}
	rate := max(r.floor, r.perUnit*float64(units))
	return Quota{
		Tier: r.name, Units: units,
		ConnectsPerSecond: rate, SendsPerSecond: rate,
		MeterBytes: r.meterBytes, DailyBlocks: r.dailyPerUnit * int64(units),
	}, nil
}

// Blocks returns how many blocks of the daily quota a message of
// payloadBytes counts: ceil(payloadBytes / MeterBytes), at least 1.
func (q Quota) Blocks(payloadBytes int) int64 {
	if q.MeterBytes <= 0 || payloadBytes <= q.MeterBytes {
		return 1
	}
	return int64(math.Ceil(float64(payloadBytes) / float64(q.MeterBytes)))
}

// String is "S1 x 2".
func (q Quota) String() string { return fmt.Sprintf("%s x %d", q.Tier, q.Units) }

// Error is a tier or unit count Lookup refuses. Problem follows the
// setting's name: "units 3: tier F1 has at most 1 unit".
type Error struct {
	Field   string // "Tier" or "Units"
	Problem string
}

func newError(field, format string, args ...any) *Error {
	return &Error{Field: field, Problem: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return strings.ToLower(e.Field) + " " + e.Problem }
