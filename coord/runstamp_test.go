package coord

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A coordinator with a run stamp hands it to every shard at registration;
// one without answers 204 as before, and the shard knows it got none.
func TestRegistrationCarriesTheRunStamp(t *testing.T) {
	token := NewToken()
	_, url := startServer(t, ServerConfig{Token: token, Shards: 2, RunStamp: 0xC0FFEE01}, nil)
	for i := range 2 {
		if got, ok := dial(t, url, token, i, 2).RunStamp(); !ok || got != 0xC0FFEE01 {
			t.Errorf("shard %d: run stamp %#x (given %v), want 0xc0ffee01", i, got, ok)
		}
	}

	_, plain := startServer(t, ServerConfig{Token: token, Shards: 1}, nil)
	if got, ok := dial(t, plain, token, 0, 1).RunStamp(); ok {
		t.Errorf("a coordinator without a stamp gave %#x", got)
	}
}

// The stamp is on the wire as documented: POST /v1/register answers 200
// with {"run_stamp": N} when the coordinator has one, 204 with no body
// when not (what shards older than the field expect).
func TestRegisterAnswerOnTheWire(t *testing.T) {
	token := NewToken()
	for _, tc := range []struct {
		stamp  uint32
		status int
		body   string
	}{
		{7, http.StatusOK, `{"run_stamp":7}`},
		{0, http.StatusNoContent, ``},
	} {
		_, url := startServer(t, ServerConfig{Token: token, Shards: 1, RunStamp: tc.stamp}, nil)
		body := `{"index":0,"count":1,"scenario_sha256":"` + testSHA + `","host":"h","pid":1,"devices_lo":0,"devices_hi":1}`
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/register", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || strings.TrimSpace(string(b)) != tc.body {
			t.Errorf("stamp %d: answer %d %q, want %d %q", tc.stamp, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}
