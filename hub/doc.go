// Package hub is fleetbench's embedded IoT hub: an in-process MQTT 3.1.1
// broker (github.com/mochi-mqtt/server/v2) on a 127.0.0.1 TLS listener that
// enforces Azure IoT Hub's device rules, so that a run against the embedded
// target exercises real SAS authentication with no set-up.
//
//	h, err := hub.Start(hub.Config{Dir: outDir, GroupKey: groupKey})
//	defer h.Close()
//	// devices connect to h.Addr(), trusting h.CAFile(), as h.HostName()
//
// # Rules enforced
//
//   - TLS 1.2 or later; the server certificate (ECDSA P-256, from a CA made
//     at Start and written to Config.Dir) names localhost, 127.0.0.1, ::1
//     and Config.HostName.
//   - CONNECT: client id = device id; username
//     {HostName}/{deviceId}/?api-version={any}[&...], or without the
//     api-version ({HostName}/{deviceId}[/]), which IoT Hub accepts but
//     does not recommend (counted in Stats.NoAPIVersion); password a
//     device-scoped SAS token whose sr decodes to
//     {HostName}/devices/{deviceId} (host case-insensitive), signed with the
//     device key (HMAC-SHA256(GroupKey, deviceId), or DeviceKey) as padded
//     base64 (what every IoT Hub SDK sends), not expired; checked by
//     fleet/credential (ParseSAS, SASFields.Verify). Policy tokens (skn)
//     and module identities are refused. A will message must target the
//     device's own events topic. Refusals answer CONNACK "not authorized"
//     (3.1.1 code 5; 0x86 for MQTT 5).
//   - Every refusal (CONNECT, publish, subscription) has a Reason with a
//     fix (reasons.go), is counted in Stats.ByReason, logged at Debug
//     level, and written as one line to Config.RefusalLog (the first
//     RefusalLinesPerReason per reason); never with a token or key.
//     docs/hub.md sets the rules beside IoT Hub's.
//   - A connection is closed when its SAS token expires; a second
//     connection with the same device id replaces the first.
//   - Devices publish only to devices/{id}/messages/events/{property bag},
//     QoS 0 or 1; retain flags are ignored (nothing is stored). A denied
//     QoS 1 publish, and any QoS 2 publish, closes the connection; a denied
//     QoS 0 publish is dropped. Devices may subscribe only to
//     devices/{id}/messages/devicebound/#.
//   - The optional service client (Config.ServiceUser) may subscribe to
//     devices/+/messages/events/# or #, and may not publish.
//
// # Counting
//
// Every accepted device message is counted before mochi writes its PUBACK,
// so a device never holds an acknowledgement for a message Received does
// not show. Per device the hub keeps one record (sync.Map, read without
// locks) reached through the connection's session; the fleet-wide total is
// striped over 64 cache lines. The per-message hook work is about 55 ns
// and allocation-free (BenchmarkRulesPerMessage). mochi writes a PUBACK
// before it hands the message to subscribers, so the service client may see
// a message shortly after the device holds its acknowledgement.
//
// CONNECTs refused for their credentials count in Stats.RefusedAuth; the
// hub's own listener (listener.go) sees how every connection ends and
// counts CONNECTs mochi refuses before authentication in RefusedOther
// (Reason "protocol"). The
// listener also bounds the TLS handshake and CONNECT to a minute, retries
// a failing Accept (out of file descriptors) instead of stopping, and lets
// Close end every connection, even one still in its handshake.
//
// # AckDelay
//
// Sleeping in the publish hook would delay a connection's PUBACKs one after
// another (pipelined messages would wait n x AckDelay). Instead the hook
// hands the message to subscribers at once, tells mochi to skip its own
// PUBACK, and queues the PUBACK on the hub's ack clock, which writes each
// one AckDelay after its message arrived, in arrival order per connection,
// to within tens of microseconds: a few shard goroutines sleep on a
// timerfd, as the fleet's pacers do, because Go's timers fire up to a
// millisecond late (see ackClock; TestAckDelayIsCalibrated and
// BenchmarkAckDelayError measure it).
//
// # Cost per connection
//
// Measured on the 2-core test machine with 2,000 idle TLS devices (one
// QoS 1 message each): about 55 KiB of heap and stack per connection, of
// which about 20 KiB are mochi's two goroutine stacks, 16 KiB mochi's
// outbound queue (2048 pointers: mochi's default 8192 would cost 64 KiB
// and made it 102 KiB per connection), and about 8 KiB TLS state. One
// device pipelining QoS 1 publishes over TLS reached about 100k msg/s
// with its paho client in the same process (BenchmarkHubPublishQoS1).
// Because the hub holds the broker end of every device socket, one
// process with the embedded hub is bounded by the open-file limit to about
// half as many devices as a process without it.
//
// mochi scans all clients once a second (session and in-flight expiry);
// $SYS topics are published once a day only. mochi's log lines go to
// Config.Logger with any packet they carry replaced by "[packet omitted]"
// (a CONNECT holds a token).
package hub
