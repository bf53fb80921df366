package hub

import (
	"errors"

	"github.com/fleetbench/fleetbench/hub/tier"
)

// Quota is what an IoT hub of one tier and number of units allows
// (package tier has the published table).
type Quota = tier.Quota

// TierQuota returns tier.Lookup's quota; a refused tier or unit count is
// a *FieldError naming the Config field (Tier or Units).
func TierQuota(name string, units int) (Quota, error) {
	q, err := tier.Lookup(name, units)
	var te *tier.Error
	if errors.As(err, &te) {
		return q, &FieldError{Field: te.Field, Problem: te.Problem}
	}
	return q, err
}
