#!/usr/bin/env bash
# Labelstream local infrastructure stack, without Docker.
#
#   stack.sh up                 start Kafka (KRaft), Apicurio schema registry, Redis
#   stack.sh down [--purge]     stop what `up` started (--purge: also delete data)
#   stack.sh status             state, pid, port and health of each component
#   stack.sh logs [kafka|registry|redis] [-f] [-n N]
#   stack.sh env                `export` lines for eval "$(stack.sh env)"
#   stack.sh kafka <tool> ...   Kafka CLI (topics, groups, console-consumer,
#                               console-producer, offsets) against the broker
#
# Every command takes --secure (or LABELSTREAM_SECURE=1): the secure profile, with
# SASL_SSL/SCRAM Kafka and TLS + ACL Redis, in its own stack dir and on its own ports, so
# it runs beside the default stack (deploy/local/secure.sh).
# up, down, status and env take --cluster (or LABELSTREAM_CLUSTER=1): Redis as a 3-master,
# 3-replica Redis Cluster (deploy/local/cluster.sh) on REDIS_CLUSTER_PORT…+5 (7001–7006);
# `env --cluster` prints REDIS_URL=redis+cluster://….
#
# See deploy/local/README.md for versions, ports, env vars and troubleshooting.
# shellcheck disable=SC2016 # the bash -c '...' snippets expand their own "$@"
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

SECURE=0
case ${LABELSTREAM_SECURE:-0} in 1 | true | yes) SECURE=1 ;; esac
CLUSTER=0
case ${LABELSTREAM_CLUSTER:-0} in 1 | true | yes) CLUSTER=1 ;; esac
ARGS=()
for arg in "$@"; do
  case $arg in
    --secure) SECURE=1 ;;
    --cluster) CLUSTER=1 ;;
    *) ARGS+=("$arg") ;;
  esac
done
set -- "${ARGS[@]}"

# ---------------------------------------------------------------- settings --
# Kafka: LABELSTREAM_KAFKA_VERSION picks the release (see kafka_version_settings below).
KAFKA_VERSION=${LABELSTREAM_KAFKA_VERSION:-4}
# Apicurio 3.0.x is the newest line that runs on Java 17 (3.3.x needs Java 21).
APICURIO_VERSION=${LABELSTREAM_APICURIO_VERSION:-3.0.9}

CACHE_DIR=${LABELSTREAM_CACHE:-${HOME:-/tmp}/.cache/labelstream}
HOST=127.0.0.1
if ((SECURE)); then
  # Own variables, so settings meant for the default stack never point both at one place.
  STACK_DIR=${LABELSTREAM_SECURE_STACK_DIR:-$REPO_ROOT/.stack-secure}
  KAFKA_PORT=${SECURE_KAFKA_PORT:-29092}
  KAFKA_CONTROLLER_PORT=${SECURE_KAFKA_CONTROLLER_PORT:-29093}
  REGISTRY_PORT=${SECURE_REGISTRY_PORT:-28081}
  REDIS_PORT=${SECURE_REDIS_PORT:-26380}
  EXTERNAL_REDIS_URL=
else
  STACK_DIR=${LABELSTREAM_STACK_DIR:-$REPO_ROOT/.stack}
  KAFKA_PORT=${KAFKA_PORT:-9092}
  KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
  REGISTRY_PORT=${REGISTRY_PORT:-8081}
  REDIS_PORT=${REDIS_PORT:-6380}
  EXTERNAL_REDIS_URL=${LABELSTREAM_REDIS_URL:-}
fi
# The one size setting (as ingest reads it): the largest record a raw topic accepts. The
# broker's default topic limit is rendered from it; ingest derives its raw topics, its DLQ
# (this plus header room) and its fetch size from the same variable (`stack.sh env`).
RAW_MAX_RECORD_BYTES=${RAW_MAX_RECORD_BYTES:-2097152}
[[ $RAW_MAX_RECORD_BYTES =~ ^[0-9]+$ ]] || { printf '[stack] ERROR: RAW_MAX_RECORD_BYTES must be a number of bytes\n' >&2; exit 1; }
HEALTH_TIMEOUT=${LABELSTREAM_HEALTH_TIMEOUT:-60}
STOP_TIMEOUT=${LABELSTREAM_STOP_TIMEOUT:-30}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}
REGISTRY_HEAP_OPTS=${REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m}
# Registry-wide compatibility, set with PUT /config once the registry is healthy (on
# every `up`, also when it already runs): BACKWARD, as Confluent's default, so that a
# team's first raw subject is protected without anyone PUTting a level by hand (Apicurio
# starts with no global rule, i.e. NONE). Empty = leave the registry's global level as it
# is. Caveat: with a global level set, a subject's PUT /config/<subject>
# {"compatibility":"NONE"} does NOT relax it (Apicurio treats NONE as "no subject rule"
# and falls back to the global one); a subject may choose another real level (FORWARD, FULL…).
REGISTRY_COMPATIBILITY=${REGISTRY_COMPATIBILITY-BACKWARD}
[[ -z $REGISTRY_COMPATIBILITY || $REGISTRY_COMPATIBILITY =~ ^(NONE|BACKWARD|BACKWARD_TRANSITIVE|FORWARD|FORWARD_TRANSITIVE|FULL|FULL_TRANSITIVE)$ ]] ||
  { printf '[stack] ERROR: REGISTRY_COMPATIBILITY must be empty or a Confluent compatibility level (BACKWARD, FULL, …), not %s\n' "$REGISTRY_COMPATIBILITY" >&2; exit 1; }
