#!/usr/bin/env bash
# Stops the Postfix + Dovecot pair that scripts/testenv/start.sh DIR started.
# Never fails when they are not running (or DIR does not exist); waits, with
# a bound, until both master processes are gone.
#
#   scripts/testenv/stop.sh DIR
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1"; }

# wait_gone PID NAME: up to ~10 s for a clean exit, then SIGKILL that pid.
wait_gone() {
	local pid=$1 name=$2 i
	for i in $(seq 1 50); do
		pid_alive "$pid" || return 0
		sleep 0.2
	done
	echo "testenv/stop: $name (pid $pid) still running after 10s; killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

pf_pid=""
dc_pid=""
if [ -f "$DIR/postfix/main.cf" ]; then
	queue=$(postconf -c "$DIR/postfix" -h queue_directory 2>/dev/null || echo "$DIR/postfix-queue")
	pf_pid=$(read_pid "$queue/pid/master.pid" || true)
	if pid_alive "$pf_pid"; then
		postfix -c "$DIR/postfix" stop </dev/null >>"$DIR/postfix-start.log" 2>&1 ||
			kill -TERM "$pf_pid" 2>/dev/null || true
	fi
fi
if [ -f "$DIR/dovecot.conf" ]; then
	dc_pid=$(read_pid "$DIR/dovecot-run/master.pid" || true)
	if pid_alive "$dc_pid"; then
		dovecot -c "$DIR/dovecot.conf" stop </dev/null >>"$DIR/dovecot-start.log" 2>&1 ||
			kill -TERM "$dc_pid" 2>/dev/null || true
	fi
fi
if pid_alive "$pf_pid"; then wait_gone "$pf_pid" postfix; fi
if pid_alive "$dc_pid"; then wait_gone "$dc_pid" dovecot; fi
exit 0
