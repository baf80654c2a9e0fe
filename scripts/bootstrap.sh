#!/usr/bin/env bash
# Shared set-up for the README's commands on a fresh machine: a supported Node (the pinned
# Node 24 when the one on PATH is older than 22, see scripts/node-runtime.sh), the pinned
# pnpm, the workspace dependencies, and a build. Idempotent and quick when nothing changed.
# It runs as a child process: the entry points source scripts/node-runtime.sh themselves
# too, so that what they run after it uses the same Node.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
echo "== node $(node --version) ($(command -v node)), pnpm $(pnpm -v) ($(command -v pnpm))"
# node_modules/.labelstream-node: the Node major the dependencies were installed and their
# native parts built under. A tree from another (or an unrecorded) major, e.g. from before
# the move off Node 20, has its native dependencies rebuilt once.
node_major=$(node -p 'process.versions.node.split(".")[0]')
stamp=$(cat node_modules/.labelstream-node 2>/dev/null || true)
installed=no
if [ -f node_modules/.modules.yaml ]; then installed=yes; fi
if [ $installed = no ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ] || [ "$stamp" != "$node_major" ]; then
  echo "== pnpm install"
  pnpm install --frozen-lockfile
  if [ $installed = yes ] && [ "$stamp" != "$node_major" ]; then
    echo "== pnpm rebuild (native dependencies, for Node $node_major)"
    pnpm rebuild --recursive
  fi
  echo "$node_major" >node_modules/.labelstream-node
fi
echo "== build"
pnpm -s build
echo "== ready: node $(node --version), pnpm $(pnpm -v)"
