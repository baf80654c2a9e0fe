#!/usr/bin/env bash
# The fault run: `pnpm test:faults [options]` (see docs/RELIABILITY.md; `--help` lists the options).
#   pnpm test:faults                      CI-sized (≈ 5 min): 3 SIGKILLs of each service, Redis kill -9, evaluator 1→3→1
#   pnpm test:faults --broker-restart     plus a Kafka broker restart (on a broker private to the run)
#   pnpm test:faults --long               the documented long run: 100 SIGKILLs of each service (≈ 1–2 h)
# Builds what it runs, then uses the stack from KAFKA_BROKERS/SCHEMA_REGISTRY_URL or .stack/env
# (`pnpm stack up` first); Redis is always the run's own redis-server.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The pinned Node 24 when the machine's is older than 22 (the fleet spawns the services
# with its own process.execPath).
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
node_modules/.bin/tsc -b tsconfig.build.json test/faults
exec node test/faults/dist/run.js "$@"
