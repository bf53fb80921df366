#!/usr/bin/env bash
# Start a local mosquitto for manual runs of scenarios/mosquitto.yaml:
# MQTT/TLS on 127.0.0.1:18883 (plain 11883), user "fleet", password from
# $FLEETBENCH_PASSWORD (or a generated one it tells you how to export), CA in
# /tmp/fleetbench/mosquitto/ca.pem. Ctrl-C stops it. See docs/brokers.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${TMPDIR:-/tmp}/fleetbench/bin"
mkdir -p "$bin"
go build -o "$bin/testbroker" ./scripts/testbroker
exec "$bin/testbroker" mosquitto "$@"
