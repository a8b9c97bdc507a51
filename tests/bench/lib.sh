# Shared helpers of the benchmark scripts; sourced, not run.
#
# Settings, all optional:
#   BENCH_SCRATCH   scratch directory (default build-bench/bench)
#   BENCH_USERS     users in the corpus (default 1000)
#   BENCH_DAYS      days per user (default 30)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=$ROOT/tests/bench
BUILD=$ROOT/build-bench
SCRATCH=${BENCH_SCRATCH:-$BUILD/bench}
CORPUS=$SCRATCH/corpus
RESULTS=$SCRATCH/results
SECRET=$SCRATCH/signing-secret
SYNCD=$BUILD/daemon/terra-syncd
SYNCCTL=$BUILD/tools/terra-syncctl

# The corpus is signed once, when it is generated, so the daemon must accept
# a signature up to this old. A corpus older than CORPUS_MAX_AGE_MIN is
# generated again before use.
SIGNATURE_TOLERANCE_S=86400
CORPUS_MAX_AGE_MIN=720

# PIDs this script started, stopped on exit.
STARTED_PIDS=()

mkdir -p "$SCRATCH" "$RESULTS"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Builds the given targets in Release into build-bench.
build_targets() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target "$@" >/dev/null
}

ensure_secret() {
  if [[ ! -s $SECRET ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$SECRET")
  fi
}

# Generates the corpus unless a recent one exists.
ensure_corpus() {
  ensure_secret
  if [[ -n $(find "$CORPUS/corpus.json" -mmin -"$CORPUS_MAX_AGE_MIN" \
      2>/dev/null) ]]; then
    return
  fi
  log "generating the corpus into $CORPUS"
  rm -rf "$CORPUS"
  "$BUILD/tests/bench/bench-corpus" --fixtures "$ROOT/tests/fixtures" \
    --secret-file "$SECRET" --out "$CORPUS" \
    --users "${BENCH_USERS:-1000}" --days "${BENCH_DAYS:-30}"
}

# Prints the value of a numeric field of a one-line JSON object.
json_number() {
  grep -o "\"$2\":[0-9.eE+-]*" <<<"$1" | head -n1 | cut -d: -f2
}

# Stops a process this script started: SIGTERM, then SIGKILL after 60 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
  STARTED_PIDS=()
}
trap stop_all EXIT

# Waits up to $2 seconds for a line matching $3 in log file $1; prints it.
wait_for_log() {
  local file=$1 seconds=$2 pattern=$3
  for _ in $(seq $((seconds * 10))); do
    if grep -m1 -E "$pattern" "$file" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file" >&2
  return 1
}

# Starts terra-syncd on a new store in directory $1 with extra options
# "${@:2}". Sets DAEMON_PID, DAEMON_PORT and ADMIN_PORT. A command prefix
# (for example valgrind) may be given in DAEMON_WRAPPER.
start_daemon() {
  local dir=$1
  shift
  rm -rf "$dir" && mkdir -p "$dir/store"
  # shellcheck disable=SC2086 # DAEMON_WRAPPER is a word list on purpose.
  ${DAEMON_WRAPPER:-} "$SYNCD" --store "$dir/store" \
    --signing-secret-file "$SECRET" \
    --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    --signature-tolerance "$SIGNATURE_TOLERANCE_S" "$@" \
    >"$dir/daemon.log" 2>&1 &
  DAEMON_PID=$!
  STARTED_PIDS+=("$DAEMON_PID")
  local line
  line=$(wait_for_log "$dir/daemon.log" "${DAEMON_START_TIMEOUT_S:-30}" \
    'listening for webhooks on 127\.0\.0\.1:[0-9]+')
  DAEMON_PORT=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$line" | cut -d: -f2)
  line=$(wait_for_log "$dir/daemon.log" 10 'admin listener .* on 127\.0\.0\.1:')
  ADMIN_PORT=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$line" | cut -d: -f2)
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  while true; do
    port=$(shuf -i 20000-59999 -n 1)
    if [[ -z $(ss -Htln "sport = :$port") ]]; then
      echo "$port"
      return
    fi
  done
}

# Starts nginx, which returns "200 stored" to POST /webhooks/terra, with its own
# configuration, pid file and logs in directory $1. Sets NGINX_PID and
# NGINX_PORT.
start_nginx() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir"
  NGINX_PORT=$(free_port)
  sed -e "s|@PORT@|$NGINX_PORT|" -e "s|@DIR@|$dir|g" \
    "$BENCH_DIR/nginx.conf.in" >"$dir/nginx.conf"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  NGINX_PID=$!
  STARTED_PIDS+=("$NGINX_PID")
  for _ in $(seq 100); do
    [[ -n $(ss -Htln "sport = :$NGINX_PORT") ]] && return 0
    sleep 0.1
  done
  echo "nginx did not start; see $dir/error.log" >&2
  return 1
}

# Prints the peak resident set (VmHWM) of process $1 in KiB.
peak_rss_kib() {
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# Prints the machine a result comes from.
machine_info() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- cores: $(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo |
    cut -d: -f2 | sed 's/^ //')"
  echo "- memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "- disk of $SCRATCH: $(df -hT "$SCRATCH" | awk 'NR == 2 {
    print $1 ", " $2 ", " $3 " total, " $5 " free"}')"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD)"
}
