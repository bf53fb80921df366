package credential

import (
	"errors"
	"strconv"
)

// errEmptyKey reports a key source that holds nothing.
var errEmptyKey = errors.New("the key is empty")

// notBase64Error reports a key that is not valid base64 without quoting it.
type notBase64Error struct{ at int64 }

func (e *notBase64Error) Error() string {
	if e.at < 0 {
		return "the key is not valid base64"
	}
	return "the key is not valid base64 (bad character or length at byte " + strconv.FormatInt(e.at, 10) + ")"
}
