package credential

import (
	"errors"

	"github.com/fleetbench/fleetbench/scenario"
)

// SharedKey resolves the single azure-sas key the scenario's auth names
// with auth.key_env or auth.key_file, base64-decoded, for a hub that
// verifies every device against it (the embedded hub, as a group key with
// key_kind group, else as the device key shared by every device). given is
// false when auth names no key source; the caller may then make a key of
// its own. auth.keys_file holds one key per device, which a one-key hub
// cannot check: that is an error, as are an unset variable, an unreadable
// file and a key that is not base64. Errors never contain the key.
func SharedKey(a scenario.Auth, src Sources) (key []byte, given bool, err error) {
	if a.KeysFile != "" {
		return nil, true, errors.New("auth.keys_file: the embedded hub checks every device against one key, so it cannot use a key per device " +
			"(give one key with auth.key_env or auth.key_file, or remove the key source to let fleetbench make one)")
	}
	spec := keySpec{what: "the base64 device key", base64: true}
	if a.KeyKind == scenario.KeyGroup {
		spec.what = "the base64 group enrollment key"
	}
	keys, err := loadKeys(a, src, spec)
	if err != nil || !keys.present {
		return nil, keys.present || err != nil, err
	}
	return []byte(keys.one), true, nil
}
