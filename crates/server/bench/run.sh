#!/usr/bin/env bash
# Load test of the web service on loopback: starts `cryoseed serve --demo` on a new SQLite file
# in a temporary directory, signs in once per user (the login rate limiter is never touched),
# runs wrk with crates/server/bench/load.lua (a mix of reads and audited writes), checks that
# every response was 2xx and every write created its record, verifies the audit chain, and
# stops the service.
#
# Usage (from the workspace root, after `cargo build --release`):
#   crates/server/bench/run.sh [DURATION] [CONNECTIONS] [THREADS]
# Defaults: 30s, 32 connections, 2 wrk threads. Needs wrk (Debian: apt-get install wrk) and curl.
# CRYOSEED_BIN names the binary (default: $CARGO_TARGET_DIR or target, /release/cryoseed);
# CRYOSEED_LOAD_PORT the port (default 18080). CRYOSEED_LOAD_REQUESTS=N stops the run after about
# N responses (each wrk thread stops after its share; wrk still waits out DURATION, so the
# requests/s it prints then mean nothing): a fixed request sequence, for comparing builds by the
# service's CPU time per request, which every run prints (user + system time of the service
# process during the wrk run, from /proc).
set -euo pipefail

duration=${1:-30s}
connections=${2:-32}
threads=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
bin=${CRYOSEED_BIN:-${CARGO_TARGET_DIR:-target}/release/cryoseed}
port=${CRYOSEED_LOAD_PORT:-18080}
base="http://127.0.0.1:$port"

for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed (Debian: apt-get install $tool)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "run.sh: $bin not found; run cargo build --release or set CRYOSEED_BIN" >&2; exit 2; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -INT "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/load.db?mode=rwc"
"$bin" serve --demo --db "$db" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  grep -q "cryoseed serving" "$work/serve.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "run.sh: the service did not start" >&2; exit 1; }
  sleep 0.1
done
grep -q "cryoseed serving" "$work/serve.log" || { echo "run.sh: the service did not start within 60 s" >&2; exit 1; }

password() { awk -v u="$1" '$1 == u && NF == 4 { print $4 }' "$work/serve.log"; }

# Signs in as $1; prints "COOKIE CSRF".
login() {
  local user=$1 pw headers body cookie csrf
  pw=$(password "$user")
  [ -n "$pw" ] || { echo "run.sh: no demo password for $user in the start-up output" >&2; exit 1; }
  headers="$work/$user.headers"
  body=$(curl -sS -D "$headers" -H 'Content-Type: application/json' \
    -d "{\"user_id\":\"$user\",\"password\":\"$pw\"}" "$base/api/session")
  cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(cryoseed_session=[0-9a-f]*\);.*/\1/p' "$headers")
  csrf=$(printf '%s' "$body" | sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p')
  [ -n "$cookie" ] && [ -n "$csrf" ] || { echo "run.sh: sign-in as $user failed: $body" >&2; exit 1; }
  echo "$cookie $csrf"
}

read -r inv_cookie inv_csrf < <(login inv1)
read -r reader_cookie _ < <(login reader1)
read -r adj_cookie _ < <(login adj1)

# The investigator's randomized patients (their full timeline is audited on every read).
patients=$(curl -sS -H "Cookie: $inv_cookie" "$base/api/patients" | tr '{' '\n' \
  | sed -n 's/.*"patient_id":"\([^"]*\)".*"status":"randomized".*/\1/p' | tr '\n' ' ')
[ -n "${patients// /}" ] || { echo "run.sh: inv1 sees no randomized patient" >&2; exit 1; }

count_ae() {
  local n=0 p
  for p in $patients; do
    # The list is paged; X-Total-Count is the patient's stored total.
    n=$((n + $(curl -sS -o /dev/null -D - -H "Cookie: $inv_cookie" "$base/api/patients/$p/adverse-events?limit=1" \
      | tr -d '\r' | sed -n 's/^x-total-count: *//Ip')))
  done
  echo "$n"
}
ae_before=$(count_ae)

# CPU time (user + system, clock ticks) of the service process so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

echo "load test: $connections connections, $threads wrk threads, $duration, patients: $patients"
echo "machine load before: $(uptime)"
export CRYOSEED_INV_COOKIE="$inv_cookie" CRYOSEED_INV_CSRF="$inv_csrf" CRYOSEED_READER_COOKIE="$reader_cookie" \
  CRYOSEED_ADJ_COOKIE="$adj_cookie" CRYOSEED_PATIENTS="$patients"
if [ -n "${CRYOSEED_LOAD_REQUESTS:-}" ]; then
  export CRYOSEED_THREAD_REQUESTS=$(((CRYOSEED_LOAD_REQUESTS + threads - 1) / threads))
fi
ticks_before=$(cpu_ticks)
wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s --latency -s "$here/load.lua" "$base" | tee "$work/wrk.out"
ticks_after=$(cpu_ticks)
echo "machine load after: $(uptime)"
served=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$work/wrk.out")
awk -v t="$((ticks_after - ticks_before))" -v hz="$(getconf CLK_TCK)" -v n="${served:-0}" 'BEGIN {
  printf "service CPU time during the run: %.2f s user + system, %.2f ms per request (%d requests)\n", t / hz, (n > 0 ? 1000 * t / hz / n : 0), n }'

ae_after=$(count_ae)
created=$(sed -n 's/^RESULT .*writes_created=\([0-9]*\).*/\1/p' "$work/wrk.out")
non2xx=$(sed -n 's/^RESULT non2xx=\([0-9]*\).*/\1/p' "$work/wrk.out")
socket_errors=$(sed -n 's/^RESULT .*socket_errors=\([0-9]*\).*/\1/p' "$work/wrk.out")
echo "adverse events stored: $ae_before before, $ae_after after (+$((ae_after - ae_before)); 201 responses: $created)"

kill -INT "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
"$bin" audit verify --db "$db"

status=0
if [ "${non2xx:-1}" != 0 ] || [ "${socket_errors:-1}" != 0 ]; then
  echo "run.sh: INVALID RUN: $non2xx non-2xx responses, $socket_errors socket errors" >&2
  status=1
fi
# A write still in flight when wrk stops may be stored without its 201 being counted.
if [ "$((ae_after - ae_before))" -lt "${created:-0}" ] || [ "$((ae_after - ae_before))" -gt "$((${created:-0} + connections))" ]; then
  echo "run.sh: INVALID RUN: $created writes acknowledged but $((ae_after - ae_before)) stored" >&2
  status=1
fi
exit "$status"
