package store

import (
	"errors"
	"regexp"
	"strings"
)

// secretPatterns match secrets an SDK may echo in an error: a SAS
// signature in a request URL, an account key in a connection string.
var secretPatterns = regexp.MustCompile(`((?i:sig|AccountKey|SharedAccessSignature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&;\s"']+`)

// scrub returns err with every secret in it replaced by "REDACTED": the
// values in secrets (the caller's credentials, see Options.Redact) and
// whatever secretPatterns match. A nil err stays nil.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := secretPatterns.ReplaceAllString(msg, "${1}REDACTED")
	for _, s := range secrets {
		if len(s) >= 4 { // a short value would blank out ordinary words
			clean = strings.ReplaceAll(clean, s, "REDACTED")
		}
	}
	if clean == msg {
		return err
	}
	return redactedError{msg: clean, cause: err}
}

// redactedError carries a scrubbed message; errors.Is still sees the cause
// (context.Canceled, for one) but its text is never printed.
type redactedError struct {
	msg   string
	cause error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Is(target error) bool {
	return errors.Is(e.cause, target)
}
