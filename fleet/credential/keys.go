package credential

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fleetbench/fleetbench/scenario"
)

// Sources gives a Provider access to the process environment and files.
// cmd injects os.LookupEnv and os.ReadFile; tests inject maps.
type Sources struct {
	Env      func(name string) (string, bool)
	ReadFile func(path string) ([]byte, error)
}

// keySpec says what a secret is for, so messages can tell the user what to
// put where.
type keySpec struct {
	what   string // e.g. "the base64 device key"
	base64 bool   // decode as base64 (IoT Hub keys); otherwise raw text
}

// keySet is the resolved secret: one value for every device, or one per
// device id. Values are already base64-decoded when the spec says so.
type keySet struct {
	one       string            // used when perDevice is nil
	perDevice map[string]string // device id -> key
	file      string            // the keys file, for messages
	present   bool              // some source was configured
}

// lookup returns the key of deviceID.
func (k *keySet) lookup(deviceID string) (string, error) {
	if k.perDevice == nil {
		return k.one, nil
	}
	v, ok := k.perDevice[deviceID]
	if !ok {
		return "", fmt.Errorf("credential: device %q has no key in %s (add a line \"%s,<key>\" or use fewer devices)", deviceID, k.file, deviceID)
	}
	return v, nil
}

// loadKeys resolves the secret source named in a. No source at all returns a
// keySet with present == false and no error: callers decide whether a secret
// is required.
func loadKeys(a scenario.Auth, src Sources, spec keySpec) (keySet, error) {
	n := 0
	for _, s := range []string{a.KeyEnv, a.KeyFile, a.KeysFile} {
		if s != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return keySet{}, nil
	case n > 1:
		return keySet{}, errors.New("auth: set only one of key_env, key_file and keys_file")
	}
	switch {
	case a.KeyEnv != "":
		if src.Env == nil {
			return keySet{}, errors.New("auth.key_env: no environment access was given (program error: pass os.LookupEnv in credential.Sources)")
		}
		v, ok := src.Env(a.KeyEnv)
		if !ok {
			return keySet{}, fmt.Errorf("auth.key_env: environment variable %s is not set (set %s to %s)", a.KeyEnv, a.KeyEnv, spec.what)
		}
		key, err := spec.decode(v, false)
		if err != nil {
			return keySet{}, fmt.Errorf("auth.key_env: environment variable %s: %w (set %s to %s)", a.KeyEnv, err, a.KeyEnv, spec.what)
		}
		return keySet{one: key, present: true}, nil
	case a.KeyFile != "":
		data, err := readFile(src, "auth.key_file", a.KeyFile)
		if err != nil {
			return keySet{}, fmt.Errorf("%w (write %s to that file, or use auth.key_env)", err, spec.what)
		}
		key, err := spec.decode(string(data), true)
		if err != nil {
			return keySet{}, fmt.Errorf("auth.key_file %s: %w (the file must hold %s)", a.KeyFile, err, spec.what)
		}
		return keySet{one: key, present: true}, nil
	default:
		data, err := readFile(src, "auth.keys_file", a.KeysFile)
		if err != nil {
			return keySet{}, fmt.Errorf("%w (write one \"deviceId,key\" line per device to that file)", err)
		}
		m, err := parseKeysFile(a.KeysFile, data, spec)
		if err != nil {
			return keySet{}, err
		}
		return keySet{perDevice: m, file: a.KeysFile, present: true}, nil
	}
}

func readFile(src Sources, field, path string) ([]byte, error) {
	if src.ReadFile == nil {
		return nil, fmt.Errorf("%s: no file access was given (program error: pass os.ReadFile in credential.Sources)", field)
	}
	data, err := src.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return data, nil
}

// decode turns a source's text into the key. Base64 keys have surrounding
// whitespace trimmed; raw secrets lose only a trailing line break when they
// come from a file (a password may legitimately contain spaces).
func (spec keySpec) decode(v string, fromFile bool) (string, error) {
	if spec.base64 {
		b, err := decodeBase64Key(v)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	if fromFile {
		v = strings.TrimSuffix(v, "\n")
		v = strings.TrimSuffix(v, "\r")
	}
	if v == "" {
		return "", errEmptyKey
	}
	return v, nil
}

// maxKeysFileErrors caps how many bad lines one error lists.
const maxKeysFileErrors = 20

// parseKeysFile reads CSV lines "deviceId,key". Blank lines and lines
// starting with '#' are skipped, fields are whitespace-trimmed, a first line
// "deviceId,key" is taken as a header. Errors name the file and line and
// never quote a key.
func parseKeysFile(name string, data []byte, spec keySpec) (map[string]string, error) {
	m := make(map[string]string)
	firstLine := make(map[string]int)
	var errs []error
	bad := 0
	report := func(err error) {
		bad++
		if bad <= maxKeysFileErrors {
			errs = append(errs, err)
		}
	}
	header := true
	for i, line := range strings.Split(string(data), "\n") {
		ln := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		id, key, ok := strings.Cut(line, ",")
		id, key = strings.TrimSpace(id), strings.TrimSpace(key)
		if header {
			header = false
			if strings.EqualFold(id, "deviceId") && strings.EqualFold(key, "key") {
				continue
			}
		}
		switch {
		case !ok:
			report(fmt.Errorf("%s:%d: want \"deviceId,key\" but the line has no comma", name, ln))
			continue
		case id == "":
			report(fmt.Errorf("%s:%d: the device id is empty (want \"deviceId,key\")", name, ln))
			continue
		}
		if prev, dup := firstLine[id]; dup {
			report(fmt.Errorf("%s:%d: device %q already has a key on line %d (keep one line per device)", name, ln, id, prev))
			continue
		}
		v, err := spec.decode(key, false)
		if err != nil {
			report(fmt.Errorf("%s:%d: key of device %q: %w (want %s)", name, ln, id, err, spec.what))
			continue
		}
		firstLine[id] = ln
		m[id] = v
	}
	if bad > maxKeysFileErrors {
		errs = append(errs, fmt.Errorf("%s: %d more bad lines not shown", name, bad-maxKeysFileErrors))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: no keys found (write one \"deviceId,key\" line per device)", name)
	}
	return m, nil
}
