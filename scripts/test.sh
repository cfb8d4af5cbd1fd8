#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run).
#
#   scripts/test.sh [go test args...]
#
# 1. installs the system packages the tests need (scripts/testenv/install.sh),
# 2. starts a throw-away Postfix + Dovecot (scripts/testenv/start.sh) in a
#    temp dir, exports its FOLLOWUP_TEST_* variables, and stops and removes
#    it on exit, whatever happens,
# 3. runs gofmt -l, go vet ./..., go test -count=1 ./..., the race detector
#    over the concurrent packages (without arguments) and, when
#    cmd/followup exists, `go run ./cmd/followup demo --once`.
#
# Extra arguments go to go test: `scripts/test.sh -run TestSend` tests ./...
# with -run TestSend; `scripts/test.sh -v ./internal/...` tests only those
# packages (when a package pattern is given, ./... is not added).
# With CI=true, FOLLOWUP_REQUIRE_SERVERS=1 is exported, so a test that cannot
# reach the mail servers fails instead of skipping.
# Exits non-zero if any step fails; the last line is a one-line summary.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$(pwd)
START_TS=$(date +%s)

say() { echo "==> $*"; }
summary_fail() {
	echo "scripts/test.sh: FAIL ($*) after $(($(date +%s) - START_TS))s"
	exit 1
}

# ----------------------------------------------------------------- packages
say "system packages (scripts/testenv/install.sh)"
scripts/testenv/install.sh </dev/null || summary_fail "installing system packages; see above"

# ----------------------------------------------------------------- servers
# A test.sh killed without running its trap (SIGKILL, a session cut short)
# leaves its servers running and their ports taken. Each run records its pid
# in its dir; stop the servers of any earlier run whose test.sh is gone.
PREFIX=/tmp/followup-testenv.
for d in "$PREFIX"*; do
	[ -f "$d/test.sh.pid" ] || continue
	owner=$(tr -dc '0-9' <"$d/test.sh.pid")
	if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
		continue # still in use by a running test.sh
	fi
	say "stopping leftover test servers in $d (their test.sh, pid ${owner:-?}, is gone)"
	scripts/testenv/stop.sh "$d" </dev/null || true
	rm -rf "$d"
done

TESTENV_DIR=$(mktemp -d "${PREFIX}XXXXXX") || summary_fail "mktemp"
echo $$ >"$TESTENV_DIR/test.sh.pid"
cleanup() {
	"$ROOT/scripts/testenv/stop.sh" "$TESTENV_DIR" </dev/null >/dev/null 2>&1
	rm -rf "$TESTENV_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Another test.sh may be running on this machine (its servers hold the
# default ports): unless ports were chosen through FOLLOWUP_TEST_*_PORT, move
# all five ports up by 100 until they are free.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${FOLLOWUP_TEST_SMTP_PORT:-}${FOLLOWUP_TEST_SMTPS_PORT:-}${FOLLOWUP_TEST_IMAP_PORT:-}${FOLLOWUP_TEST_IMAPS_PORT:-}${FOLLOWUP_TEST_LMTP_PORT:-}" ]; then
	for off in 0 100 200 300 400 500 600 700 800 900; do
		if port_free $((10587 + off)) && port_free $((10465 + off)) && port_free $((10143 + off)) &&
			port_free $((10993 + off)) && port_free $((10024 + off)); then
			if [ "$off" -ne 0 ]; then
				say "default test ports busy (another test.sh?); using ports +$off"
				export FOLLOWUP_TEST_SMTP_PORT=$((10587 + off)) FOLLOWUP_TEST_SMTPS_PORT=$((10465 + off)) \
					FOLLOWUP_TEST_IMAP_PORT=$((10143 + off)) FOLLOWUP_TEST_IMAPS_PORT=$((10993 + off)) \
					FOLLOWUP_TEST_LMTP_PORT=$((10024 + off))
			fi
			break
		fi
	done
fi

say "mail servers (scripts/testenv/start.sh $TESTENV_DIR)"
scripts/testenv/start.sh "$TESTENV_DIR" </dev/null || summary_fail "starting Postfix and Dovecot; see above"
# shellcheck source=/dev/null
source "$TESTENV_DIR/env.sh"
if [ "${CI:-}" = "true" ]; then
	export FOLLOWUP_REQUIRE_SERVERS=1
fi

# ----------------------------------------------------------------- checks
declare -a RESULTS=()
FAILED=0
record() { # name status
	if [ "$2" -eq 0 ]; then
		RESULTS+=("$1 ok")
	else
		RESULTS+=("$1 FAILED")
		FAILED=1
	fi
}

say "gofmt -l"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked files plus new files not yet added (but not ignored ones).
	mapfile -d '' GOFILES < <(git ls-files -z --cached --others --exclude-standard -- '*.go')
else
	mapfile -d '' GOFILES < <(find . -name '*.go' -not -path './vendor/*' -print0)
fi
unformatted=""
if [ "${#GOFILES[@]}" -gt 0 ]; then
	existing=()
	for f in "${GOFILES[@]}"; do [ -f "$f" ] && existing+=("$f"); done
	if [ "${#existing[@]}" -gt 0 ]; then
		unformatted=$(gofmt -l "${existing[@]}" 2>&1)
	fi
fi
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting (run gofmt -w):"
	echo "$unformatted"
	record gofmt 1
else
	record gofmt 0
fi

say "go vet ./..."
go vet ./...
record "go vet" $?

TEST_ARGS=("$@")
has_pkg=0
for a in "${TEST_ARGS[@]}"; do
	case "$a" in
	. | ./* | ../* | followup | followup/*) has_pkg=1 ;;
	esac
done
if [ "$has_pkg" -eq 0 ]; then
	TEST_ARGS+=(./...)
fi
say "go test -count=1 ${TEST_ARGS[*]}"
go test -count=1 "${TEST_ARGS[@]}"
record "go test" $?

# The race detector over the packages with goroutines of their own (the
# sending pipeline, the inbox watchers, the store's writers, the web
# handlers, webhooks, metrics), when the whole suite runs.
if [ "$#" -eq 0 ]; then
	RACE_PKGS=(./sequences/ ./inbox/ ./store/ ./web/... ./webhooks/ ./metrics/)
	say "go test -race -count=1 ${RACE_PKGS[*]}"
	go test -race -count=1 "${RACE_PKGS[@]}"
	record "go test -race" $?
fi

if [ -d cmd/followup ]; then
	say "go run ./cmd/followup demo --once"
	timeout 600 go run ./cmd/followup demo --once </dev/null
	record demo $?
else
	RESULTS+=("demo skipped (no cmd/followup)")
fi

joined=$(printf '%s, ' "${RESULTS[@]}")
joined=${joined%, }
if [ "$FAILED" -ne 0 ]; then
	echo "scripts/test.sh: FAIL ($joined) after $(($(date +%s) - START_TS))s"
	exit 1
fi
echo "scripts/test.sh: PASS ($joined) after $(($(date +%s) - START_TS))s"
