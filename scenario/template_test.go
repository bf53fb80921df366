package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/stamp"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in   string
		want []Segment
	}{
		{"sim-{index:06}", []Segment{{Literal: "sim-"}, {Field: "index", Width: 6}}},
		{"{index}", []Segment{{Field: "index"}}},
		{"plain", []Segment{{Literal: "plain"}}},
		{"", nil},
		// JSON braces are literal text; only {name} is a placeholder.
		{`{"device":"{device}"}`, []Segment{{Literal: `{"device":"`}, {Field: "device"}, {Literal: `"}`}}},
		{"{ device }{}{:1}{index", []Segment{{Literal: "{ device }{}{:1}{index"}}},
		// "{key:value}" with a name that is no placeholder is text too.
		{"{mode:fast}{index:000006}", []Segment{{Literal: "{mode:fast}"}, {Field: "index", Width: 6}}},
		{"{{seq}}", []Segment{{Literal: "{"}, {Field: "seq"}, {Literal: "}"}}},
	}
	for _, tt := range tests {
		got, err := ParseTemplate(tt.in, PayloadFields...)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTemplate(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		in      string
		allowed []string
		offset  int
		text    string
	}{
		{"a{devcie}", PayloadFields, 1, "did you mean {device}?"},
		{"{Device}", PayloadFields, 0, "did you mean {device}?"},
		{"x-{seq}", IDFields, 2, "use one of {index}"},
		{"{zzzzzz}", TopicFields, 0, "use one of {device} {index}"},
		{"ab{seq:04}", PayloadFields, 2, "{seq} takes no width"},
		{"{index:99}", IDFields, 0, "use at most 20"},
		{"{index}", nil, 0, "placeholders cannot be used here"},
		// A bad format spec is named, with the forms that work, rather
		// than the placeholder being taken as text.
		{"sim-{index:x6}", IDFields, 4, `{index:x6} has the format "x6", which is not a width — write {index}, or {index:06}`},
		{"sim-{index:}", IDFields, 4, `{index:} has the format ""`},
		{"sim-{index:6d}", IDFields, 4, `{index:6d} has the format "6d"`},
		{"d/{device:06}", TopicFields, 2, "{device} takes no width"},
		{"{index:123456}", IDFields, 0, "use at most 20"},
	}
	for _, tt := range tests {
		_, err := ParseTemplate(tt.in, tt.allowed...)
		var te *TemplateError
		if !errors.As(err, &te) || te.Offset != tt.offset || !strings.Contains(te.Error(), tt.text) {
			t.Errorf("ParseTemplate(%q) = %v (offset %v), want offset %d and %q", tt.in, err, te, tt.offset, tt.text)
		}
	}
}

func TestExpand(t *testing.T) {
	segs, err := ParseTemplate("sim-{index:06}", IDFields...)
	if err != nil {
		t.Fatal(err)
	}
	for index, want := range map[int]string{0: "sim-000000", 42: "sim-000042", 1234567: "sim-1234567"} {
		if got := Expand(segs, "", index); got != want {
			t.Errorf("Expand(%d) = %q, want %q", index, got, want)
		}
	}
	topic, _ := ParseTemplate(DefaultTopic, TopicFields...)
	if got := Expand(topic, "sim-000007", 7); got != "devices/sim-000007/messages/events/" {
		t.Errorf("topic = %q", got)
	}
	d := Devices{Count: 3, ID: "d{index}", FirstIndex: 9}
	if d.DeviceID(0) != "d9" || d.DeviceID(2) != "d11" {
		t.Errorf("DeviceID = %q %q", d.DeviceID(0), d.DeviceID(2))
	}
	for _, c := range []struct{ index, width, want int }{{0, 0, 1}, {9, 0, 1}, {10, 0, 2}, {5, 6, 6}, {1234567, 6, 7}, {-5, 0, 2}} {
		if got := IndexLen(c.index, c.width); got != c.want {
			t.Errorf("IndexLen(%d, %d) = %d, want %d", c.index, c.width, got, c.want)
		}
		if got := len(AppendIndex(nil, c.index, c.width)); got != c.want {
			t.Errorf("len(AppendIndex(%d, %d)) = %d, want %d", c.index, c.width, got, c.want)
		}
	}
}

// render expands a payload template the way a publisher would, for
// checking FixedLen against real output.
func render(segs []Segment, size int, device string, index int) []byte {
	var b []byte
	fill := size - FixedLen(segs, len(device), index)
	for _, s := range segs {
		switch s.Field {
		case "":
			b = append(b, s.Literal...)
		case FieldDevice:
			b = append(b, device...)
		case FieldIndex:
			b = AppendIndex(b, index, s.Width)
		case FieldSeq:
			b = fmt.Appendf(b, "%010d", 12345)
		case FieldTS:
			b = fmt.Appendf(b, "%019d", int64(1767225600123456789))
		case FieldStamp:
			st := make([]byte, stamp.Len)
			stamp.Encode(st, stamp.Stamp{Run: 1, Device: uint32(index), Seq: 12345, Intended: 1767225600123456789})
			b = append(b, st...)
		case FieldFill:
			b = append(b, strings.Repeat("x", fill)...)
		}
	}
	return b
}

func TestFixedLenMatchesRenderedPayload(t *testing.T) {
	segs, err := ParseTemplate(DefaultPayloadTemplate, PayloadFields...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := TemplateFixedLen(DefaultPayloadTemplate, 10, 9); n != 133 {
		t.Errorf("TemplateFixedLen(default, 10, 9) = %d, want 133", n)
	}
	for _, c := range []struct {
		device string
		index  int
	}{{"sim-000009", 9}, {"d", 0}, {"a-rather-long-device-name-0000001", 1}} {
		out := render(segs, 256, c.device, c.index)
		if len(out) != 256 {
			t.Errorf("rendered payload for %s is %d bytes, want 256: %s", c.device, len(out), out)
		}
	}
	idx, _ := ParseTemplate("{index:3}|{index}|{seq}|{ts}|{stamp}", PayloadFields...)
	out := render(idx, 0, "dev", 12345)
	if got := FixedLen(idx, 3, 12345); got != len(out) {
		t.Errorf("FixedLen = %d, rendered %d bytes: %s", got, len(out), out)
	}
	if _, err := TemplateFixedLen("{nope}", 1, 1); err == nil {
		t.Error("TemplateFixedLen accepted an unknown placeholder")
	}
}

func TestSuggestions(t *testing.T) {
	known := []string{"keep_alive", "max_in_flight", "ca_file", "clean_session"}
	for in, want := range map[string]string{
		"keepalive": "keep_alive", "keep-alive": "keep_alive", "kepe_alive": "keep_alive",
		"max_inflight": "max_in_flight", "ca": "ca_file", "cafile": "ca_file", "zzz": "", "x": "",
	} {
		if got := closest(in, known); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}
