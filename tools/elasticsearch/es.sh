#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# threatflow's development Elasticsearch 8.14.3 (single node, 127.0.0.1, no X-Pack). See README.md.
#
#   es.sh build                 compile the launcher and copy its jars to target/lib (only when needed)
#   es.sh start  [--port N]     build if needed, start in the background, wait for yellow health
#   es.sh stop   [--port N]     stop the node started on that port and wait for its exit
#   es.sh status [--port N]     show the nodes started by this script (all ports, or just N)
#
# Port: --port N, else $ES_PORT, else 9200. The transport port is the HTTP port + 100.
# Env: ES_HEAP (default 1g), ES_JAVA_OPTS (extra JVM flags), ES_START_TIMEOUT (seconds, default 180),
#      JAVA_HOME (Java 17+; else `java` from PATH).
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="$DIR/data"
TARGET="$DIR/target"
STAMP="$TARGET/.es-build-stamp"
MAIN_CLASS=io.threatflow.deves.DevElasticsearch
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

die() { echo "es.sh: $*" >&2; exit 1; }

usage() {
  sed -n '3,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
}

needs_build() {
  [[ -f "$STAMP" && -d "$TARGET/classes" && -d "$TARGET/lib" ]] || return 0
  [[ -n "$(find "$DIR/pom.xml" "$DIR/src" -newer "$STAMP" -print -quit)" ]]
}

cmd_build() {
  if ! needs_build; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  echo "es.sh: building (mvn package)..." >&2
  rm -f "$STAMP"
  local out
  out="$(mktemp)"
  if ! (cd "$DIR" && mvn -q -B -Dstyle.color=never package) >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    die "build failed"
  fi
  rm -f "$out"
  touch "$STAMP"
}

pid_file() { echo "$DATA/es-$1.pid"; }
out_file() { echo "$DATA/es-$1.out"; }
log_file() { echo "$DATA/logs/threatflow-dev-$1.log"; }

# the pid recorded for the port, if that process is alive and is our launcher for that port
running_pid() {
  local pf pid
  pf="$(pid_file "$1")"
  [[ -f "$pf" ]] || return 1
  pid="$(cat "$pf" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$MAIN_CLASS --port $1 " || return 1
  echo "$pid"
}

http_get() { # url -> body on stdout, non-zero when there is no HTTP answer
  curl -sS --max-time "${2:-5}" "$1" 2>/dev/null
}

print_tail() {
  local port=$1
  echo "---- $(out_file "$port") (last 25 lines) ----" >&2
  tail -n 25 "$(out_file "$port")" >&2 2>/dev/null || true
  echo "---- $(log_file "$port") (last 25 lines; the whole log is there) ----" >&2
  tail -n 25 "$(log_file "$port")" >&2 2>/dev/null || true
}

cmd_start() {
  local port=$1 pid url timeout deadline
  url="http://127.0.0.1:$port"
  if pid="$(running_pid "$port")"; then
    echo "es.sh: already running on port $port (pid $pid): $url"
    return 0
  fi
  if http_get "$url/" 2 >/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use by another process"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 100))") 2>/dev/null; then
    die "transport port $((port + 100)) (http port + 100) is already in use by another process"
  fi
  cmd_build
  mkdir -p "$DATA/logs"
  rm -f "$(pid_file "$port")"
  # Flags: the JVM-level ones a normal Elasticsearch launcher sets (netty, log4j, locale, G1); heap fixed.
  # shellcheck disable=SC2086
  nohup "$JAVA" \
    -Xms"${ES_HEAP:-1g}" -Xmx"${ES_HEAP:-1g}" \
    -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -Xss1m \
    -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Djna.nosys=true \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
    -Djava.locale.providers=SPI,COMPAT \
    -Djava.io.tmpdir="$DATA/home" \
    -Dthreatflow.es.dir="$DIR" \
    ${ES_JAVA_OPTS:-} \
    -cp "$TARGET/classes:$TARGET/lib/*" \
    "$MAIN_CLASS" --port "$port" \
    </dev/null >"$(out_file "$port")" 2>&1 &
  pid=$!
  echo "$pid" >"$(pid_file "$port")"
  timeout="${ES_START_TIMEOUT:-180}"
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$(pid_file "$port")"
      echo "es.sh: Elasticsearch exited during startup" >&2
      print_tail "$port"
      exit 1
    fi
    if http_get "$url/_cluster/health?wait_for_status=yellow&timeout=2s" 5 | grep -q '"status":"\(green\|yellow\)"'; then
      echo "es.sh: Elasticsearch 8.14.3 is up (pid $pid, $((SECONDS + timeout - deadline)) s): $url"
      return 0
    fi
    sleep 1
  done
  echo "es.sh: no yellow health on $url within ${timeout}s; stopping pid $pid" >&2
  print_tail "$port"
  stop_pid "$port" "$pid" >/dev/null || true
  exit 1
}

stop_pid() { # port pid
  local port=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do # 30 s for a clean close
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "es.sh: pid $pid still alive after 30 s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$(pid_file "$port")"
}

cmd_stop() {
  local port=$1 pid
  if ! pid="$(running_pid "$port")"; then
    rm -f "$(pid_file "$port")"
    echo "es.sh: not running on port $port"
    return 0
  fi
  stop_pid "$port" "$pid"
  echo "es.sh: stopped (port $port, pid $pid)"
}

status_one() {
  local port=$1 pid health
  if pid="$(running_pid "$port")"; then
    health="$(http_get "http://127.0.0.1:$port/_cluster/health" 3 | grep -o '"status":"[a-z]*"' || echo 'no answer')"
    echo "port $port: running, pid $pid, http://127.0.0.1:$port, $health"
    return 0
  fi
  echo "port $port: not running"
  return 3
}

cmd_status() {
  local explicit=$1 port any=0 rc=3 f
  if [[ -n "$explicit" ]]; then
    status_one "$explicit"
    return
  fi
  shopt -s nullglob
  for f in "$DATA"/es-*.pid; do
    port="${f##*/es-}"; port="${port%.pid}"
    any=1
    if status_one "$port"; then rc=0; fi
  done
  if ((any == 0)); then
    status_one "${ES_PORT:-9200}"
    return
  fi
  return $rc
}

main() {
  local cmd="${1:-}" port="" explicit=""
  [[ $# -gt 0 ]] && shift
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) [[ $# -ge 2 ]] || die "--port needs a value"; explicit="$2"; shift 2 ;;
      --port=*) explicit="${1#--port=}"; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  port="${explicit:-${ES_PORT:-9200}}"
  [[ "$port" =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65435)) || die "bad port: $port"
  case "$cmd" in
    build) cmd_build ;;
    start) cmd_start "$port" ;;
    stop) cmd_stop "$port" ;;
    status) cmd_status "${explicit:-${ES_PORT:-}}" ;;
    -h|--help|help|"") usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
