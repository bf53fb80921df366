#!/usr/bin/env bash
# Start or stop several `fleetbench hub` processes on one directory, so that
# they share one CA, server certificate and group key (each hub reuses what
# the first one made in DIR) and a fleet beyond one process's open files
# spreads over them with target.endpoints (docs/scale.md).
#
#   scripts/hubs.sh start N DIR [BASE_PORT]   # hubs on 127.0.0.1:BASE_PORT ... BASE_PORT+N-1 (default 18881)
#   scripts/hubs.sh stop DIR                  # Ctrl-C to every hub started on DIR; each prints its totals to DIR/hub-I.log
#
# start prints what a scenario needs: the CA file (target.tls.ca_file) and
# the group key file (export FLEETBENCH_GROUP_KEY=$(cat DIR/group.key)).
# $FLEETBENCH names the binary (default bin/fleetbench; `make build`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${FLEETBENCH:-bin/fleetbench}"

usage() {
	echo "usage: $0 start N DIR [BASE_PORT] | stop DIR" >&2
	exit 2
}

# wait_listening LOG PID: until the hub's log says it listens, or it exits.
wait_listening() {
	local log=$1 pid=$2
	for _ in $(seq 1 300); do
		if grep -q "listening on" "$log" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "hubs.sh: the hub logging to $log exited before listening:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "hubs.sh: the hub logging to $log did not listen within 30 s" >&2
	return 1
}

start() {
	local n=$1 dir=$2 base=${3:-18881}
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "hubs.sh: N must be a positive number, not \"$n\"" >&2; exit 2; }
	[[ -x $bin ]] || { echo "hubs.sh: $bin is missing: run make build (or set FLEETBENCH)" >&2; exit 1; }
	mkdir -p "$dir"
	if compgen -G "$dir/hub-*.pid" >/dev/null; then
		echo "hubs.sh: $dir already has hubs (hub-*.pid): run $0 stop $dir first" >&2
		exit 1
	fi
	for ((i = 0; i < n; i++)); do
		local port=$((base + i)) log="$dir/hub-$i.log"
		# setsid: the hub has its own session, so a Ctrl-C at the terminal
		# that ran `make` reaches the run, and stop ends the hubs in order.
		setsid "$bin" hub --addr "127.0.0.1:$port" --dir "$dir" >"$log" 2>&1 </dev/null &
		local pid=$!
		echo "$pid" >"$dir/hub-$i.pid"
		# One at a time: the first hub makes the CA and key, the others reuse them.
		if ! wait_listening "$log" "$pid"; then
			stop "$dir"
			exit 1
		fi
		echo "hub $i: 127.0.0.1:$port (pid $pid, log $log)"
	done
	echo "CA file:        $dir/ca.pem            (--set target.tls.ca_file=$dir/ca.pem)"
	echo "group key file: $dir/group.key         (export FLEETBENCH_GROUP_KEY=\$(cat $dir/group.key))"
}

stop() {
	local dir=$1 pidfile pid
	for pidfile in "$dir"/hub-*.pid; do
		[[ -e $pidfile ]] || continue
		pid=$(cat "$pidfile")
		kill -INT "$pid" 2>/dev/null || true
	done
	for pidfile in "$dir"/hub-*.pid; do
		[[ -e $pidfile ]] || continue
		pid=$(cat "$pidfile")
		for _ in $(seq 1 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "hubs.sh: hub $pid did not stop within 30 s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$pidfile"
	done
}

case "${1:-}" in
start) [[ $# -ge 3 ]] || usage; start "$2" "$3" "${4:-}" ;;
stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
*) usage ;;
esac
