#!/usr/bin/env bash
# Sending throughput, due-scan and survey-page benchmarks, with a summary against the
# targets in docs/PERFORMANCE.md. Takes about 25 s on 2 cores (seeding
# the 1,000,000-enrollment store is ~10 s of it, done once per run).
# With the test servers up (source DIR/env.sh of scripts/testenv/start.sh)
# it also compares sending through Postfix and runs the reading benchmarks
# (ingest throughput, reply-to-stop latency): about 5 minutes more.
#
#   scripts/bench.sh                 # BENCHTIME=3000x COUNT=3
#   BENCHTIME=10000x scripts/bench.sh
#   STRICT=1 scripts/bench.sh        # exit 1 when a target is missed
#   FOLLOWUP_BENCH_INGEST_N=1000 scripts/bench.sh   # a smaller folder to read
set -euo pipefail

cd "$(dirname "$0")/.."

benchtime=${BENCHTIME:-3000x}
count=${COUNT:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(go version | cut -d' ' -f3-)"
echo "command: go test -run '^\$' -bench 'BenchmarkSend|BenchmarkFindDue' -benchtime=$benchtime -count=$count ./sequences/"
echo

go test -run '^$' -bench 'BenchmarkSend$|BenchmarkFindDue' -benchtime="$benchtime" -count="$count" -timeout 20m ./sequences/ | tee "$out"

# Survey pages: opening a link against net/http serving the same bytes, and
# answers recorded in SQLite.
echo
echo "command: go test -run '^\$' -bench 'BenchmarkSurvey' -benchtime=$benchtime -count=$count ./web/"
go test -run '^$' -bench 'BenchmarkSurvey' -benchtime="$benchtime" -count="$count" ./web/ | tee -a "$out"

# The recruiting metrics over 10,000 and 100,000 enrollments, and search.
echo
echo "command: go test -run '^\$' -bench 'BenchmarkMetrics' -benchtime=3x -count=1 ./store/"
go test -run '^$' -bench 'BenchmarkMetrics' -benchtime=3x -count=1 ./store/ | tee -a "$out"

# Enrolling through the API against the store directly.
echo
echo "command: go test -run '^\$' -bench 'BenchmarkEnroll' -benchtime=30x -count=$count ./web/api/"
go test -run '^$' -bench 'BenchmarkEnroll' -benchtime=30x -count="$count" ./web/api/ | tee -a "$out"

# Against a real MTA too, when scripts/testenv/start.sh's servers are up
# (source DIR/env.sh first; scripts/test.sh-style environment).
if [ -n "${FOLLOWUP_TEST_SMTP_PORT:-}" ]; then
	echo
	echo "command: go test -run '^\$' -bench 'BenchmarkSendPostfix' -benchtime=${POSTFIX_BENCHTIME:-2000x} -count=$count ./sequences/"
	go test -run '^$' -bench 'BenchmarkSendPostfix' -benchtime="${POSTFIX_BENCHTIME:-2000x}" -count="$count" -timeout 20m ./sequences/ | tee -a "$out"
	# Reading replies: a folder of FOLLOWUP_BENCH_INGEST_N (10,000) replies
	# read raw and by the watcher; 100 replies sent through Postfix, each
	# timed until its enrollment stops. One pass per repetition (1x).
	echo
	echo "command: go test -run '^\$' -bench 'BenchmarkIngest|BenchmarkReplyToStop' -benchtime=1x -count=$count ./inbox/"
	go test -run '^$' -bench 'BenchmarkIngest|BenchmarkReplyToStop' -benchtime=1x -count="$count" -timeout 60m ./inbox/ | tee -a "$out"
else
	echo
	echo "(no FOLLOWUP_TEST_* environment: skipping the comparison against Postfix and the reading benchmarks; start the servers with scripts/testenv/start.sh DIR and source DIR/env.sh)"
fi

if command -v benchstat >/dev/null 2>&1; then
	echo
	benchstat "$out" || true
fi

echo
echo "== summary (medians of $count runs) =="
awk -v strict="${STRICT:-0}" '
# value(u): the number just before the unit u on a benchmark line
function value(u,   i) { for (i = 2; i <= NF; i++) if ($i == u) return $(i-1); return "" }
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
/^BenchmarkSend\/raw/                        { raw[++nraw] = value("msgs/s") + 0 }
/^BenchmarkSend\/full/                       { full[++nfull] = value("msgs/s") + 0 }
/^BenchmarkSendPostfix\/raw/                 { praw[++npraw] = value("msgs/s") + 0 }
/^BenchmarkSendPostfix\/full/                { pfull[++npfull] = value("msgs/s") + 0 }
/^BenchmarkFindDue\/enrollments=100000-/     { s[++ns] = value("ms/op") + 0 }
/^BenchmarkFindDue\/enrollments=1000000-/    { m[++nm] = value("ms/op") + 0 }
/seeded [0-9]+\+[0-9]+ enrollments in/       { sub(/^.*seeded /, "seeded "); seeds = seeds "  " $0 "\n" }
/^BenchmarkIngest\/raw/                      { iraw[++niraw] = value("msgs/s") + 0 }
/^BenchmarkIngest\/full/                     { ifull[++nifull] = value("msgs/s") + 0 }
/^BenchmarkSurveyPage\/static/              { sstat[++nsstat] = value("pages/s") + 0 }
/^BenchmarkSurveyPage\/survey/              { ssurv[++nssurv] = value("pages/s") + 0 }
/^BenchmarkSurveyAnswer/                     { spost[++nspost] = value("posts/s") + 0 }
/^BenchmarkReplyToStop/                      { r50[++nr] = value("p50-ms") + 0; r99[nr] = value("p99-ms") + 0 }
/setup: appended [0-9]+ replies/             { ingestn = $0; sub(/^.*setup: appended /, "", ingestn); sub(/ .*$/, "", ingestn) }
END {
	if (!nraw || !nfull || !ns || !nm) { print "missing benchmark results"; exit 1 }
	r = median(raw, nraw); f = median(full, nfull); pct = 100 * f / r
	a = median(s, ns); b = median(m, nm)
	ok1 = pct >= 80; ok2 = a < 5 && b < 5; ok3 = b <= 2 * a
	printf "sandbox sink (in-process, zero latency):\n"
	printf "send raw  (limit)        %8.0f msgs/s\n", r
	printf "send full (product)      %8.0f msgs/s\n", f
	printf "full / raw               %8.1f %%    target >= 80 %%   %s\n", pct, ok1 ? "met" : "NOT MET"
	if (npraw && npfull) {
		pr = median(praw, npraw); pf = median(pfull, npfull); ppct = 100 * pf / pr
		printf "Postfix sink (real MTA on loopback, STARTTLS + AUTH):\n"
		printf "send raw  (limit)        %8.0f msgs/s\n", pr
		printf "send full (product)      %8.0f msgs/s\n", pf
		printf "full / raw               %8.1f %%    target >= 80 %%   %s\n", ppct, (ppct >= 80) ? "met" : "NOT MET"
	}
	printf "FindDue   100,000        %8.3f ms/op target < 5 ms   %s\n", a, a < 5 ? "met" : "NOT MET"
	printf "FindDue 1,000,000        %8.3f ms/op target < 5 ms   %s\n", b, b < 5 ? "met" : "NOT MET"
	printf "FindDue 1M / 100k        %8.2f x     target flat (<= 2x for 10x rows)   %s\n", b / a, ok3 ? "met" : "NOT MET"
	ok4 = 1; ok5 = 1
	if (niraw && nifull) {
		ir = median(iraw, niraw); ifu = median(ifull, nifull); ipct = 100 * ifu / ir; ok4 = (ipct >= 50)
		printf "Reading replies (Dovecot IMAP, STARTTLS, one connection, %s messages):\n", (ingestn != "") ? ingestn : "N"
		printf "ingest raw  (limit)      %8.0f msgs/s\n", ir
		printf "ingest full (product)    %8.0f msgs/s\n", ifu
		printf "full / raw               %8.1f %%    target >= 50 %%   %s\n", ipct, (ok4 ? "met" : "NOT MET")
	}
	if (nr) {
		a50 = median(r50, nr); a99 = median(r99, nr); ok5 = (a99 < 3000)
		printf "Reply to stopped (SMTP accepted -> Postfix -> LMTP -> Dovecot -> IDLE watcher -> SQLite):\n"
		printf "p50 / p99                %6.0f / %.0f ms   target p99 < 3000 ms   %s\n", a50, a99, (ok5 ? "met" : "NOT MET")
	}
	ok6 = 1
	if (nsstat && nssurv) {
		st = median(sstat, nsstat); su = median(ssurv, nssurv); spct = 100 * su / st; ok6 = (spct >= 50)
		printf "Survey pages (HTTP on loopback, 16 clients):\n"
		printf "static bytes (limit)     %8.0f pages/s\n", st
		printf "survey page (product)    %8.0f pages/s\n", su
		printf "survey / static          %8.1f %%    target >= 50 %%   %s\n", spct, (ok6 ? "met" : "NOT MET")
	}
	if (nspost) printf "survey answers (SQLite)  %8.0f posts/s\n", median(spost, nspost)
	printf "%s", seeds
	if (strict && !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6)) exit 1
}' "$out"
