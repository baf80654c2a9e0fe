#!/usr/bin/env bash
# The test command (`pnpm test`): does its own set-up on a fresh machine — dependencies,
# build, the native Kafka + schema registry + Redis stack — then runs the unit tests and
# the integration/end-to-end tests against the real servers.
#   pnpm test                 everything
#   pnpm test -- <jest args>  passes extra arguments to both jest runs (e.g. a path filter)
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || pnpm install --frozen-lockfile
pnpm -s build

if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${SCHEMA_REGISTRY_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  bash deploy/local/stack.sh up
  eval "$(bash deploy/local/stack.sh env)"
fi
echo "== stack: KAFKA_BROKERS=$KAFKA_BROKERS SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL REDIS_URL=$REDIS_URL"

echo "== unit tests"
npx jest --selectProjects unit "$@"
echo "== integration and end-to-end tests (real Kafka, registry, Redis)"
npx jest --selectProjects integration --runInBand "$@"
