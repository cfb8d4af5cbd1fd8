#!/usr/bin/env bash
# Starts a throw-away Postfix + Dovecot pair for the integration tests.
#
#   scripts/testenv/start.sh DIR
#
# Everything lives under DIR: a self-signed certificate, the configs, the
# queue, the mailboxes and the logs. Both daemons listen on 127.0.0.1 only,
# on non-default ports. When the servers answer, DIR/env.sh holds the
# FOLLOWUP_TEST_* exports that internal/testenv reads; `source` it.
#
# Ports can be overridden through the environment (defaults in brackets):
#   FOLLOWUP_TEST_SMTP_PORT  [10587] submission, STARTTLS + AUTH required
#   FOLLOWUP_TEST_SMTPS_PORT [10465] submission over implicit TLS + AUTH
#   FOLLOWUP_TEST_IMAP_PORT  [10143] IMAP, STARTTLS before login
#   FOLLOWUP_TEST_IMAPS_PORT [10993] IMAP over implicit TLS
#   FOLLOWUP_TEST_LMTP_PORT  [10024] Dovecot LMTP, Postfix delivers to it
#
# Mail flow: client -> Postfix submission (AUTH checked through Dovecot's
# auth socket) -> Postfix virtual domain followup.test -> LMTP -> Dovecot
# Maildir. Postfix never delivers outside followup.test: relaying elsewhere
# is refused at RCPT and every other transport is the error transport, so
# nothing ever leaves this machine.
#
# Postfix runs as `postfix -c DIR/postfix`, Dovecot as
# `dovecot -c DIR/dovecot.conf`. Run stop.sh DIR to stop. Running start.sh
# again on the same DIR stops what runs there first and starts afresh
# (mailboxes, queue, certificate and password are kept).
set -euo pipefail

