// Package credential produces the MQTT CONNECT credentials of simulated
// devices: IoT Hub SAS tokens (device keys, DPS group-derived keys, policy
// keys), username/password templates, Alibaba Cloud IoT device signatures and
// the Alibaba Cloud AMQP server-side subscription signature.
//
// The signing functions implement the rules in ../shared/protocols.md and are
// tested against every published vector listed there. A [Provider] built once
// per run by [NewProvider] hands each device its credentials at every
// (re)connect; it is safe for concurrent use and allocates only the few
// strings it returns.
//
// Key material is carried as [Secret], whose fmt, JSON and text forms print
// "[redacted]". No error of this package contains a key, password or token.
package credential
