#!/usr/bin/env bash
# Start a local RabbitMQ node for manual runs of scenarios/rabbitmq.yaml:
# MQTT/TLS on 127.0.0.1:18884 (plain 11884), AMQP 0-9-1 and 1.0 on
# 127.0.0.1:15673 (TLS 15676), queue "fleetbench" bound to amq.topic with
# devices.*.messages.events.#, user "fleet", password from
# $FLEETBENCH_PASSWORD (or a generated one it tells you how to export), CA in
# /tmp/fleetbench/rabbitmq/ca.pem. Ctrl-C stops it. See docs/brokers.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${TMPDIR:-/tmp}/fleetbench/bin"
mkdir -p "$bin"
go build -o "$bin/testbroker" ./scripts/testbroker
exec "$bin/testbroker" rabbitmq "$@"