# Kafka topics in which the registry keeps its state (Apicurio "kafkasql").
REGISTRY_TOPIC_PREFIX=${REGISTRY_TOPIC_PREFIX:-_registry}

# ------------------------------------------------------------ kafka version --
# One stack runs one Kafka release. LABELSTREAM_KAFKA_VERSION takes a release (4.4.0, 3.9.2)
# or a line: 4 (the default) or 3, each the newest release of that line the project tests.
# Both lines are tested (scripts/test.sh runs the integration suite on the other line too).
KAFKA_LINE_4=4.4.0
KAFKA_LINE_3=3.9.2
kafka_version_settings() {
  case $KAFKA_VERSION in
    4) KAFKA_VERSION=$KAFKA_LINE_4 ;;
    3) KAFKA_VERSION=$KAFKA_LINE_3 ;;
  esac
  [[ $KAFKA_VERSION =~ ^[34]\.[0-9]+\.[0-9]+$ ]] ||
    { printf '[stack] ERROR: LABELSTREAM_KAFKA_VERSION must be 4, 3 or a 3.x/4.x release (4.4.0, 3.9.2), not %s\n' "$KAFKA_VERSION" >&2; exit 1; }
  KAFKA_MAJOR=${KAFKA_VERSION%%.*}
  # The logging binding its binary distribution ships (kafka/pom.xml profiles), the config
  # files for the broker and the CLI tools, and the class of the console producer (it moved
  # from core to kafka-tools in 4.0).
  if ((KAFKA_MAJOR >= 4)); then
    KAFKA_LOGGING=log4j2
    KAFKA_LOG_OPT=(-Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/log4j2.properties")
    KAFKA_TOOLS_LOG_OPT=(-Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/tools-log4j2.properties")
    KAFKA_CONSOLE_PRODUCER=org.apache.kafka.tools.ConsoleProducer
  else
    KAFKA_LOGGING=log4j1
    KAFKA_LOG_OPT=(-Dlog4j.configuration="file:$SCRIPT_DIR/kafka/log4j.properties")
    KAFKA_TOOLS_LOG_OPT=(-Dlog4j.configuration="file:$SCRIPT_DIR/kafka/tools-log4j.properties")
    KAFKA_CONSOLE_PRODUCER=kafka.tools.ConsoleProducer
  fi
}
kafka_version_settings

KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
REGISTRY_HOME="$CACHE_DIR/apicurio-registry-$APICURIO_VERSION"
REGISTRY_JAR="$REGISTRY_HOME/apicurio-registry-app-$APICURIO_VERSION-runner.jar"

DATA_DIR="$STACK_DIR/data"
LOG_DIR="$STACK_DIR/logs"
PID_DIR="$STACK_DIR/pids"
CONF_DIR="$STACK_DIR/conf"
KAFKA_DATA="$DATA_DIR/kafka"
REGISTRY_DATA="$DATA_DIR/registry"
REDIS_DATA="$DATA_DIR/redis"
KAFKA_CONF="$CONF_DIR/kafka-server.properties"

COMPONENTS=(kafka registry redis)

# ----------------------------------------------------------------- helpers --
log() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

now() { date +%s; }

# Last lines of a component's log, for failure reports.
show_log_tail() {
  local name=$1 file="$LOG_DIR/$1.log"
  if [[ -s $file ]]; then
    printf '[stack] ---- last 30 lines of %s ----\n' "$file" >&2
    tail -n 30 "$file" >&2 || true
    printf '[stack] ---- end of %s log ----\n' "$name" >&2
  else
    printf '[stack] (no log output in %s)\n' "$file" >&2
  fi
}

fail_component() {
  local name=$1
  shift
  printf '[stack] ERROR: %s: %s\n' "$name" "$*" >&2
  show_log_tail "$name"
  printf '[stack] hint: `stack.sh status`, `stack.sh logs %s`, `stack.sh down`\n' "$name" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# TCP connect test (no curl/nc needed).
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" >/dev/null 2>&1
}

# "STATE STARTTIME" of a process from /proc/PID/stat. The start time (clock
# ticks since boot) guards against a pid file matching an unrelated process
# that reused the pid; the state lets us treat zombies (Z/X) as dead.
proc_stat() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  printf '%s %s\n' "$1" "${20}"
}

proc_start() {
  local st
  st=$(proc_stat "$1") || return 1
  printf '%s\n' "${st#* }"
}

# alive = exists and is not a zombie waiting to be reaped
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(proc_stat "$1") || return 0 # no /proc: trust kill -0
  [[ ${st%% *} != [ZX] ]]
}

pid_file() { printf '%s/%s.pid\n' "$PID_DIR" "$1"; }

