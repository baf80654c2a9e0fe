#!/usr/bin/env bash
# The test command (`npm test`, or `pnpm test`): does its own set-up on a fresh machine —
# pnpm, dependencies, build, the native Kafka + schema registry + Redis stack — then runs
# the unit tests, the integration/end-to-end tests against the real servers, and the
# CI-sized fault run (docs/RELIABILITY.md).
#   npm test                      everything
#   npm test -- <jest args>       only the jest runs, with these extra arguments (e.g. --testPathPatterns ingest)
#   LABELSTREAM_FAULTS=0 npm test the jest runs only
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
  echo "== fault run: SIGKILLs of every service, Redis kill -9, evaluator 1→3→1, a broker restart; compared with the oracle"
  pnpm test:faults --broker-restart
fi
