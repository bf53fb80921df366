package testbed

import (
	"context"
	"testing"
)

// Azurite starts, answers with the well-known account's key and creates a
// container twice without complaint.
func TestAzuriteStartsAndCreatesContainers(t *testing.T) {
	a := StartAzurite(t)
	ctx := context.Background()
	for range 2 {
		if err := a.CreateContainer(ctx, "runs"); err != nil {
			t.Fatal(err)
		}
	}
}
