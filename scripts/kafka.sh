#!/usr/bin/env bash
# scripts/kafka.sh — a real single-node Apache Kafka broker (KRaft) for local
# development and CI, without Docker.
#
# Owns: fetching the broker's jars from Maven Central with Maven into
#   ${MAXX_CACHE_DIR:-$HOME/.cache/maxx}/kafka/<version>/libs,
# the per-port state under ${MAXX_CACHE_DIR:-$HOME/.cache/maxx}/kafka/run/<port>/
# (lock, pid, data_dir, log_file), and each broker's throw-away data directory
# (created with mktemp, removed by `stop`).
#
# Needs: java (17+), mvn (first start of a version only), python3, flock.
# Run `scripts/kafka.sh --help` for usage.
set -euo pipefail

readonly DEFAULT_KAFKA_VERSION="4.1.2"
readonly LOG4J2_VERSION="2.24.3"        # log4j2 line used by Kafka 4.x
readonly SLF4J_VERSION="1.7.36"         # slf4j-api pinned by Kafka's own pom
readonly DEPENDENCY_PLUGIN_VERSION="3.8.1"
readonly STOP_GRACE_SECONDS=20

PROG=$(basename "$0")
SELF=$0

usage() {
  cat <<EOF
Usage: $SELF start|stop|restart|status|--help

Runs a real single-node Apache Kafka broker (KRaft mode, no ZooKeeper, no
Docker) on 127.0.0.1, with settings fit for tests: replication factor 1
everywhere (transactions work), no topic auto-creation, no rebalance delay.

Commands:
  start    Fetch the broker jars on first use (Maven Central, via mvn), format
           fresh storage in a new temporary directory, start the broker in the
           background and wait until it answers Kafka requests. Prints ONLY the
           bootstrap address (127.0.0.1:<port>) on stdout; progress goes to
           stderr. If this script's broker already runs on the port, just
           prints its address. Safe to call concurrently (flock).
  stop     Stop the broker on KAFKA_PORT (SIGTERM, SIGKILL after ${STOP_GRACE_SECONDS}s) and
           remove its data directory. Exit 0 also when none was running.
  restart  Stop the broker on KAFKA_PORT and start it again on the same data
           (topics, offsets and transactions survive): for broker-restart
           tests. Prints the bootstrap address like start.
  status   Print whether the broker on KAFKA_PORT runs (address, pid, data dir,
           log). Exit 0 if running, 3 if not.

Environment:
  KAFKA_PORT             broker (PLAINTEXT) port                 [9092]
  KAFKA_CONTROLLER_PORT  KRaft controller port          [a free port is picked]
  KAFKA_VERSION          Apache Kafka version (Maven Central)    [$DEFAULT_KAFKA_VERSION]
  KAFKA_HEAP             JVM max heap (-Xmx)                     [512m]
  KAFKA_START_TIMEOUT    seconds to wait for the broker to serve [90]
  MAXX_CACHE_DIR         cache root; jars go to \$MAXX_CACHE_DIR/kafka/<version>/libs,
                         per-port state to \$MAXX_CACHE_DIR/kafka/run/<port>/
                                                          [\$HOME/.cache/maxx]

Examples:
  BOOTSTRAP=\$($SELF start)                 # broker on 127.0.0.1:9092
  KAFKA_PORT=19092 $SELF start && KAFKA_PORT=19093 $SELF start   # two side by side
  KAFKA_PORT=19092 $SELF status
  KAFKA_PORT=19092 $SELF stop
  trap '$SELF stop' EXIT                   # in a CI or test script
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- settings --
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_VERSION=${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
CACHE_ROOT="${MAXX_CACHE_DIR:-${HOME:?HOME is not set; set MAXX_CACHE_DIR}/.cache/maxx}/kafka"
HOST=127.0.0.1

is_port() { [[ $1 =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }
is_port "$KAFKA_PORT" || die "KAFKA_PORT must be a port number (1-65535), got '$KAFKA_PORT'"
if [[ -n ${KAFKA_CONTROLLER_PORT:-} ]]; then
  is_port "$KAFKA_CONTROLLER_PORT" || die "KAFKA_CONTROLLER_PORT must be a port number, got '$KAFKA_CONTROLLER_PORT'"
  [[ $KAFKA_CONTROLLER_PORT != "$KAFKA_PORT" ]] || die "KAFKA_CONTROLLER_PORT must differ from KAFKA_PORT"
fi
[[ $KAFKA_START_TIMEOUT =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT must be a number of seconds, got '$KAFKA_START_TIMEOUT'"
[[ $KAFKA_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][A-Za-z0-9.-]+)?$ ]] || die "KAFKA_VERSION looks wrong: '$KAFKA_VERSION'"
[[ $KAFKA_HEAP =~ ^[0-9]+[kKmMgG]?$ ]] || die "KAFKA_HEAP must look like 512m or 1g, got '$KAFKA_HEAP'"

KAFKA_MAJOR=${KAFKA_VERSION%%.*}
LIBS_DIR="$CACHE_ROOT/$KAFKA_VERSION/libs"
RUN_DIR="$CACHE_ROOT/run/$KAFKA_PORT"
PID_FILE="$RUN_DIR/pid"
DATA_FILE="$RUN_DIR/data_dir"
LOGPATH_FILE="$RUN_DIR/log_file"
LOCK_FILE="$RUN_DIR/lock"
ADDRESS="$HOST:$KAFKA_PORT"

# ----------------------------------------------------------------- helpers --
need() { command -v "$1" >/dev/null 2>&1 || die "$2"; }

check_java() {
  need java "java not found: install a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless)"
  local line major
  line=$(java -version 2>&1 | head -n 1)
  major=$(sed -E 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/' <<<"$line")
  # "1.8.0_x" style -> 8
  if [[ ${major%% *} == 1 ]]; then major=${major#* }; else major=${major%% *}; fi
  [[ $major =~ ^[0-9]+$ ]] || { log "warning: cannot read the Java version from: $line"; return 0; }
  local want=17
  (( KAFKA_MAJOR < 4 )) && want=11
  (( major >= want )) || die "java $major found, Kafka $KAFKA_VERSION needs JDK $want+ (java -version: $line)"
}

# Prints the content of a state file, or nothing.
read_state() { if [[ -f $1 ]]; then cat "$1" 2>/dev/null || true; fi; }

# True if $1 is a live process that is a Kafka broker.
is_broker_pid() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
  fi
  return 0
}

running_pid() {
  local pid
  pid=$(read_state "$PID_FILE")
  if is_broker_pid "$pid"; then printf '%s\n' "$pid"; return 0; fi
  return 1
}

# Removes a data dir, but only one this script made (it holds our marker).
remove_data_dir() {
  local dir=$1
  [[ -n $dir && -d $dir && -f $dir/.maxx-kafka ]] || return 0
  rm -rf -- "$dir"
}

clear_state() { rm -f -- "$PID_FILE" "$DATA_FILE" "$LOGPATH_FILE"; }

# Exits 0 if something accepts TCP connections on HOST:$1.
port_in_use() {
  python3 - "$HOST" "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
sys.exit(0)
PY
}

free_port() {
  python3 - "$HOST" <<'PY'
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])
s.close()
PY
}

# Exits 0 when the broker on HOST:$1 really serves Kafka requests: it answers
# ApiVersions v0 and, where the broker supports Metadata v4, a Metadata request
# lists at least one (unfenced) broker.
kafka_ready() {
  python3 - "$HOST" "$1" <<'PY'
import socket, struct, sys

host, port = sys.argv[1], int(sys.argv[2])
CLIENT = b"maxx-kafka-probe"

def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf

def call(sock, api_key, version, cid, body):
    header = struct.pack(">hhih", api_key, version, cid, len(CLIENT)) + CLIENT
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    (size,) = struct.unpack(">i", recv_exact(sock, 4))
    if size < 4 or size > 64 << 20:
        raise ValueError("bad response size")
    data = recv_exact(sock, size)
    (rcid,) = struct.unpack(">i", data[:4])
    if rcid != cid:
        raise ValueError("correlation id mismatch")
    return data[4:]

try:
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(5)
        # ApiVersions v0: empty body.
        data = call(s, 18, 0, 7001, b"")
        (err,) = struct.unpack(">h", data[:2])
        if err != 0:
            sys.exit(1)
        (n,) = struct.unpack(">i", data[2:6])
        versions = {}
        for i in range(n):
            k, lo, hi = struct.unpack(">hhh", data[6 + 6 * i: 12 + 6 * i])
            versions[k] = (lo, hi)
        lo, hi = versions.get(3, (99, -1))
        if not lo <= 4 <= hi:
            sys.exit(0)  # cannot speak Metadata v4; ApiVersions answered, good enough
        # Metadata v4: topics = [] (none), allow_auto_topic_creation = false.
        data = call(s, 3, 4, 7002, struct.pack(">ib", 0, 0))
        (throttle, brokers) = struct.unpack(">ii", data[:8])
        sys.exit(0 if brokers >= 1 else 1)
except Exception:
    sys.exit(1)
PY
}

# ------------------------------------------------------------------- fetch --
write_pom() {
  local pom=$1 logging_deps
  if (( KAFKA_MAJOR >= 4 )); then
    logging_deps="
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J2_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J2_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J2_VERSION</version></dependency>"
  else
    logging_deps="
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>"
  fi
  cat >"$pom" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/kafka.sh: resolves the Kafka broker's runtime jars -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.maxx</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>$logging_deps
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-dependency-plugin</artifactId>
          <version>$DEPENDENCY_PLUGIN_VERSION</version>
        </plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
EOF
}

FETCH_TMP=""
cleanup_fetch() { [[ -n $FETCH_TMP ]] && rm -rf -- "$FETCH_TMP"; FETCH_TMP=""; }

ensure_libs() {
  local marker="$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar"
  [[ -f $marker ]] && return 0
  local vdir="$CACHE_ROOT/$KAFKA_VERSION"
  mkdir -p "$vdir"
  # One fetch per version at a time, also across ports.
  exec 8>"$vdir/.fetch.lock"
  flock 8
  if [[ -f $marker ]]; then exec 8>&-; return 0; fi
  need mvn "mvn not found: install Maven 3.6+ (e.g. apt-get install maven) to fetch the Kafka jars"
  # We hold the fetch lock, so any other .fetch.* is left over from a fetch
  # that was interrupted: drop it.
  find "$vdir" -maxdepth 1 -name '.fetch.*' -type d -exec rm -rf -- {} + 2>/dev/null || true
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR (first use only)"
  FETCH_TMP=$(mktemp -d "$vdir/.fetch.XXXXXX")
  write_pom "$FETCH_TMP/pom.xml"
  if ! (cd "$FETCH_TMP" && mvn -B -q -f pom.xml dependency:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$FETCH_TMP/libs" >"$FETCH_TMP/mvn.log" 2>&1); then
    tail -n 40 "$FETCH_TMP/mvn.log" >&2 || true
    cleanup_fetch
    die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (is the version on Maven Central? is the network up?)"
  fi
  if [[ ! -f $FETCH_TMP/libs/kafka_2.13-$KAFKA_VERSION.jar ]]; then
    cleanup_fetch
    die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing from the fetched jars"
  fi
  rm -rf -- "$LIBS_DIR"        # a leftover without the marker jar is incomplete
  mv -T -- "$FETCH_TMP/libs" "$LIBS_DIR"
  cleanup_fetch
  exec 8>&-
  log "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars"
}

# ---------------------------------------------------------------- commands --
write_configs() {
  local data_dir=$1 cport=$2
  cat >"$data_dir/server.properties" <<EOF
# generated by scripts/kafka.sh — single-node KRaft broker for tests
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$cport
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$cport
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir/kraft-logs
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  if (( KAFKA_MAJOR >= 4 )); then
    cat >"$data_dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $data_dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
  else
    cat >"$data_dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$data_dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  fi
}

log_opts() {
  local data_dir=$1
  if (( KAFKA_MAJOR >= 4 )); then
    printf '%s\n' "-Dlog4j2.configurationFile=$data_dir/log4j2.properties"
  else
    printf '%s\n' "-Dlog4j.configuration=file:$data_dir/log4j.properties"
  fi
}

print_log_tail() {
  local data_dir=$1 f
  for f in "$data_dir/server.log" "$data_dir/kafka.out"; do
    [[ -s $f ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2 || true
  done
}

# Kills a broker we failed to bring up and drops its state, keeping a copy of
# its logs in $RUN_DIR/last-failure.log.
abandon_start() {
  local pid=$1 data_dir=$2
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  cat "$data_dir/kafka.out" "$data_dir/server.log" >"$RUN_DIR/last-failure.log" 2>/dev/null || true
  remove_data_dir "$data_dir"
  clear_state
}

# Waits until the broker serves requests; returns 1 on timeout, 2 if it died.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while :; do
    kill -0 "$pid" 2>/dev/null || return 2
    kafka_ready "$KAFKA_PORT" && return 0
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}

lock_run_dir() {
  mkdir -p "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "waiting for another $PROG on port $KAFKA_PORT to finish..."
    flock 9
  fi
}

cmd_start() {
  need python3 "python3 not found: install Python 3 (used to probe ports and the broker)"
  need flock "flock not found: install util-linux"
  lock_run_dir

  local pid data_dir rc
  if pid=$(running_pid); then
    data_dir=$(read_state "$DATA_FILE")
    rc=0; wait_ready "$pid" || rc=$?
    if (( rc == 0 )); then
      log "broker already running on $ADDRESS (pid $pid)"
      printf '%s\n' "$ADDRESS"
      return 0
    fi
    log "broker pid $pid on port $KAFKA_PORT does not serve requests; restarting it"
    print_log_tail "$data_dir"
    kill -TERM "$pid" 2>/dev/null || true
    sleep 2
    abandon_start "$pid" "$data_dir"
  else
    # Stale state from a crashed broker or a reboot.
    remove_data_dir "$(read_state "$DATA_FILE")"
    clear_state
  fi

  if port_in_use "$KAFKA_PORT"; then
    die "port $KAFKA_PORT on $HOST is in use by another process (not a broker of $PROG); pick another KAFKA_PORT"
  fi
  check_java
  ensure_libs

  local cport=${KAFKA_CONTROLLER_PORT:-}
  [[ -n $cport ]] || cport=$(free_port)
  if port_in_use "$cport"; then
    die "controller port $cport on $HOST is in use; set KAFKA_CONTROLLER_PORT to a free port"
  fi

  data_dir=$(mktemp -d "${TMPDIR:-/tmp}/maxx-kafka-$KAFKA_PORT.XXXXXX")
  : >"$data_dir/.maxx-kafka"
  printf '%s\n' "$data_dir" >"$DATA_FILE"
  printf '%s\n' "$data_dir/server.log" >"$LOGPATH_FILE"
  write_configs "$data_dir" "$cport"

  local logopt cluster_id
  logopt=$(log_opts "$data_dir")
  cluster_id=$(java -cp "$LIBS_DIR/*" "$logopt" kafka.tools.StorageTool random-uuid 2>"$data_dir/format.out" | tail -n 1) \
    || { cat "$data_dir/format.out" >&2; abandon_start "" "$data_dir"; die "kafka.tools.StorageTool random-uuid failed"; }
  if ! java -cp "$LIBS_DIR/*" "$logopt" kafka.tools.StorageTool format --ignore-formatted \
        -t "$cluster_id" -c "$data_dir/server.properties" >>"$data_dir/format.out" 2>&1; then
    cat "$data_dir/format.out" >&2
    abandon_start "" "$data_dir"
    die "formatting KRaft storage failed"
  fi

  log "starting Kafka $KAFKA_VERSION on $ADDRESS (controller port $cport, data $data_dir)"
  launch_broker "$data_dir" "$logopt"
}

# Starts the JVM on an already formatted data directory and waits until it serves.
launch_broker() {
  local data_dir=$1 logopt=$2 pid rc
  rm -f -- "$PID_FILE"
  # setsid: own session, so the broker survives the caller's terminal/job.
  # 9>&- : the broker must not inherit (and so hold) the lock.
  # shellcheck disable=SC2016  # $$, $0 and $@ are expanded by the inner sh
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java "-Xmx$KAFKA_HEAP" -Xms64m -Djava.awt.headless=true \
    -Dkafka.logs.dir="$data_dir" "$logopt" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$data_dir/server.properties" \
    </dev/null >>"$data_dir/kafka.out" 2>&1 9>&- &
  local launcher=$!
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $PID_FILE ]] && break
    sleep 0.1
  done
  pid=$(read_state "$PID_FILE")
  [[ -n $pid ]] || pid=$launcher

  rc=0; wait_ready "$pid" || rc=$?
  if (( rc != 0 )); then
    if (( rc == 2 )); then
      log "the broker exited during startup"
    else
      log "the broker did not serve requests within ${KAFKA_START_TIMEOUT}s (KAFKA_START_TIMEOUT)"
    fi
    print_log_tail "$data_dir"
    abandon_start "$pid" "$data_dir"
    die "Kafka failed to start on $ADDRESS; its logs are kept in $RUN_DIR/last-failure.log"
  fi
  log "Kafka $KAFKA_VERSION ready on $ADDRESS (pid $pid)"
  printf '%s\n' "$ADDRESS"
}

# Stops the JVM of the broker with pid $1: SIGTERM, then SIGKILL after the grace period.
terminate_broker() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_GRACE_SECONDS))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker did not stop within ${STOP_GRACE_SECONDS}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
}

