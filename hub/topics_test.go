package hub

import "testing"

func TestTopicRules(t *testing.T) {
	const id = "dev-1"
	cases := []struct {
		topic                     string
		pub, devRead, serviceRead bool
	}{
		{"devices/dev-1/messages/events/", true, false, true},
		{"devices/dev-1/messages/events/$.ct=application%2Fjson&k=v", true, false, true},
		{"devices/dev-1/messages/events/a/b", true, false, true},
		{"devices/dev-1/messages/events", false, false, false},
		{"devices/dev-10/messages/events/", false, false, true},
		{"devices/dev-2/messages/events/", false, false, true},
		{"devices/dev-1/messages/devicebound/#", false, true, false},
		{"devices/dev-1/messages/devicebound/%24.to=x", false, true, false},
		{"devices/dev-1/messages/devicebound/+", false, false, false},
		{"devices/dev-2/messages/devicebound/#", false, false, false},
		{"devices/+/messages/events/#", false, false, true},
		{"devices/#", false, false, false},
		{"devices/#/messages/events/", false, false, false},
		{"devices//messages/events/", false, false, false},
		{"#", false, false, true},
		{"$SYS/#", false, false, false},
		{"$iothub/twin/res/#", false, false, false},
		{"", false, false, false},
	}
	for _, tc := range cases {
		if got := devicePublishAllowed(id, tc.topic); got != tc.pub {
			t.Errorf("devicePublishAllowed(%q) = %v", tc.topic, got)
		}
		if got := deviceReadAllowed(id, tc.topic); got != tc.devRead {
			t.Errorf("deviceReadAllowed(%q) = %v", tc.topic, got)
		}
		if got := serviceReadAllowed(tc.topic); got != tc.serviceRead {
			t.Errorf("serviceReadAllowed(%q) = %v", tc.topic, got)
		}
	}
}
