// Package testbed starts real brokers on 127.0.0.1 for tests: a mosquitto
// 2.x per test (StartMosquitto) and one RabbitMQ node per test binary
// (StartRabbitMQ, or SharedRabbitMQ with RunWithRabbitMQ in TestMain), each
// with a throw-away CA from internal/pki, free ports and a completely
// isolated environment (see /work/shared/testbed.md for why every knob is
// set).
//
// When a broker binary is missing, tests skip with a message naming the apt
// package, except under CI=true, where they fail: CI must never pass by
// skipping the integration tests.
//
// Every process the package starts is in its own process group, gets
// SIGTERM when the test binary dies (Linux parent-death signal) and is
// killed on any start failure, so a failing test binary leaks nothing.
package testbed