die() {
	echo "testenv/start: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (Postfix's master needs it)"
for cmd in postfix postconf dovecot doveconf openssl; do
	command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found; run scripts/testenv/install.sh"
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
case "$DIR" in
*[[:space:],=\"\'\$\\]*) die "DIR must not contain spaces, commas, quotes, = or \$: $DIR" ;;
esac
# Dovecot's unix sockets live under DIR; sockaddr_un paths are limited to 107 bytes.
[ ${#DIR} -le 60 ] || die "DIR path too long for unix sockets (max 60 chars): $DIR"

SMTP_PORT=${FOLLOWUP_TEST_SMTP_PORT:-10587}
SMTPS_PORT=${FOLLOWUP_TEST_SMTPS_PORT:-10465}
IMAP_PORT=${FOLLOWUP_TEST_IMAP_PORT:-10143}
IMAPS_PORT=${FOLLOWUP_TEST_IMAPS_PORT:-10993}
LMTP_PORT=${FOLLOWUP_TEST_LMTP_PORT:-10024}
DOMAIN=followup.test
USERS="recruiter@$DOMAIN recruiter2@$DOMAIN alice@$DOMAIN bob@$DOMAIN li.lei@$DOMAIN han.meimei@$DOMAIN"
BOUNCE_ADDR="gone@$DOMAIN"
WAIT_SECS=${FOLLOWUP_TEST_START_TIMEOUT:-30}

for p in "$SMTP_PORT" "$SMTPS_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"; do
	[[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -gt 0 ] && [ "$p" -lt 65536 ] || die "bad port: $p"
done

if [ "$(printf '%s\n' "$SMTP_PORT" "$SMTPS_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" | sort -u | wc -l)" -ne 5 ]; then
	die "ports must be distinct: smtp $SMTP_PORT, smtps $SMTPS_PORT, imap $IMAP_PORT, imaps $IMAPS_PORT, lmtp $LMTP_PORT"
fi

# Stop whatever a previous start.sh left running in this DIR.
"$here/stop.sh" "$DIR" >/dev/null 2>&1 || true

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$SMTP_PORT" "$SMTPS_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"; do
	if port_open "$p"; then
		die "port 127.0.0.1:$p is already in use (another test environment still running? stop it with scripts/testenv/stop.sh DIR, or pick other ports with FOLLOWUP_TEST_*_PORT)"
	fi
done

start_ts=$(date +%s)
chmod 755 "$DIR" # the postfix and mail users must traverse it
rm -f "$DIR/env.sh"

# ---------------------------------------------------------------- certificate
CERT="$DIR/cert.pem"
KEY="$DIR/key.pem"
if [ ! -s "$CERT" ] || [ ! -s "$KEY" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-keyout "$KEY" -out "$CERT" -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
		-addext "extendedKeyUsage=serverAuth" >"$DIR/openssl.log" 2>&1 ||
		{ cat "$DIR/openssl.log" >&2; die "openssl failed"; }
fi
chmod 600 "$KEY"
chmod 644 "$CERT"

# ----------------------------------------------------------------- users
# One password for all test users; kept across restarts of the same DIR.
if [ ! -s "$DIR/password" ]; then
	openssl rand -hex 12 >"$DIR/password"
fi
chmod 600 "$DIR/password"
PASSWORD=$(cat "$DIR/password")

MAIL_UID=$(id -u mail)
MAIL_GID=$(id -g mail)
mkdir -p "$DIR/mail"
chown "$MAIL_UID:$MAIL_GID" "$DIR/mail"
chmod 700 "$DIR/mail"

# Dovecot passwd-file: user:password:uid:gid:gecos:home:shell. uid, gid and
# home are required, otherwise LMTP/IMAP fail with "missing userdb info".
: >"$DIR/dovecot-users"
: >"$DIR/postfix-vmailbox"
for u in $USERS; do
	echo "$u:{PLAIN}$PASSWORD:$MAIL_UID:$MAIL_GID::$DIR/mail/$u::" >>"$DIR/dovecot-users"
	echo "$u $DOMAIN/$u/" >>"$DIR/postfix-vmailbox"
done
# Known to Postfix but not to Dovecot: Postfix accepts it at RCPT, LMTP
# refuses it with 550 and Postfix mails a DSN back to the sender.
echo "$BOUNCE_ADDR $DOMAIN/gone/" >>"$DIR/postfix-vmailbox"
chown root:dovecot "$DIR/dovecot-users"
chmod 640 "$DIR/dovecot-users"
chmod 644 "$DIR/postfix-vmailbox"

# ----------------------------------------------------------------- Dovecot
rm -rf "$DIR/dovecot-run" # stale sockets of an earlier run
mkdir -p "$DIR/dovecot-run" "$DIR/dovecot-state"
DH=""
if [ -s /usr/share/dovecot/dh.pem ]; then DH="ssl_dh = </usr/share/dovecot/dh.pem"; fi
cat >"$DIR/dovecot.conf" <<EOF
# Generated by scripts/testenv/start.sh; test use only.
base_dir = $DIR/dovecot-run
state_dir = $DIR/dovecot-state
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
# user+tag@domain is delivered to user (plus addressing).
recipient_delimiter = +
ssl = yes
ssl_cert = <$CERT
ssl_key = <$KEY
$DH
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = $MAIL_UID
last_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
last_valid_gid = $MAIL_GID
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $DIR/dovecot-users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $DIR/dovecot-users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# Dovecot's auth penalty delays every later login from an IP that failed one
# (2 s, doubling up to 15 s), so one wrong-password test would slow every
# test after it; all test clients are 127.0.0.1. Mode 0 disables it.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  # Postfix (smtpd runs as user postfix) checks SMTP AUTH here.
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
EOF

# ----------------------------------------------------------------- Postfix
# Postfix's own config directory is DIR/postfix: `postfix start` checks the
# ownership of everything under its config directory, so keep it apart.
PF_CONF="$DIR/postfix"
PF_QUEUE="$DIR/postfix-queue"
PF_DATA="$DIR/postfix-data"
MAIL_LOG="$DIR/postfix.log"
mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA"
chown root:root "$PF_CONF"
chmod 755 "$PF_CONF"
chown root:root "$PF_QUEUE"
chown postfix:postfix "$PF_DATA"
touch "$MAIL_LOG"

cat >"$PF_CONF/main.cf" <<EOF
# Generated by scripts/testenv/start.sh; test use only.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
maillog_file = $MAIL_LOG
maillog_file_prefixes = $DIR
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP followup test environment
smtpd_peername_lookup = no

# Deliver only to followup.test, through Dovecot's LMTP. Anything else
# (including a bounce for a sender outside followup.test) goes to the error
# transport, so this test server never sends mail off the machine.
virtual_mailbox_domains = $DOMAIN
# user+tag@domain is user's address (plus addressing), as at most providers.
recipient_delimiter = +
virtual_mailbox_maps = texthash:$DIR/postfix-vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
local_transport = error:5.1.1 local delivery is disabled in the followup test environment
default_transport = error:5.7.1 the followup test environment delivers only to $DOMAIN
relay_transport = \$default_transport

# SMTP AUTH through Dovecot; enabled per service in master.cf.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DIR/dovecot-run/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_sasl_authenticated_header = no
broken_sasl_auth_clients = no
smtpd_tls_chain_files = $KEY, $CERT
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
# Authenticated clients may send to followup.test only, from any address.
smtpd_relay_restrictions = reject_unauth_destination, permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_reject_unlisted_recipient = yes
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200

# Fast queue: a 5xx from LMTP bounces at once; a 4xx is retried within
# seconds and given up (bounced) after a minute.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 3s
maximal_queue_lifetime = 60s
bounce_queue_lifetime = 60s
delay_warning_time = 0h
lmtp_connect_timeout = 5s
EOF

cat >"$PF_CONF/master.cf" <<EOF
# Generated by scripts/testenv/start.sh; test use only.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

# Postfix refuses to read a config or map file modified within the last
# second and polls until it is "stable" (seen as a ~2.5 s stall in `postfix
# start`); date the freshly written files a minute back.
touch -d "@$(($(date +%s) - 60))" "$PF_CONF/main.cf" "$PF_CONF/master.cf" "$DIR/postfix-vmailbox"

# ----------------------------------------------------------------- start
logs_tail() {
	for f in "$DIR/dovecot.log" "$DIR/dovecot-start.log" "$MAIL_LOG" "$DIR/postfix-start.log"; do
		if [ -s "$f" ]; then
			echo "---- tail of $f" >&2
			tail -n 25 "$f" >&2
		fi
	done
}
fail() {
	echo "testenv/start: $*" >&2
	logs_tail
	"$here/stop.sh" "$DIR" >/dev/null 2>&1 || true
	exit 1
}

# Never let a daemon inherit our stdout/stderr: a caller reading our output
# through a pipe (CI) would otherwise never see EOF.
doveconf -c "$DIR/dovecot.conf" -n >"$DIR/doveconf.out" 2>&1 ||
	{ cat "$DIR/doveconf.out" >&2; fail "bad dovecot config"; }
dovecot -c "$DIR/dovecot.conf" </dev/null >>"$DIR/dovecot-start.log" 2>&1 ||
	fail "dovecot failed to start"

# `postfix start` runs Postfix's fatal integrity checks itself (and the
# slower warning checks in the background); a separate `postfix check` would
# only add ~2.5 s. Run `postfix -c DIR/postfix check` by hand when changing
# this config.
postfix -c "$PF_CONF" start </dev/null >>"$DIR/postfix-start.log" 2>&1 ||
	fail "postfix failed to start"

# Wait until every port answers; SMTP and IMAP must also greet.
banner() { # port expected-prefix
	timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r -t 2 line <&3 && [[ "$line" == "$2"* ]]' _ "$1" "$2" 2>/dev/null
}
deadline=$(($(date +%s) + WAIT_SECS))
while :; do
	if banner "$SMTP_PORT" "220 " && banner "$IMAP_PORT" "* OK" &&
		port_open "$SMTPS_PORT" && port_open "$IMAPS_PORT" && port_open "$LMTP_PORT" &&
		[ -S "$DIR/dovecot-run/auth-postfix" ]; then
		break
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then
		fail "servers did not answer within ${WAIT_SECS}s (smtp $SMTP_PORT, smtps $SMTPS_PORT, imap $IMAP_PORT, imaps $IMAPS_PORT, lmtp $LMTP_PORT)"
	fi
	sleep 0.2
done

cat >"$DIR/env.sh" <<EOF
# Generated by scripts/testenv/start.sh; source it before go test.
export FOLLOWUP_TEST_DIR='$DIR'
export FOLLOWUP_TEST_SMTP_HOST=127.0.0.1
export FOLLOWUP_TEST_SMTP_PORT=$SMTP_PORT
export FOLLOWUP_TEST_SMTPS_PORT=$SMTPS_PORT
export FOLLOWUP_TEST_IMAP_PORT=$IMAP_PORT
export FOLLOWUP_TEST_IMAPS_PORT=$IMAPS_PORT
export FOLLOWUP_TEST_CA_FILE='$CERT'
export FOLLOWUP_TEST_DOMAIN=$DOMAIN
export FOLLOWUP_TEST_PASSWORD='$PASSWORD'
export FOLLOWUP_TEST_USERS='$USERS'
export FOLLOWUP_TEST_BOUNCE_ADDR=$BOUNCE_ADDR
export FOLLOWUP_TEST_MAIL_LOG='$MAIL_LOG'
EOF

echo "testenv/start: Postfix (smtp $SMTP_PORT, smtps $SMTPS_PORT) and Dovecot (imap $IMAP_PORT, imaps $IMAPS_PORT, lmtp $LMTP_PORT) up in $(($(date +%s) - start_ts))s; source $DIR/env.sh"