# Prints the pid of a component that `up` started and that is still alive.
running_pid() {
  local file pid start cur
  file=$(pid_file "$1")
  [[ -f $file ]] || return 1
  read -r pid start <"$file" || true
  [[ ${pid:-} =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  if [[ -n ${start:-} && -r /proc/$pid/stat ]]; then
    cur=$(proc_start "$pid") || return 1
    [[ $cur == "$start" ]] || return 1
  fi
  printf '%s\n' "$pid"
}

# Start a command detached (own session, immune to SIGHUP), output appended to
# the component log; writes "PID STARTTIME" to the pid file.
launch() {
  local name=$1
  shift
  local logf="$LOG_DIR/$name.log" pidf tmp pid start i
  pidf=$(pid_file "$name")
  tmp="$pidf.launch"
  rm -f "$tmp"
  # keep logs from growing without bound across many restarts
  if [[ -f $logf ]] && (($(stat -c %s "$logf" 2>/dev/null || echo 0) > 50 * 1024 * 1024)); then
    mv -f "$logf" "$logf.1"
  fi
  printf '\n===== %s: stack.sh starting %s =====\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$name" >>"$logf"
  local detach=()
  have setsid && detach=(setsid)
  "${detach[@]}" nohup bash -c 'echo "$$" >"$0"; exec "$@"' "$tmp" "$@" >>"$logf" 2>&1 </dev/null 9>&- &
  for ((i = 0; i < 100; i++)); do
    [[ -s $tmp ]] && break
    sleep 0.05
  done
  [[ -s $tmp ]] || fail_component "$name" "process did not start"
  read -r pid <"$tmp"
  rm -f "$tmp"
  start=$(proc_start "$pid" 2>/dev/null || true)
  printf '%s %s\n' "$pid" "$start" >"$pidf"
  printf '%s\n' "$pid"
}

# Bounded wait until "$check" succeeds; fails early if the process dies.
wait_healthy() {
  local name=$1 check=$2 what=$3 pid=${4:-}
  local deadline=$(($(now) + HEALTH_TIMEOUT))
  while :; do
    if "$check"; then
      return 0
    fi
    if [[ -n $pid ]] && ! alive "$pid"; then
      fail_component "$name" "process $pid exited during startup ($what never succeeded)"
    fi
    if (($(now) >= deadline)); then
      fail_component "$name" "not healthy after ${HEALTH_TIMEOUT}s ($what)"
    fi
    sleep 0.5
  done
}

ensure_dirs() {
  mkdir -p "$KAFKA_DATA" "$REGISTRY_DATA" "$REDIS_DATA" "$LOG_DIR" "$PID_DIR" "$CONF_DIR"
  # keep the stack dir out of git without touching the repo's .gitignore
  [[ -f $STACK_DIR/.gitignore ]] || printf '*\n' >"$STACK_DIR/.gitignore"
}

# Serialise concurrent up/down runs (flock is in util-linux; skip if absent).
take_lock() {
  have flock || return 0
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 300 9 || die "another stack.sh is running (lock $STACK_DIR/.lock)"
}

# Extra curl arguments for the registry's admin calls (the secure profile's credentials).
REGISTRY_CURL_ARGS=()
# The secure profile's functions (secure_*); it needs the helpers above.
if ((SECURE)); then
  # shellcheck source=deploy/local/secure.sh
  source "$SCRIPT_DIR/secure.sh"
fi

# The Redis Cluster profile's functions (cluster_*), data in the stack dir.
CLUSTER_DIR="$DATA_DIR/redis-cluster"
# shellcheck source=deploy/local/cluster.sh
source "$SCRIPT_DIR/cluster.sh"
((CLUSTER && SECURE)) && die "--cluster and --secure do not combine yet (the cluster nodes speak neither TLS nor ACLs)"
((CLUSTER)) && COMPONENTS=(kafka registry) # the cluster's nodes have their own lines in status

# ------------------------------------------------------------ prerequisites --
JAVA=java
find_java() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    JAVA="$JAVA_HOME/bin/java"
  elif have java; then
    JAVA=java
  else
    die "java not found: install a JDK/JRE 17+ (Debian: apt-get install -y openjdk-17-jre-headless)"
  fi
  local ver major
  ver=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  major=${ver%%.*}
  [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$ver")
  if ! [[ $major =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "Java 17+ required, found '${ver:-unknown}' ($JAVA)"
  fi
}

as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

apt_install() {
  have apt-get || return 1
  log "installing $* with apt-get…"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q --no-install-recommends "$@" ||
    { as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends "$@"; }
}

ensure_redis_server() {
  have redis-server && return 0
  apt_install redis-server ||
    die "redis-server not found and could not be installed (as root: apt-get install -y redis-server), or set LABELSTREAM_REDIS_URL"
  have redis-server || die "redis-server still not on PATH after install"
}

ensure_mvn() {
  have mvn || die "mvn (Maven 3.6+) is needed to fetch the jars on first run (Debian: apt-get install -y maven)"
}

# Run maven quietly, echoing only the download lines of the payload we asked
# for (Kafka / Apicurio artifacts) and any errors; the full output is kept.
run_maven() {
  local mlog=$1
  shift
  if ! mvn -B -C "$@" 2>&1 | tee "$mlog" |
    { grep --line-buffered -E 'Downloaded from .*/(org/apache/kafka|io/apicurio)/.*\.(jar|tar\.gz) |\[ERROR\]|BUILD FAILURE' || true; }; then
    printf '[stack] ---- last 30 lines of %s ----\n' "$mlog" >&2
    tail -n 30 "$mlog" >&2 || true
    die "maven failed (full output: $mlog)"
  fi
  log "maven: $(grep -c 'Downloaded from' "$mlog" || true) files downloaded (full output: $mlog)"
}

pom_sum() { cksum <"$SCRIPT_DIR/kafka/pom.xml" | cut -d' ' -f1; }

fetch_kafka() {
  local marker="$KAFKA_HOME/.complete" want
  want="kafka=$KAFKA_VERSION logging=$KAFKA_LOGGING pom=$(pom_sum)"
  if [[ -f $marker && $(cat "$marker") == "$want" ]]; then
    return 0
  fi
  ensure_mvn
  log "downloading Kafka $KAFKA_VERSION jars with maven (first run only)…"
  local t0 mlog
  t0=$(now)
  mkdir -p "$CACHE_DIR"
  mlog="$CACHE_DIR/maven-kafka-$KAFKA_VERSION.log"
  rm -rf "$KAFKA_HOME.tmp"
  run_maven "$mlog" -f "$SCRIPT_DIR/kafka/pom.xml" \
    dependency:copy-dependencies -P "$KAFKA_LOGGING" \
    -Dkafka.version="$KAFKA_VERSION" \
    -DoutputDirectory="$KAFKA_HOME.tmp/libs"
  [[ -f $KAFKA_HOME.tmp/libs/kafka_2.13-$KAFKA_VERSION.jar ]] ||
    die "maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing (see $mlog)"
  rm -rf "$KAFKA_HOME"
  mv "$KAFKA_HOME.tmp" "$KAFKA_HOME"
  printf '%s\n' "$want" >"$marker"
  log "Kafka $KAFKA_VERSION: $(find "$KAFKA_HOME/libs" -name '*.jar' | wc -l) jars in $KAFKA_HOME/libs ($(($(now) - t0))s)"
}

fetch_registry() {
  local marker="$REGISTRY_HOME/.complete"
  if [[ -f $marker && -f $REGISTRY_JAR ]]; then
    return 0
  fi
  ensure_mvn
  log "downloading Apicurio Registry $APICURIO_VERSION (~110 MB, first run only)…"
  local t0 mlog tmp archive
  t0=$(now)
  mkdir -p "$CACHE_DIR"
  mlog="$CACHE_DIR/maven-apicurio-$APICURIO_VERSION.log"
  tmp="$REGISTRY_HOME.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp/dl"
  # maven-dependency-plugin 2.8 on purpose: 3.x refuses this artifact because
  # its parent POM (io.apicurio:apicurio-registry:3.0.x) is not on Central;
  # 2.8 only warns. Run from $tmp so no project POM is picked up.
  (cd "$tmp" && run_maven "$mlog" \
    org.apache.maven.plugins:maven-dependency-plugin:2.8:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$tmp/dl")
  archive="$tmp/dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  [[ -f $archive ]] || die "maven finished but $archive is missing (see $mlog)"
  log "extracting $(basename "$archive")…"
  tar -xzf "$archive" -C "$tmp"
  rm -rf "$tmp/dl"
  [[ -f $tmp/$(basename "$REGISTRY_JAR") ]] || die "unexpected archive layout: no $(basename "$REGISTRY_JAR")"
  rm -rf "$REGISTRY_HOME"
  mv "$tmp" "$REGISTRY_HOME"
  printf 'apicurio=%s\n' "$APICURIO_VERSION" >"$marker"
  log "Apicurio Registry $APICURIO_VERSION in $REGISTRY_HOME ($(($(now) - t0))s)"
}

# -------------------------------------------------------------------- kafka --
# Real protocol round trip without a JVM: a Kafka Metadata v1 request (no
# topics) over /dev/tcp; healthy when the reply has our correlation id and
# lists at least one live broker.
kafka_probe() {
  if ((SECURE)); then
    secure_kafka_probe
    return
  fi
  local hex
  hex=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x10\x00\x03\x00\x01\x00\x00\x00\x2a\x00\x02ls\x00\x00\x00\x00" >&3
    head -c 12 <&3 | od -An -tx1 | tr -d " \n"
  ' "$HOST" "$KAFKA_PORT" 2>/dev/null) || return 1
  # 4 bytes size, 4 bytes correlation id (42), 4 bytes broker count (>0)
  [[ ${#hex} == 24 && ${hex:8:8} == 0000002a && ${hex:16:8} != 00000000 ]]
}

render_kafka_conf() {
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" \
    -e "s#@KAFKA_CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#@KAFKA_LOG_DIR@#$KAFKA_DATA#g" \
    -e "s#@RAW_MAX_RECORD_BYTES@#$RAW_MAX_RECORD_BYTES#g" \
    "$SCRIPT_DIR/kafka/server.properties.tmpl" >"$KAFKA_CONF"
  if ((SECURE)); then
    secure_kafka_conf >>"$KAFKA_CONF"
  fi
}

# Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. One in 64
# begins with '-', which the format tool would read as an option: draw again, as Kafka's
# own Uuid.randomUuid() does (and pass it as --cluster-id=<id> besides).
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || break
  done
  printf '%s\n' "$id"
}

# The broker JVM command line (also used for the one-off storage format).
kafka_java_cmd() {
  # shellcheck disable=SC2206 # KAFKA_HEAP_OPTS is a list of JVM flags
  KAFKA_JAVA=("$JAVA" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    "${KAFKA_LOG_OPT[@]}"
    -Dkafka.logs.dir="$LOG_DIR"
    -Dlabelstream.stack=kafka
    -cp "$KAFKA_HOME/libs/*")
}

# The release a running broker was started with (written at launch), and the release that
# formatted the data dir. A 4.x-formatted log (metadata.version 4.x) cannot be read by 3.x;
# a 3.x-formatted one runs on 4.x (Kafka's upgrade path).
KAFKA_RUNNING_VERSION_FILE="$PID_DIR/kafka.version"
KAFKA_FORMATTED_BY_FILE="$KAFKA_DATA/.labelstream-formatted-by"
kafka_version_guard() {
  local running formatted
  if running_pid kafka >/dev/null; then
    running=$(cat "$KAFKA_RUNNING_VERSION_FILE" 2>/dev/null || echo unknown)
    [[ $running == "$KAFKA_VERSION" ]] ||
      warn "kafka: the running broker is Kafka $running, not $KAFKA_VERSION: \`stack.sh down\` first to switch"
    return 0
  fi
  formatted=$(cat "$KAFKA_FORMATTED_BY_FILE" 2>/dev/null || true)
  if [[ -f $KAFKA_DATA/meta.properties && ${formatted%%.*} == 4 ]] && ((KAFKA_MAJOR < 4)); then
    die "kafka: $KAFKA_DATA was formatted by Kafka $formatted, which Kafka $KAFKA_VERSION cannot read: \`stack.sh down --purge\`, or another LABELSTREAM_STACK_DIR"
  fi
}

start_kafka() {
  local pid t0
  if pid=$(running_pid kafka); then
    log "kafka: already running (pid $pid)"
    wait_healthy kafka kafka_probe "metadata request to $HOST:$KAFKA_PORT" "$pid"
    return 0
  fi
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$HOST" "$p" &&
      die "kafka: port $p is already in use by a process stack.sh did not start (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  done
  fetch_kafka
  render_kafka_conf
  kafka_java_cmd
  if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
    local cid
    cid=$(new_cluster_id)
    log "kafka: formatting KRaft storage in $KAFKA_DATA (cluster id $cid)"
    KAFKA_FORMAT_ARGS=()
    ((SECURE)) && secure_format_args
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --cluster-id="$cid" -c "$KAFKA_CONF" --ignore-formatted \
      "${KAFKA_FORMAT_ARGS[@]}" >>"$LOG_DIR/kafka.log" 2>&1 || fail_component kafka "kafka-storage format failed"
    printf '%s\n' "$KAFKA_VERSION" >"$KAFKA_FORMATTED_BY_FILE"
  fi
  t0=$(now)
  pid=$(launch kafka "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_CONF")
  printf '%s\n' "$KAFKA_VERSION" >"$KAFKA_RUNNING_VERSION_FILE"
  log "kafka: started Kafka $KAFKA_VERSION (pid $pid), waiting for $HOST:$KAFKA_PORT…"
  wait_healthy kafka kafka_probe "metadata request to $HOST:$KAFKA_PORT" "$pid"
  log "kafka: healthy ($(($(now) - t0))s)"
}

# ----------------------------------------------------------------- registry --
registry_url() { printf 'http://%s:%s/apis/ccompat/v7\n' "$HOST" "$REGISTRY_PORT"; }

http_status() {
  local url=$1
  if have curl; then
    curl -s -o /dev/null -m 3 -w '%{http_code}' "$url" 2>/dev/null || true
  else
    # minimal HTTP/1.0 GET over /dev/tcp
    local rest=${url#http://} hostport path
    hostport=${rest%%/*}
    path=/${rest#*/}
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/${0%:*}/${0##*:}" || exit 1
      printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" "$0" >&3
      head -n1 <&3 | cut -d" " -f2
    ' "$hostport" "$path" 2>/dev/null || true
  fi
}

registry_probe() { [[ $(http_status "$(registry_url)/subjects") == 200 ]]; }

start_registry() {
  local pid t0
  if pid=$(running_pid registry); then
    log "registry: already running (pid $pid)"
    wait_healthy registry registry_probe "GET $(registry_url)/subjects" "$pid"
    registry_defaults
    return 0
  fi
  port_open "$HOST" "$REGISTRY_PORT" &&
    die "registry: port $REGISTRY_PORT is already in use by a process stack.sh did not start (set REGISTRY_PORT)"
  fetch_registry
  local extra=()
  # secure profile: the Kafka client's SASL_SSL settings come from a private file
  ((SECURE)) && extra+=(-Dquarkus.config.locations="$REGISTRY_KAFKA_CONF")
  # State lives in Kafka topics (kafkasql storage); the registry replays them
  # into an in-memory H2 database on every start.
  t0=$(now)
  # shellcheck disable=SC2086 # REGISTRY_HEAP_OPTS is a list of JVM flags
  pid=$(launch registry "$JAVA" $REGISTRY_HEAP_OPTS -XX:+ExitOnOutOfMemoryError \
    -Djava.io.tmpdir="$REGISTRY_DATA" \
    -Dlabelstream.stack=registry \
    -Dquarkus.http.host="$HOST" \
    -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.log.console.format='%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%c{3.}] (%t) %m%n' \
    -Dapicurio.storage.kind=kafkasql \
    -Dapicurio.kafkasql.bootstrap.servers="$HOST:$KAFKA_PORT" \
    -Dapicurio.kafkasql.topic="$REGISTRY_TOPIC_PREFIX-journal" \
    -Dapicurio.kafkasql.snapshots.topic="$REGISTRY_TOPIC_PREFIX-snapshots" \
    -Dapicurio.events.kafka.topic="$REGISTRY_TOPIC_PREFIX-events" \
    -Dapicurio.storage.snapshot.location="$REGISTRY_DATA" \
    -Dapicurio.import.work-dir="$REGISTRY_DATA" \
    -Dapicurio.datasource.jdbc.initial-size=2 \
    -Dapicurio.datasource.jdbc.min-size=2 \
    -Dapicurio.datasource.jdbc.max-size=20 \
    "${extra[@]}" \
    -jar "$REGISTRY_JAR")
  log "registry: started Apicurio Registry $APICURIO_VERSION (pid $pid), waiting for $(registry_url)…"
  wait_healthy registry registry_probe "GET $(registry_url)/subjects" "$pid"
  log "registry: healthy ($(($(now) - t0))s)"
  registry_defaults
}

# The global compatibility level (REGISTRY_COMPATIBILITY), through the Confluent-compatible
# API as any operator would set it; stored in the registry's Kafka journal, so it outlives
# restarts. Idempotent.
registry_defaults() {
  [[ -n $REGISTRY_COMPATIBILITY ]] || return 0
  have curl || { warn "no curl: the registry's global compatibility stays unset (install curl, or PUT /config by hand)"; return 0; }
  local body
  # Already set (the journal keeps it across restarts): nothing to do. Apicurio 3.0.9 then
  # refuses a ccompat PUT ("A rule named 'COMPATIBILITY' already exists", 409) once it
  # has replayed the rule from its journal, so look first.
  body=$(curl -sS -m 10 "$(registry_url)/config" 2>&1) || true
  if [[ $body == *"\"$REGISTRY_COMPATIBILITY\""* ]]; then
    log "registry: global compatibility $REGISTRY_COMPATIBILITY (already set)"
    return 0
  fi
  body=$(curl -sS -m 10 "${REGISTRY_CURL_ARGS[@]}" -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    --data "{\"compatibility\":\"$REGISTRY_COMPATIBILITY\"}" "$(registry_url)/config" 2>&1) ||
    fail_component registry "PUT /config {\"compatibility\":\"$REGISTRY_COMPATIBILITY\"} failed: $body"
  if [[ $body == *"already exists"* ]]; then
    # Another level is set and the ccompat API will not update it: Apicurio's own admin API will.
    body=$(curl -sS -m 10 "${REGISTRY_CURL_ARGS[@]}" -X PUT -H 'Content-Type: application/json' \
      --data "{\"ruleType\":\"COMPATIBILITY\",\"config\":\"$REGISTRY_COMPATIBILITY\"}" \
      "http://$HOST:$REGISTRY_PORT/apis/registry/v3/admin/rules/COMPATIBILITY" 2>&1) ||
      fail_component registry "PUT /apis/registry/v3/admin/rules/COMPATIBILITY failed: $body"
  fi
  [[ $body == *"\"$REGISTRY_COMPATIBILITY\""* ]] ||
    fail_component registry "PUT /config {\"compatibility\":\"$REGISTRY_COMPATIBILITY\"} answered: $body"
  log "registry: global compatibility $REGISTRY_COMPATIBILITY"
}

# -------------------------------------------------------------------- redis --
redis_url() {
  if ((SECURE)); then
    printf 'rediss://%s:%s\n' "$HOST" "$REDIS_PORT" # no credentials: this is for messages
  elif [[ -n $EXTERNAL_REDIS_URL ]]; then
    printf '%s\n' "$EXTERNAL_REDIS_URL"
  else
    printf 'redis://%s:%s\n' "$HOST" "$REDIS_PORT"
  fi
}

redis_probe() {
  if ((SECURE)); then
    secure_redis_probe
  elif have redis-cli; then
    if [[ -n $EXTERNAL_REDIS_URL ]]; then
      [[ $(timeout 3 redis-cli -u "$EXTERNAL_REDIS_URL" ping 2>/dev/null) == PONG ]]
    else
      [[ $(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
    fi
  else
    local hp=${EXTERNAL_REDIS_URL#*://}
    hp=${hp##*@}
    hp=${hp%%/*}
    [[ -n $EXTERNAL_REDIS_URL ]] || hp="$HOST:$REDIS_PORT"
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/${0%:*}/${0##*:}" || exit 1
      printf "PING\r\n" >&3
      head -c 5 <&3
    ' "$hp" 2>/dev/null | grep -q '^+PONG'
  fi
}

start_redis() {
  local pid t0
  if [[ -n $EXTERNAL_REDIS_URL ]]; then
    log "redis: using external LABELSTREAM_REDIS_URL=$EXTERNAL_REDIS_URL (not managed by stack.sh)"
    wait_healthy redis redis_probe "PING $EXTERNAL_REDIS_URL"
    return 0
  fi
  if pid=$(running_pid redis); then
    log "redis: already running (pid $pid)"
    wait_healthy redis redis_probe "PING $HOST:$REDIS_PORT" "$pid"
    return 0
  fi
  port_open "$HOST" "$REDIS_PORT" &&
    die "redis: port $REDIS_PORT is already in use by a process stack.sh did not start (set REDIS_PORT, or LABELSTREAM_REDIS_URL to use that server)"
  ensure_redis_server
  REDIS_LISTEN_ARGS=(--port "$REDIS_PORT")
  ((SECURE)) && secure_redis_args
  t0=$(now)
  pid=$(launch redis redis-server \
    --bind "$HOST" "${REDIS_LISTEN_ARGS[@]}" \
    --daemonize no --protected-mode yes \
    --dir "$REDIS_DATA" \
    --appendonly yes --appendfsync everysec \
    --save "" \
    --logfile "")
  log "redis: started $(redis-server --version | sed -n 's/.*\(v=[^ ]*\).*/\1/p') (pid $pid), waiting for $HOST:$REDIS_PORT…"
  wait_healthy redis redis_probe "PING $(redis_url)" "$pid"
  log "redis: healthy ($(($(now) - t0))s)"
}

# -------------------------------------------------------------------- stop --
stop_component() {
  local name=$1 pid
  if [[ $name == redis && -n $EXTERNAL_REDIS_URL ]]; then
    log "redis: external ($EXTERNAL_REDIS_URL), left alone"
    return 0
  fi
  if ! pid=$(running_pid "$name"); then
    rm -f "$(pid_file "$name")"
    log "$name: not running"
    return 0
  fi
  log "$name: stopping pid $pid (SIGTERM)…"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(now) + STOP_TIMEOUT))
  while alive "$pid"; do
    if (($(now) >= deadline)); then
      warn "$name: still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$name")"
  log "$name: stopped"
}

# ---------------------------------------------------------------- commands --
env_lines() {
  if ((SECURE)); then
    secure_env_lines "$@"
    return
  fi
  printf 'export KAFKA_BROKERS=%s:%s\n' "$HOST" "$KAFKA_PORT"
  printf 'export SCHEMA_REGISTRY_URL=%s\n' "$(registry_url)"
  if ((CLUSTER)); then
    printf 'export REDIS_URL=%s\n' "$(cluster_url)"
  else
    printf 'export REDIS_URL=%s\n' "$(redis_url)"
  fi
  printf 'export RAW_MAX_RECORD_BYTES=%s\n' "$RAW_MAX_RECORD_BYTES"
}

cmd_up() {
  [[ $# == 0 ]] || die "usage: stack.sh up"
  local t0
  t0=$(now)
  find_java
  take_lock
  ensure_dirs
  kafka_version_guard
  ((SECURE)) && secure_prepare
  if ((CLUSTER)); then cluster_up; else start_redis; fi
  start_kafka
  ((SECURE)) && secure_kafka_setup
  start_registry
  if ((SECURE)); then
    env_lines >"$SECURE_ENV_FILE"
    log "all components healthy in $(($(now) - t0))s; env (with credentials) written to $SECURE_ENV_FILE:"
    env_lines mask | sed 's/^/    /'
  else
    env_lines >"$STACK_DIR/env"
    log "all components healthy in $(($(now) - t0))s; env written to $STACK_DIR/env:"
    sed 's/^/    /' "$STACK_DIR/env"
  fi
}

cmd_down() {
  local purge=0
  case ${1:-} in
    "") ;;
    --purge) purge=1 ;;
    *) die "usage: stack.sh down [--purge]" ;;
  esac
  if [[ ! -d $STACK_DIR ]]; then
    log "nothing to stop ($STACK_DIR does not exist)"
    return 0
  fi
  take_lock
  # reverse start order: the registry depends on Kafka
  stop_component registry
  stop_component kafka
  stop_component redis
  [[ -d $CLUSTER_DIR ]] && cluster_down
  if ((purge)); then
    log "purging data, logs and config in $STACK_DIR"
    rm -rf "$DATA_DIR" "$LOG_DIR" "$PID_DIR" "$CONF_DIR" "$STACK_DIR/env"
    ((SECURE)) && rm -rf "$TLS_DIR" "$SECRETS_FILE" "$SECURE_ENV_FILE"
    rm -f "$STACK_DIR/.gitignore" "$STACK_DIR/.lock"
    rmdir "$STACK_DIR" 2>/dev/null || true
  fi
}

cmd_status() {
  local rc=0 name pid state health port
  # the secure probes log in: read the passwords of an existing secure stack
  if ((SECURE)) && [[ -s $SECRETS_FILE ]]; then secure_load_secrets; fi
  printf '%-9s %-9s %-8s %-22s %s\n' COMPONENT STATE PID ADDRESS HEALTH
  for name in "${COMPONENTS[@]}"; do
    pid=-
    case $name in
      kafka) port="$HOST:$KAFKA_PORT" ;;
      registry) port="$HOST:$REGISTRY_PORT" ;;
      redis) port="$HOST:$REDIS_PORT" ;;
    esac
    if [[ $name == redis && -n $EXTERNAL_REDIS_URL ]]; then
      state=external
      port=$EXTERNAL_REDIS_URL
    elif pid=$(running_pid "$name"); then
      state=running
    else
      pid=-
      state=stopped
    fi
    if "${name}_probe"; then
      health=ok
      [[ $state == stopped ]] && health="ok (but not started by stack.sh)"
    else
      health=FAIL
    fi
    [[ $state == stopped ]] && [[ $health == FAIL ]] && health=-
    [[ $health == ok ]] || rc=1
    printf '%-9s %-9s %-8s %-22s %s\n' "$name" "$state" "$pid" "$port" "$health"
  done
  if ((CLUSTER)) || [[ -d $CLUSTER_DIR ]]; then cluster_status || rc=1; fi
  printf 'stack dir: %s\n' "$STACK_DIR"
  running_pid kafka >/dev/null && printf 'kafka release: %s\n' "$(cat "$KAFKA_RUNNING_VERSION_FILE" 2>/dev/null || echo unknown)"
  return "$rc"
}

cmd_logs() {
  local which="" follow=0 lines=100
  while (($#)); do
    case $1 in
      kafka | registry | redis) which=$1 ;;
      -f | --follow) follow=1 ;;
      -n)
        lines=${2:?-n needs a number}
        shift
        ;;
      *) die "usage: stack.sh logs [kafka|registry|redis] [-f] [-n N]" ;;
    esac
    shift
  done
  local files=() name
  for name in "${COMPONENTS[@]}"; do
    [[ -z $which || $which == "$name" ]] || continue
    if [[ $name == redis && -n $EXTERNAL_REDIS_URL ]]; then
      log "redis is external ($EXTERNAL_REDIS_URL): no log here"
      continue
    fi
    if [[ -f $LOG_DIR/$name.log ]]; then
      files+=("$LOG_DIR/$name.log")
    else
      log "no log yet for $name ($LOG_DIR/$name.log)"
    fi
  done
  ((${#files[@]})) || return 0
  if ((follow)); then
    exec tail -n "$lines" -F "${files[@]}"
  fi
  tail -n "$lines" "${files[@]}"
}

# Kafka's own CLI tools from the cached jars, --bootstrap-server added.
cmd_kafka() {
  local tool=${1:-} cls
  case $tool in
    topics) cls=org.apache.kafka.tools.TopicCommand ;;
    groups | consumer-groups) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    console-producer) cls=$KAFKA_CONSOLE_PRODUCER ;;
    offsets) cls=org.apache.kafka.tools.GetOffsetShell ;;
    *) die "usage: stack.sh kafka topics|groups|console-consumer|console-producer|offsets [args…]  (e.g. stack.sh kafka topics --list)" ;;
  esac
  shift
  [[ -f $KAFKA_HOME/.complete ]] || die "Kafka jars not fetched yet: run stack.sh up first"
  find_java
  KAFKA_CLI_ARGS=()
  ((SECURE)) && secure_kafka_cli_args "$tool"
  # shellcheck disable=SC2086 # KAFKA_CLI_OPTS may hold several JVM flags
  exec "$JAVA" ${KAFKA_CLI_OPTS:--Xmx256m} \
    "${KAFKA_TOOLS_LOG_OPT[@]}" \
    -cp "$KAFKA_HOME/libs/*" "$cls" --bootstrap-server "$HOST:$KAFKA_PORT" "${KAFKA_CLI_ARGS[@]}" "$@"
}

# The directory of the cached Kafka jars, fetched first if needed (progress on stderr), for
# tests and tools that run Kafka's own Java clients: java -cp "$(stack.sh libs)/*" …
cmd_libs() {
  fetch_kafka >&2
  printf '%s\n' "$KAFKA_HOME/libs"
}

usage() {
  cat <<EOF
usage: stack.sh <command>

  up                  start Kafka $KAFKA_VERSION (KRaft), Apicurio Registry $APICURIO_VERSION, Redis
  down [--purge]      stop what 'up' started; --purge also deletes data and logs
  status              state / pid / address / health of each component (exit 1 unless all ok)
  logs [kafka|registry|redis] [-f] [-n N]
                      show (or follow) component logs
  env                 print 'export …' lines: eval "\$(stack.sh env)"
  kafka <tool> [args] Kafka CLI against the broker; tool = topics, groups,
                      console-consumer, console-producer, offsets
                      (e.g. stack.sh kafka topics --list)
  libs                print the directory of Kafka's jars (fetched on first use), for
                      running Kafka's Java clients: java -cp "\$(stack.sh libs)/*" …

  acls --secure       (secure profile) the services' Kafka ACLs for the topic and group
                      names in the environment (TOPIC_*, *_GROUP_ID; \`up\` grants the defaults)
  --cluster           (up, env; or LABELSTREAM_CLUSTER=1) Redis as a Redis Cluster: 3 masters,
                      3 replicas on ports \$REDIS_CLUSTER_PORT…+5 (7001–7006), REDIS_URL=redis+cluster://…

  --secure            (any command; or LABELSTREAM_SECURE=1) the secure profile: SASL_SSL
                      Kafka with ACLs, TLS + ACL Redis, registry with authentication, own
                      dir and ports; \`env --secure\` prints the credentials

stack dir: $STACK_DIR   cache: $CACHE_DIR
EOF
}

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    env)
      if ((SECURE)); then
        [[ -s $SECRETS_FILE ]] || die "no secure stack in $STACK_DIR yet: run \`stack.sh up --secure\` first"
        secure_load_secrets
      fi
      env_lines
      ;;
    kafka) cmd_kafka "$@" ;;
    libs) cmd_libs ;;
    acls)
      ((SECURE)) || die "usage: stack.sh acls --secure (Kafka ACLs exist in the secure profile only)"
      secure_cmd_acls
      ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
