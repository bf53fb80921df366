// Package confirm confirms end-to-end delivery: a service-side consumer
// (a [Source]: AMQP 1.0, Alibaba Cloud IoT's AMQP subscription, Azure Event
// Hubs, or an MQTT subscriber) hands every message it receives to a
// [Matcher], which finds the fleetbench stamp in the payload (package stamp)
// and matches it back to its device and sequence number.
//
// The Matcher counts confirmed, lost, duplicated, reordered and foreign
// messages exactly, in memory that grows with the number of devices, not
// with the number of messages, and records end-to-end latency from each
// message's intended send time (so a stalled hub cannot hide behind a
// stalled publisher). See docs/confirm.md.
package confirm
