package store

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, bucket, prefix, err string
	}{
		{in: "s3://b/runs/r1?region=eu-west-1", bucket: "s3://b?region=eu-west-1", prefix: "runs/r1/"},
		{in: "s3://b/runs/r1/", bucket: "s3://b", prefix: "runs/r1/"},
		{in: "s3://b", bucket: "s3://b", prefix: ""},                                         // the bucket's root
		{in: "gs://b//a/../r", bucket: "gs://b", prefix: "r/"},                               // cleaned
		{in: "azblob://c/p?localemu=true", bucket: "azblob://c?localemu=true", prefix: "p/"}, // options stay
		{in: "file:///srv/runs/r1", bucket: "file:///srv/runs/r1?create_dir=true&metadata=skip"},
		{in: "http://host/x", err: `unsupported scheme "http"`},
		{in: "s3:///runs/r1", err: "no bucket name"},
		{in: "file:///", err: "names a directory"},
		{in: "runs/r1", err: "not a bucket URL"},
	} {
		loc, err := Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) = %v, want error %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || loc.BucketURL != c.bucket || loc.Prefix != c.prefix {
			t.Errorf("Parse(%q) = %q %q %v, want %q %q", c.in, loc.BucketURL, loc.Prefix, err, c.bucket, c.prefix)
		}
	}
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"s3://b/p": true, "azblob://c": true, "file:///tmp/x": true, "ftp://x": true,
		"runs/r1": false, "/tmp/run": false, "./s3:/x": false, "C:\\runs": false, "": false,
	} {
		if IsURL(s) != want {
			t.Errorf("IsURL(%q) = %v", s, !want)
		}
	}
}

func TestScrub(t *testing.T) {
	err := errors.New(`PUT http://127.0.0.1/acct/c/k?sv=2023&sig=abc%2Fdef&se=1 failed; AccountKey=c2VjcmV0;BlobEndpoint=x; key s3cr3tvalue`)
	got := scrub(err, []string{"s3cr3tvalue"}).Error()
	for _, leak := range []string{"abc%2Fdef", "c2VjcmV0", "s3cr3tvalue"} {
		if strings.Contains(got, leak) {
			t.Errorf("scrubbed error still has %q: %s", leak, got)
		}
	}
	if !strings.Contains(got, "sig=REDACTED&se=1") || !strings.Contains(got, "BlobEndpoint=x") {
		t.Errorf("scrubbed too much or too little: %s", got)
	}
	plain := errors.New("no secret")
	if scrub(plain, nil) != plain {
		t.Error("an error without secrets was rewritten")
	}
}
