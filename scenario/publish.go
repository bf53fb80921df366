package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Publish defaults.
const (
	DefaultQoS             = 1
	DefaultPublishInFlight = 16
	DefaultTopic           = "devices/{device}/messages/events/"
	DefaultPayloadSize     = 256
	DefaultPayloadTemplate = `{"device":"{device}","seq":{seq},"ts":{ts},"fb":"{stamp}","pad":"{fill}"}`
	DefaultLateAfter       = 5 * time.Millisecond
	DefaultMaxLateness     = 2 * time.Second

	// MaxPayloadAzure is IoT Hub's device-to-cloud message limit (256 KB).
	MaxPayloadAzure = 256 * 1024
	// MaxPayload is what fits in one MQTT 3.1.1 packet next to the longest
	// topic (remaining length 268,435,455 less topic and packet id).
	MaxPayload = 268_435_455 - 2 - 65_535 - 2
)

// stageInfo remembers how a stage was written.
type stageInfo struct {
	path     string
	interval time.Duration // per-device interval, when given
}

func (d *decoder) decodePublish(n *node, pb *Publish) {
	d.object(n, "publish", publishKeys, func(key string, v *node, p string) {
		switch key {
		case "qos":
			if v.kind == kScalar && v.typ == tInt && v.text == "2" {
				d.report(v.pos, p, "QoS 2 is not supported: IoT Hub closes the connection of a device that uses it",
					"use qos: 1 (acknowledged) or qos: 0")
				return
			}
			if q, ok := d.integer(v, p, 0, 1); ok {
				pb.QoS = byte(q)
			}
		case "max_in_flight":
			pb.MaxInFlight, _ = d.integer(v, p, 1, 65535)
		case "topic":
			pb.Topic, d.topicSegs, _ = d.template(v, p, TopicFields)
		case "properties":
			pb.Properties = d.properties(v, p)
		case "start_rate":
			pb.StartRate, _ = d.rate(v, p, 0, false)
		case "stages":
			pb.Stages = d.decodeStages(v, p)
		case "payload":
			d.object(v, p, payloadKeys, func(key string, v *node, p string) {
				switch key {
				case "size":
					pb.Payload.Size, _ = d.integer(v, p, 1, MaxPayload)
				case "template":
					pb.Payload.Template, d.payloadSegs, _ = d.template(v, p, PayloadFields)
				}
			})
		case "late_after":
			pb.LateAfter, _ = d.duration(v, p, time.Microsecond, time.Minute)
		case "max_lateness":
			pb.MaxLateness, _ = d.duration(v, p, time.Millisecond, time.Hour)
		case "pacing":
			pb.Pacing, _ = d.enum(v, p, PacingPrecise, PacingEfficient)
		}
	})
}

// properties reads the IoT Hub property bag, keeping file order.
func (d *decoder) properties(n *node, path string) []Property {
	if n.kind != kMap {
		d.report(n.pos, path, "want a mapping of property names to values, got "+n.describe(), `write e.g. properties: {"$.ct": application/json}`)
		return nil
	}
	var props []Property
	seen := map[string]bool{}
	for _, e := range n.entries {
		p := join(path, e.key)
		d.vals[p], d.keys[p] = e.val, e.kpos
		switch {
		case seen[e.key]:
			d.report(e.kpos, p, "duplicate property", "keep one of the two")
		case strings.TrimSpace(e.key) == "":
			d.report(e.kpos, p, "empty property name", "give the property a name")
		case e.val.kind == kNull:
			d.report(e.kpos, p, "has no value", `give it a value (quote it for an empty one: "")`)
		default:
			if v, ok := d.str(e.val, p); ok {
				props = append(props, Property{Key: e.key, Value: v})
			}
		}
		seen[e.key] = true
	}
	return props
}

func (d *decoder) decodeStages(n *node, path string) []Stage {
	if n.kind != kSeq {
		d.report(n.pos, path, "want a list of stages, got "+n.describe(),
			"write each stage on its own line: `- {duration: 30s, rate: 500/s}`")
		return nil
	}
	stages := make([]Stage, len(n.items))
	d.stages = make([]stageInfo, len(n.items))
	for i, item := range n.items {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.stages[i].path = p
		d.vals[p], d.keys[p] = item, item.pos
		if item.kind == kNull {
			d.report(item.pos, p, "empty stage", "write `- {duration: 30s, rate: 500/s}`")
			continue
		}
		d.object(item, p, stageKeys, func(key string, v *node, p string) {
			switch key {
			case "duration":
				stages[i].Duration, _ = d.duration(v, p, time.Millisecond, 365*24*time.Hour)
			case "rate":
				stages[i].Rate, _ = d.rate(v, p, 0, false)
			case "interval":
				d.stages[i].interval, _ = d.duration(v, p, time.Millisecond, 24*time.Hour)
			case "pause":
				stages[i].Pause, _ = d.boolean(v, p)
			}
		})
	}
	return stages
}

