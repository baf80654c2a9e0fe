# shellcheck shell=bash
# The Node runtime and pnpm of every entry point (.ci/run, scripts/bootstrap.sh, test.sh,
# demo.sh, bench/run.sh, test/faults/run.sh). Sourced, not run: it changes the caller's PATH.
#
#   source scripts/node-runtime.sh
#
# Node: when the `node` on PATH is older than $LABELSTREAM_NODE_MIN (22), or missing, the
# pinned Node of /.node-version (24 LTS) is installed from the npm registry's
# node-linux-<x64|arm64> package (its bin/node is the official build) into
# $LABELSTREAM_CACHE/node-<version> (default ~/.cache/labelstream), once, and its bin/ goes
# first on PATH. LABELSTREAM_PINNED_NODE=1 uses the pinned Node even when the one on PATH
# is recent enough. The download needs npm (any version, e.g. the old Node's).
#
# pnpm: the version of package.json "packageManager". With the pinned Node it is installed
# into that Node's own prefix (next to bin/node), so the `pnpm` on PATH is this one and
# runs on the pinned Node; otherwise `npm install -g` as before.
#
# Idempotent: when both are present it only checks their versions (node, pnpm -v).
# Children started with `node` or `process.execPath` run on the same Node.

labelstream_node_log() { printf '== %s\n' "$*" >&2; }

# Node's major version of the `node` on PATH, or 0 when there is none.
labelstream_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

labelstream_node_install() { # version dir
  local version=$1 dir=$2 arch tmp tgz got
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) labelstream_node_log "no pinned Node build for $(uname -m): install Node >= $LABELSTREAM_NODE_MIN yourself"; return 1 ;;
  esac
  if [ "$(uname -s)" != Linux ]; then
    labelstream_node_log "the pinned Node is fetched for Linux only: install Node >= $LABELSTREAM_NODE_MIN yourself"
    return 1
  fi
  command -v npm >/dev/null 2>&1 || {
    labelstream_node_log "npm is needed to fetch Node $version (node-linux-$arch from the npm registry)"
    return 1
  }
  labelstream_node_log "installing Node $version (npm package node-linux-$arch) into $dir (first run only)"
  mkdir -p "$(dirname "$dir")"
  # Unpacked next to its final place, then renamed: a half-written runtime is never used.
  tmp=$(mktemp -d "$(dirname "$dir")/.node-$version.XXXXXX") || return 1
  if ! tgz=$(cd "$tmp" && npm pack --silent "node-linux-$arch@$version" 2>"$tmp/npm.log"); then
    labelstream_node_log "npm pack node-linux-$arch@$version failed: $(tail -n 5 "$tmp/npm.log")"
    rm -rf "$tmp"
    return 1
  fi
  tgz=$(printf '%s\n' "$tgz" | tail -n 1)
  if ! tar -xzf "$tmp/$tgz" -C "$tmp" || ! got=$("$tmp/package/bin/node" --version 2>&1) || [ "$got" != "v$version" ]; then
    labelstream_node_log "the downloaded Node does not run as v$version: ${got:-unpack failed}"
    rm -rf "$tmp"
    return 1
  fi
  # A concurrent first run may have won the race: its copy is as good as ours, and in use.
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    rm -rf "$dir"
    mv -T "$tmp/package" "$dir" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ]
}

labelstream_node_runtime() {
  local root version major cache dir
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  LABELSTREAM_NODE_MIN=${LABELSTREAM_NODE_MIN:-22}
  version=$(tr -d ' \t\r\n' <"$root/.node-version")
  version=${version#v}
  major=$(labelstream_node_major)
  if [ "${LABELSTREAM_PINNED_NODE:-0}" != 1 ] && [ "$major" -ge "$LABELSTREAM_NODE_MIN" ]; then
    # Inherited from a caller only while its Node is still the one on PATH.
    case ":$PATH:" in
      *":${LABELSTREAM_NODE_DIR:-/nonexistent}/bin:"*) ;;
      *) unset LABELSTREAM_NODE_DIR ;;
    esac
    return 0
  fi
  cache=${LABELSTREAM_CACHE:-${HOME:-/tmp}/.cache/labelstream}
  dir=$cache/node-$version
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    labelstream_node_install "$version" "$dir" || return 1
  fi
  case ":$PATH:" in
    ":$dir/bin:"*) ;;
    *) PATH="$dir/bin:$PATH" ;;
  esac
  export PATH
  hash -r
  export LABELSTREAM_NODE_DIR=$dir
  # Under `npm run`/`npm test` the old npm exports its own node's paths: native builds
  # (node-gyp) must use the pinned Node's headers, shipped in the package's include/.
  export NODE=$dir/bin/node npm_config_nodedir=$dir
}

labelstream_pnpm() {
  local root want have prefix=()
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  want=$(node -p "require('$root/package.json').packageManager.split('@')[1]")
  if [ -n "${LABELSTREAM_NODE_DIR:-}" ]; then
    # The pinned Node's own pnpm, whatever else is installed globally.
    prefix=(--prefix "$LABELSTREAM_NODE_DIR")
    have=$("$LABELSTREAM_NODE_DIR/bin/pnpm" -v 2>/dev/null || true)
  else
    have=
    if command -v pnpm >/dev/null 2>&1; then have=$(pnpm -v 2>/dev/null || true); fi
  fi
  if [ "$have" != "$want" ]; then
    labelstream_node_log "installing pnpm $want (npm install -g${prefix[*]:+ ${prefix[*]}})"
    npm install -g "${prefix[@]}" --no-audit --no-fund --loglevel=error "pnpm@$want" >/dev/null ||
      npm install -g "${prefix[@]}" --no-audit --no-fund "pnpm@$want" || return 1
    hash -r
  fi
}

if ! labelstream_node_runtime || ! labelstream_pnpm; then
  labelstream_node_log "no usable Node runtime or pnpm (see above)"
  return 1
fi
