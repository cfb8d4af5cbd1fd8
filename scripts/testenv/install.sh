#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian's apt
# repositories: Postfix + Dovecot (real SMTP/IMAP servers for the mail
# integration tests), openssl (test certificate), PostgreSQL and Chromium
# (with a CJK font so screenshots of zh-CN pages are readable).
#
# Idempotent: when every package is already installed it returns at once
# without touching apt. Must run as root for the install; when not root and
# something is missing it prints what to install and exits non-zero.
set -euo pipefail

PKGS=(postfix dovecot-imapd dovecot-lmtpd openssl postgresql chromium fonts-wqy-microhei)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "testenv/install: all packages present (${PKGS[*]})"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "testenv/install: missing packages: ${missing[*]}" >&2
	echo "testenv/install: run as root: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "testenv/install: installing ${missing[*]}"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# Postfix asks for a "mailer type" on install; preseed "No configuration" so
# the package neither prompts nor writes a system-wide main.cf (the tests use
# their own config directory).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Retry once: a mirror hiccup should not fail a CI run.
apt-get update -q </dev/null || { sleep 5; apt-get update -q </dev/null; }
# One apt-get call for everything. policy-rc.d makes sure package scripts do
# not try to start system services (no systemd here; the tests start their own
# daemons with their own configs).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	created_policy=1
fi
rc=0
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null || {
	sleep 5
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
} || rc=$?
if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi
if [ "$rc" -ne 0 ]; then
	echo "testenv/install: apt-get install failed (exit $rc)" >&2
	exit "$rc"
fi
echo "testenv/install: done in $(($(date +%s) - start))s"
