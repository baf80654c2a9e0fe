#!/usr/bin/env bash
# Shared set-up for the README's commands on a fresh machine: the pinned pnpm, the
# workspace dependencies, and a build. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v 2>/dev/null)" != "$want" ]; then
  echo "== installing pnpm $want (npm install -g)"
  npm install -g "pnpm@$want" >/dev/null 2>&1 || npm install -g "pnpm@$want"
  hash -r
fi
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  echo "== pnpm install"
  pnpm install --frozen-lockfile
fi
echo "== build"
pnpm -s build
