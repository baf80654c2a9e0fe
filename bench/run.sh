#!/usr/bin/env bash
# `pnpm bench`: builds, starts the native stack if needed (like the demo), then runs the
# benchmark harness. Options pass through: `pnpm bench --quick`, `pnpm bench --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Node 24 when the machine's is older than 22 (the harness spawns the services
# with its own process.execPath).
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
for a in "$@"; do
  if [ "$a" = -h ] || [ "$a" = --help ]; then exec node bench/run.cjs --help; fi
done
# The harness's own clients speak to the default (plain) native stack.
unset LABELSTREAM_SECURE
bash scripts/bootstrap.sh
bash deploy/local/stack.sh up
eval "$(bash deploy/local/stack.sh env)"
exec node bench/run.cjs "$@"