cmd_restart() {
  need python3 "python3 not found: install Python 3 (used to probe ports and the broker)"
  need flock "flock not found: install util-linux"
  [[ -d $RUN_DIR ]] || die "no broker on port $KAFKA_PORT to restart; use start"
  lock_run_dir
  local pid data_dir
  data_dir=$(read_state "$DATA_FILE")
  [[ -n $data_dir && -f $data_dir/server.properties ]] || die "no data directory of a broker on port $KAFKA_PORT; use start"
  if pid=$(running_pid); then
    log "stopping broker on $ADDRESS (pid $pid), keeping its data"
    terminate_broker "$pid"
  fi
  check_java
  log "restarting Kafka $KAFKA_VERSION on $ADDRESS (data $data_dir)"
  launch_broker "$data_dir" "$(log_opts "$data_dir")"
}

cmd_stop() {
  need flock "flock not found: install util-linux"
  if [[ ! -d $RUN_DIR ]]; then
    log "no broker on port $KAFKA_PORT"
    return 0
  fi
  lock_run_dir
  local pid data_dir
  data_dir=$(read_state "$DATA_FILE")
  if pid=$(running_pid); then
    log "stopping broker on $ADDRESS (pid $pid)"
    terminate_broker "$pid"
  else
    log "no broker running on port $KAFKA_PORT"
  fi
  remove_data_dir "$data_dir"
  clear_state
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    local ready=no
    if command -v python3 >/dev/null 2>&1 && kafka_ready "$KAFKA_PORT"; then ready=yes; fi
    printf 'running: %s pid=%s ready=%s data_dir=%s log=%s\n' \
      "$ADDRESS" "$pid" "$ready" "$(read_state "$DATA_FILE")" "$(read_state "$LOGPATH_FILE")"
    return 0
  fi
  printf 'not running: no broker of %s on port %s\n' "$PROG" "$KAFKA_PORT"
  return 3
}

main() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_restart ;;
    status) cmd_status ;;
    -h|--help|help|"") usage ;;
    *) usage >&2; die "unknown command: $1" ;;
  esac
}

trap cleanup_fetch EXIT
main "$@"
