#!/usr/bin/env bash
# The test command (`npm test`, or `pnpm test`): does its own set-up on a fresh machine —
# pnpm, dependencies, build, the native Kafka + schema registry + Redis stack — then runs
# the unit tests, the integration/end-to-end tests against the real servers, and the
# CI-sized fault run (docs/RELIABILITY.md), then the integration suite once more against the
# other supported Kafka line (3.9 when the stack runs 4.x, the default) on a second stack.
#   npm test                      everything
#   npm test -- <jest args>       only the jest runs, with these extra arguments (e.g. --testPathPatterns ingest)
#   LABELSTREAM_FAULTS=0 npm test no fault run
#   LABELSTREAM_OTHER_KAFKA=0 npm test  no second Kafka line
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Node 24 when the machine's is older than 22 (jest and its services run on it).
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
bash scripts/bootstrap.sh

if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${SCHEMA_REGISTRY_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  bash deploy/local/stack.sh up
  eval "$(bash deploy/local/stack.sh env)"
fi
echo "== stack: KAFKA_BROKERS=$KAFKA_BROKERS SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL REDIS_URL=$REDIS_URL"

echo "== unit tests"
pnpm exec jest --selectProjects unit "$@"
# The report test renders its page in headless Chromium (Debian's package).
bash scripts/ensure-chromium.sh
echo "== integration and end-to-end tests (real Kafka, registry, Redis)"
pnpm exec jest --selectProjects integration --runInBand "$@"
if [ $# -eq 0 ] && [ "${LABELSTREAM_FAULTS:-1}" != 0 ]; then
  echo "== fault run: SIGKILLs of every service, Redis kill -9, evaluator 1→3→1, a broker restart, a rules deploy; compared with the oracle"
  pnpm test:faults --broker-restart --rules-deploy
fi
if [ $# -eq 0 ] && [ "${LABELSTREAM_OTHER_KAFKA:-1}" != 0 ]; then
  # The line the first stack does not run, in stack dirs (the secure one too: a 4.x-formatted
  # dir cannot be read by 3.x) and on ports of its own; stopped and deleted afterwards.
  case ${LABELSTREAM_KAFKA_VERSION:-4} in 3*) other=4 ;; *) other=3 ;; esac
  other_env=(LABELSTREAM_KAFKA_VERSION="$other" LABELSTREAM_STACK_DIR="$PWD/.stack-kafka$other"
    LABELSTREAM_SECURE_STACK_DIR="$PWD/.stack-kafka$other-secure" LABELSTREAM_REDIS_URL=
    KAFKA_PORT=39092 KAFKA_CONTROLLER_PORT=39093 REGISTRY_PORT=38081 REDIS_PORT=36380)
  echo "== integration and end-to-end tests against Kafka line $other (a second stack)"
  other_stack() { env "${other_env[@]}" bash deploy/local/stack.sh "$@"; }
  trap 'other_stack down --secure --purge >/dev/null || true; other_stack down --purge >/dev/null || true' EXIT
  other_stack up
  (eval "$(other_stack env)" && env "${other_env[@]}" pnpm exec jest --selectProjects integration --runInBand)
fi
