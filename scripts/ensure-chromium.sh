#!/usr/bin/env bash
# Headless Chromium for the tests that look at a page the way a person does (the
# `labelstream report` test renders its HTML and keeps a screenshot). Debian's package, from
# apt as root (CI runs as root); elsewhere it says what to install. Idempotent and quick
# when it is there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium is missing; install Debian's 'chromium' package (apt-get install -y chromium) as root" >&2
  exit 1
fi
echo "== apt-get install chromium (for the report's headless-browser test)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y chromium >/dev/null; }
command -v chromium >/dev/null
