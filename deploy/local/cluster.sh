#!/usr/bin/env bash
# A real Redis Cluster from Debian's redis-server: 3 masters, 3 replicas (one each), on
# ports REDIS_CLUSTER_PORT … REDIS_CLUSTER_PORT+5 (default 7001–7006), data in
# $CLUSTER_DIR/<port>/ (AOF everysec, as the single Redis of the stack).
#
# Sourced by stack.sh for `stack.sh up|down|status|env --cluster`; also runs on its own, for
# tests and the fault run that need a cluster of their own:
#
#   cluster.sh up                 start the six nodes and form the cluster (idempotent)
#   cluster.sh down [--purge]     stop them (--purge: delete their data)
#   cluster.sh url                the REDIS_URL of the cluster (redis+cluster://seed,…)
#   cluster.sh start-node PORT    start one node again on its data (it rejoins the cluster)
#   cluster.sh pid PORT           pid of a node
#
# Standalone settings: LABELSTREAM_CLUSTER_DIR (default .stack-cluster), REDIS_CLUSTER_PORT,
# REDIS_CLUSTER_NODE_TIMEOUT (ms a master may be unreachable before its replica takes
# over; default 2000).
# shellcheck disable=SC2317 # functions are called from stack.sh or from the dispatcher below

REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-7001}
REDIS_CLUSTER_NODE_TIMEOUT=${REDIS_CLUSTER_NODE_TIMEOUT:-2000}
CLUSTER_HOST=${HOST:-127.0.0.1}

cluster_log() { printf '[cluster] %s\n' "$*"; }
cluster_die() {
  printf '[cluster] ERROR: %s\n' "$*" >&2
  exit 1
}

cluster_ports() {
  local i
  for ((i = 0; i < 6; i++)); do printf '%s\n' $((REDIS_CLUSTER_PORT + i)); done
}

cluster_url() {
  local seeds=() port
  while read -r port; do seeds+=("$CLUSTER_HOST:$port"); done < <(cluster_ports | head -3)
  local IFS=,
  printf 'redis+cluster://%s\n' "${seeds[*]}"
}

cluster_pid() {
  local f="$CLUSTER_DIR/$1/redis.pid" pid
  [[ -s $f ]] || return 1
  read -r pid <"$f"
  kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

cluster_cli() {
  local port=$1
  shift
  timeout 5 redis-cli -h "$CLUSTER_HOST" -p "$port" "$@" 2>/dev/null
}

# Starts one node on its own directory; a node that was part of the cluster rejoins it
# from its nodes.conf (a failed-over master comes back as a replica of its successor).
# fd 9 (stack.sh's lock) is closed for the daemon, or it would hold the lock for ever.
cluster_start_node() {
  local port=$1 dir="$CLUSTER_DIR/$1" i
  if cluster_pid "$port" >/dev/null; then return 0; fi
  mkdir -p "$dir"
  redis-server --bind "$CLUSTER_HOST" --port "$port" --protected-mode yes \
    --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
    --cluster-node-timeout "$REDIS_CLUSTER_NODE_TIMEOUT" \
    --dir "$dir" --appendonly yes --appendfsync everysec --save "" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" 9>&- ||
    cluster_die "redis-server on :$port did not start (see $dir/redis.log)"
  for ((i = 0; i < 100; i++)); do
    [[ $(cluster_cli "$port" ping) == PONG ]] && return 0
    sleep 0.1
  done
  cluster_die "redis-server on :$port does not answer PING (see $dir/redis.log)"
}

# ok once every node sees the cluster as ok (all 16384 slots served) and three replicas
# are connected to their masters
cluster_healthy() {
  local port replicas=0
  while read -r port; do
    cluster_cli "$port" cluster info | tr -d '\r' | grep -q '^cluster_state:ok$' || return 1
    [[ $(cluster_cli "$port" role | sed -n '1p;4p' | tr '\n' ' ') == 'slave connected ' ]] && replicas=$((replicas + 1))
  done < <(cluster_ports)
  ((replicas == 3))
}

cluster_up() {
  local port nodes=() i
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    cluster_die "redis-server and redis-cli are needed (as root: apt-get install -y redis-server)"
  fi
  mkdir -p "$CLUSTER_DIR"
  [[ -f $CLUSTER_DIR/.gitignore ]] || printf '*\n' >"$CLUSTER_DIR/.gitignore"
  while read -r port; do
    cluster_start_node "$port"
    nodes+=("$CLUSTER_HOST:$port")
  done < <(cluster_ports)
  # A node that knows only itself has never been part of a cluster: form it.
  if [[ $(cluster_cli "$REDIS_CLUSTER_PORT" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p') == 1 ]]; then
    cluster_log "forming a cluster of ${#nodes[@]} nodes (3 masters, 1 replica each)…"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$CLUSTER_DIR/create.log" 2>&1 ||
      cluster_die "redis-cli --cluster create failed (see $CLUSTER_DIR/create.log)"
  fi
  for ((i = 0; i < 300; i++)); do
    if cluster_healthy; then
      cluster_log "healthy: $(redis-server --version | sed -n 's/.*\(v=[^ ]*\).*/\1/p'), masters and replicas on ${nodes[*]}"
      return 0
    fi
    sleep 0.2
  done
  cluster_die "cluster not healthy after 60 s (cluster info on :$REDIS_CLUSTER_PORT: $(cluster_cli "$REDIS_CLUSTER_PORT" cluster info | tr -d '\r' | head -1))"
}

cluster_down() {
  local port pid i
  while read -r port; do
    pid=$(cluster_pid "$port") || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done < <(cluster_ports)
  cluster_log "stopped"
  if [[ ${1:-} == --purge && -d $CLUSTER_DIR ]]; then
    rm -rf "$CLUSTER_DIR"
    cluster_log "purged $CLUSTER_DIR"
  fi
}

# One line per node for `stack.sh status`: port, pid, role, health.
cluster_status() {
  local port pid role rc=0
  while read -r port; do
    pid=$(cluster_pid "$port") || pid=-
    role=$(cluster_cli "$port" role | head -1)
    if [[ -n $role ]] && cluster_cli "$port" cluster info | tr -d '\r' | grep -q '^cluster_state:ok$'; then
      printf '%-9s %-9s %-8s %-22s %s\n' "redis-$port" "${role:-?}" "$pid" "$CLUSTER_HOST:$port" ok
    else
      printf '%-9s %-9s %-8s %-22s %s\n' "redis-$port" "${role:--}" "$pid" "$CLUSTER_HOST:$port" FAIL
      rc=1
    fi
  done < <(cluster_ports)
  return "$rc"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  CLUSTER_DIR=${LABELSTREAM_CLUSTER_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/.stack-cluster}
  case ${1:-} in
    up) cluster_up ;;
    down) cluster_down "${2:-}" ;;
    url) cluster_url ;;
    status) cluster_status ;;
    start-node) cluster_start_node "${2:?usage: cluster.sh start-node PORT}" ;;
    pid) cluster_pid "${2:?usage: cluster.sh pid PORT}" ;;
    *) cluster_die "usage: cluster.sh up|down [--purge]|url|status|start-node PORT|pid PORT" ;;
  esac
fi