// finishPublish applies the publish defaults and checks the schedule and
// the payload against the fleet.
func (d *decoder) finishPublish(pb *Publish, dv *Devices, a *Auth, t *Target) {
	if !d.has("publish.qos") {
		pb.QoS = DefaultQoS
	}
	if !d.has("publish.max_in_flight") {
		pb.MaxInFlight = DefaultPublishInFlight
	} else if pb.QoS == 0 {
		d.warn("publish.max_in_flight", "has no effect with qos 0 (nothing is acknowledged)")
	}
	d.finishTopic(pb, a, t)
	d.finishStages(pb, dv)
	if !d.has("publish.start_rate") && len(pb.Stages) > 0 {
		pb.StartRate = pb.Stages[0].Rate
	}
	d.checkSilentStages(pb)
	if !d.has("publish.late_after") {
		pb.LateAfter = DefaultLateAfter
	}
	if !d.has("publish.pacing") {
		pb.Pacing = PacingPrecise
	}
	if !d.has("publish.max_lateness") {
		pb.MaxLateness = DefaultMaxLateness
	}
	if pb.MaxLateness <= pb.LateAfter {
		path := "publish.max_lateness"
		if !d.has(path) {
			path = "publish.late_after"
		}
		d.fail(path, fmt.Sprintf("max_lateness %v must be longer than late_after %v", pb.MaxLateness, pb.LateAfter),
			"raise max_lateness or lower late_after")
	}
	d.finishPayload(pb, dv, a)
}

func (d *decoder) finishTopic(pb *Publish, a *Auth, t *Target) {
	if !d.has("publish.topic") {
		if d.given("publish.topic") {
			return
		}
		pb.Topic = DefaultTopic
		d.topicSegs, _ = ParseTemplate(pb.Topic, TopicFields...)
	}
	for _, s := range d.topicSegs {
		if i := strings.IndexAny(s.Literal, "+#\x00"); s.Field == "" && i >= 0 {
			d.fail("publish.topic", fmt.Sprintf("%q is a wildcard and cannot appear in a topic one publishes to", s.Literal[i]),
				"remove it from the topic")
			return
		}
	}
	if strings.TrimSpace(pb.Topic) == "" {
		d.fail("publish.topic", "is empty", "remove it to use "+DefaultTopic)
		return
	}
	if pb.Topic != DefaultTopic && a.Type == AuthAzureSAS {
		if t.Kind == TargetEmbedded {
			d.fail("publish.topic", "the embedded hub, like IoT Hub, accepts device messages only on "+DefaultTopic,
				"remove publish.topic; add message properties with publish.properties")
		} else {
			d.warn("publish.topic", "IoT Hub accepts device messages only on "+DefaultTopic+" (plus a property bag)")
		}
	}
}

func (d *decoder) finishStages(pb *Publish, dv *Devices) {
	if !d.given("publish.stages") {
		d.failKey("publish.stages", "the publish schedule is required",
			"add publish.stages, e.g. `stages: [{duration: 30s, rate: 500/s}]`")
		return
	}
	if d.bad["publish.stages"] {
		return
	}
	if len(pb.Stages) == 0 {
		d.fail("publish.stages", "has no stages", "add at least one stage, e.g. `- {duration: 30s, rate: 500/s}`")
		return
	}
	for i := range pb.Stages {
		info := d.stages[i]
		p := info.path
		if d.vals[p].kind != kMap {
			continue
		}
		if !d.given(p + ".duration") {
			d.failKey(p, "a stage needs a duration", "add duration, e.g. `duration: 30s`")
		}
		hasRate, hasInterval := d.given(p+".rate"), d.given(p+".interval")
		switch {
		case pb.Stages[i].Pause:
			for _, k := range []string{"rate", "interval"} {
				if d.given(p + "." + k) {
					d.failKey(p+"."+k, "a pause sends nothing, so it takes no "+k,
						"remove "+k+", or remove pause: true to send during this stage")
				}
			}
		case hasRate && hasInterval:
			d.failKey(p+".interval", "a stage takes a fleet-wide rate or a per-device interval, not both",
				"remove interval (per device) or rate (fleet-wide)")
		case !hasRate && !hasInterval:
			d.failKey(p, "a stage needs a rate (fleet-wide, e.g. 500/s) or an interval (per device, e.g. 2s)",
				"add rate or interval")
		case hasInterval && d.has(p+".interval"):
			pb.Stages[i].Rate = float64(dv.Count) / info.interval.Seconds()
		}
	}
}

