#!/usr/bin/env bash
# The main job (`npm run demo`): on a fresh machine, installs what it needs, starts the
# native stack (Kafka, schema registry, Redis) and the three services, feeds a demo
# storefront into the raw topics, and shows label changes as they happen with a periodic
# summary. Ctrl-C stops everything it started.
#
#   DEMO_RATE=200 DEMO_CUSTOMERS=500 DEMO_DURATION=0 (forever; else a number and a unit: 90s, 5m)
#   DEMO_RULES=rules/demo.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The pinned Node 24 when the machine's is older than 22 (the services run on it).
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
bash scripts/bootstrap.sh

STACK_DIR=${LABELSTREAM_STACK_DIR:-$ROOT/.stack}
LOGS=$STACK_DIR/logs
mkdir -p "$LOGS"

stack_was_running=no
if bash deploy/local/stack.sh status >/dev/null 2>&1; then stack_was_running=yes; fi
bash deploy/local/stack.sh up
eval "$(bash deploy/local/stack.sh env)"

export ADMIN_TOKEN=${ADMIN_TOKEN:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}
export RULES_FILE=${DEMO_RULES:-rules/demo.yaml}
export LOG_LEVEL=${LOG_LEVEL:-info}
pids=()

cleanup() {
  trap - INT TERM EXIT
  echo
  echo "== stopping the demo"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$stack_was_running" = no ]; then bash deploy/local/stack.sh down; else echo "(the stack was already running before the demo; left running)"; fi
}
trap cleanup INT TERM EXIT

start() { # name port cmd...
  local name=$1 port=$2; shift 2
  HTTP_PORT=$port "$@" >>"$LOGS/$name.log" 2>&1 &
  pids+=($!)
}
start ingest 9464 node services/ingest/dist/main.js
start evaluator 9465 node services/evaluator/dist/main.js
start publisher 9466 node services/publisher/dist/main.js

i=0
for svc in ingest:9464 evaluator:9465 publisher:9466; do
  name=${svc%%:*}; port=${svc##*:}; pid=${pids[$i]}; i=$((i + 1))
  ok=no
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ok=yes; break; fi
    kill -0 "$pid" 2>/dev/null || break # it exited (e.g. invalid configuration): no point waiting
    sleep 0.5
  done
  if [ $ok = no ]; then echo "$name did not become ready; last log lines:"; tail -n 30 "$LOGS/$name.log"; exit 1; fi
done

cat <<MSG

Labelstream demo is running.
  metrics:   http://127.0.0.1:9464/metrics (ingest)  :9465 (evaluator)  :9466 (publisher)
  health:    /healthz and /readyz on the same ports
  admin:     curl -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:9465/admin/customers/c-000001
             or: ADMIN_TOKEN=$ADMIN_TOKEN pnpm labelstream explain c-000001
  logs:      $LOGS/{ingest,evaluator,publisher,generator}.log   (stack: $LOGS/{kafka,registry,redis}.log)
  rules:     $RULES_FILE
  report:    pnpm labelstream report --rules $RULES_FILE --out report.html   (label health as one HTML page)
Label changes follow (+ assigned, − removed); a summary every 10 s. Ctrl-C stops everything.

MSG

node packages/cli/dist/main.js generate --rate "${DEMO_RATE:-200}" --customers "${DEMO_CUSTOMERS:-500}" \
  --duration "${DEMO_DURATION:-0}" --seed "${DEMO_SEED:-42}" --malformed-ratio 0.01 >>"$LOGS/generator.log" 2>&1 &
pids+=($!)
# A generator that refuses its options (e.g. DEMO_DURATION=100: a duration needs a unit,
# 100s) exits at once: say so instead of showing an idle pipeline.
sleep 2
if ! kill -0 "${pids[-1]}" 2>/dev/null; then
  echo "the demo's event generator stopped at once; its log ($LOGS/generator.log) says:"
  head -n 3 "$LOGS/generator.log"
  exit 1
fi

if [ -n "${DEMO_DURATION:-}" ] && [ "${DEMO_DURATION}" != 0 ]; then
  timeout --signal=INT "${DEMO_DURATION}" node packages/cli/dist/main.js watch || true
else
  node packages/cli/dist/main.js watch &
  pids+=($!)
  wait "${pids[-1]}" || true
fi