// checkSilentStages refuses a stage that is 0/s from its start to its end
// unless it is marked as a pause, and a pause that would not be one. A
// stage ramps from the rate before it, so "rate: 0/s" after a stage at
// 500/s is a ramp down, and sends messages; "rate: 0/s" after 0/s (or as
// the first stage, without a start_rate) sends none, which is a mistake
// more often than a plan: a run that sends nothing measures nothing.
func (d *decoder) checkSilentStages(pb *Publish) {
	if d.bad["publish.stages"] || d.bad["publish.start_rate"] {
		return
	}
	prev := pb.StartRate // defaulted to the first stage's rate
	silent := true
	for i, st := range pb.Stages {
		p := d.stages[i].path
		if d.bad[p] || d.bad[p+".rate"] || d.bad[p+".interval"] || d.bad[p+".pause"] {
			return // reported; the rates after it are unknown
		}
		switch {
		case st.Pause && prev > 0:
			d.failKey(p+".pause", fmt.Sprintf("a pause holds 0/s, but the schedule is at %s when this stage starts (stages ramp from the rate before them)", FormatRate(prev)),
				"ramp down first with a stage such as `- {duration: 5s, rate: 0/s}`, then pause")
		case !st.Pause && prev == 0 && st.Rate == 0:
			from := "the stage before it ends at 0/s"
			if i == 0 {
				from = "it is the first stage"
				if d.has("publish.start_rate") {
					from = "start_rate is 0/s"
				}
			}
			d.fail(p+".rate", fmt.Sprintf("0/s from start to end (%s): this stage sends nothing", from),
				"give a rate such as 500/s; for a deliberate pause write `- {duration: 30s, pause: true}`")
		}
		if st.Rate > 0 || prev > 0 {
			silent = false
		}
		prev = st.Rate
	}
	if silent && len(pb.Stages) > 0 {
		d.warn("publish.stages", "every stage is a pause: the run sends no messages")
	}
}

func (d *decoder) finishPayload(pb *Publish, dv *Devices, a *Auth) {
	const path, tpath = "publish.payload.size", "publish.payload.template"
	if !d.has(tpath) {
		if d.given(tpath) {
			return
		}
		pb.Payload.Template = DefaultPayloadTemplate
		d.payloadSegs, _ = ParseTemplate(pb.Payload.Template, PayloadFields...)
	}
	for _, f := range []string{FieldFill, FieldStamp} {
		if countField(d.payloadSegs, f) > 1 {
			d.fail(tpath, fmt.Sprintf("{%s} is used %d times", f, countField(d.payloadSegs, f)), fmt.Sprintf("keep one {%s}", f))
			return
		}
	}
	// The last device has the longest id and index: if its payload fits,
	// every device's does.
	lastIndex := dv.FirstIndex + dv.Count - 1
	fixed := FixedLen(d.payloadSegs, len(Expand(d.idSegs, "", lastIndex)), lastIndex)
	sizeGiven := d.has(path)
	if !sizeGiven {
		if d.given(path) {
			return
		}
		pb.Payload.Size = DefaultPayloadSize
	}
	at := path
	if !sizeGiven {
		at = tpath
	}
	if HasField(d.payloadSegs, FieldFill) {
		if pb.Payload.Size < fixed {
			d.fail(at, fmt.Sprintf("payload size %d is smaller than the template's fixed part (%d bytes%s)", pb.Payload.Size, fixed, fixedParts(d.payloadSegs, len(Expand(d.idSegs, "", lastIndex)), lastIndex)),
				fmt.Sprintf("set publish.payload.size to at least %d, or shorten the template", fixed))
			return
		}
	} else {
		firstFixed := FixedLen(d.payloadSegs, len(Expand(d.idSegs, "", dv.FirstIndex)), dv.FirstIndex)
		if sizeGiven && (pb.Payload.Size != fixed || firstFixed != fixed) {
			d.fail(path, fmt.Sprintf("the template has no {fill}, so a payload is %s bytes, not %d", lenRange(firstFixed, fixed), pb.Payload.Size),
				"add {fill} to the template to pad each payload to size, or remove size")
			return
		}
		pb.Payload.Size = fixed
	}
	if a.Type == AuthAzureSAS && pb.Payload.Size > MaxPayloadAzure {
		d.fail(at, fmt.Sprintf("payload size %d is over IoT Hub's %d-byte message limit", pb.Payload.Size, MaxPayloadAzure),
			fmt.Sprintf("use at most %d", MaxPayloadAzure))
	}
}

func lenRange(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(hi)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// fixedParts explains the fixed length: ": text 30, {stamp} 51, ...".
func fixedParts(segs []Segment, idLen, index int) string {
	lit := 0
	var parts []string
	for _, s := range segs {
		switch s.Field {
		case "":
			lit += len(s.Literal)
		case FieldSeq:
			parts = append(parts, fmt.Sprintf("{seq} %d", SeqLen))
		case FieldTS:
			parts = append(parts, fmt.Sprintf("{ts} %d", TSLen))
		case FieldStamp:
			parts = append(parts, fmt.Sprintf("{stamp} %d", StampLen))
		case FieldDevice:
			parts = append(parts, fmt.Sprintf("{device} %d", idLen))
		case FieldIndex:
			parts = append(parts, fmt.Sprintf("{index} %d", IndexLen(index, s.Width)))
		}
	}
	return fmt.Sprintf(": text %d, %s", lit, strings.Join(parts, ", "))
}
