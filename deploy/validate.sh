#!/usr/bin/env bash
# Validates the deployment assets with the real tools' own validators, without a Docker
# engine and without internet beyond the package registries:
#
#   prometheus.yml, prometheus-native.yml   promtool check config
#   alerts.yml                              promtool check rules
#   alerts.test.yml                         promtool test rules (unit tests of the alerts)
#   Grafana dashboard queries               promtool check rules (each panel query parsed as PromQL)
#   docker-compose.yml                      docker compose config (v2 plugin), else docker-compose v1
#   deploy/docker/Dockerfile                dockerfile-utils lint (the VS Code Docker linter)
#   deploy/k8s overlays                     kubectl kustomize, then the Kubernetes, KEDA and
#                                           Prometheus-operator schemas (kubernetes-models, npm)
#   every shell script (*.sh, .ci/run)      shellcheck -x (sourced files followed)
#
# The structural checks (compose env vs the config loaders, ports, metric names in alerts
# and dashboard, panel layout, non-root image) are the jest test
# packages/config/src/deploy-assets.test.ts.
#
# Tools are fetched once and cached in $LABELSTREAM_CACHE/tools (default
# ~/.cache/labelstream/tools): promtool from Debian's `prometheus` package (extracted, not
# installed, so no Prometheus service is started), dockerfile-utils from npm. docker-compose
# v1 (when no compose is present) and ShellCheck (when not on PATH) are installed from
# Debian with apt-get.
#
#   bash deploy/validate.sh            exit 0 when every check passes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE_DIR=${LABELSTREAM_CACHE:-${HOME:-/tmp}/.cache/labelstream}
TOOLS="$CACHE_DIR/tools"
DOCKERFILE_UTILS_VERSION=0.16.3

log() { printf '[validate] %s\n' "$*"; }
die() {
  printf '[validate] ERROR: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------------- tools --
# promtool: on PATH, else extracted from Debian's prometheus package into the cache.
find_promtool() {
  if have promtool; then
    PROMTOOL=$(command -v promtool)
    return 0
  fi
  PROMTOOL="$TOOLS/promtool/promtool"
  [[ -x $PROMTOOL ]] && return 0
  if ! have apt-get || ! have dpkg-deb; then
    die "promtool not found and no apt-get/dpkg-deb to fetch it (install Prometheus' promtool)"
  fi
  log "fetching promtool from Debian's prometheus package (first run only)…"
  local dl="$WORK/deb"
  mkdir -p "$dl"
  if ! (cd "$dl" && apt-get download prometheus >"$WORK/apt.log" 2>&1); then
    # A fresh machine may have no package lists yet.
    as_root apt-get update -qq >>"$WORK/apt.log" 2>&1 || true
    (cd "$dl" && apt-get download prometheus >>"$WORK/apt.log" 2>&1) ||
      die "apt-get download prometheus failed: $(tail -n 5 "$WORK/apt.log")"
  fi
  local deb
  deb=$(find "$dl" -name 'prometheus_*.deb' | head -n 1)
  [[ -n $deb ]] || die "no prometheus .deb downloaded"
  mkdir -p "$WORK/x" "$TOOLS/promtool"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$WORK/x" ./usr/bin/promtool
  mv "$WORK/x/usr/bin/promtool" "$PROMTOOL.tmp"
  mv "$PROMTOOL.tmp" "$PROMTOOL"
  basename "$deb" >"$TOOLS/promtool/SOURCE"
}

# dockerfile-utils from npm, pinned, installed into the cache.
find_dockerfile_utils() {
  local dir="$TOOLS/dockerfile-utils-$DOCKERFILE_UTILS_VERSION"
  DOCKERFILE_UTILS="$dir/node_modules/dockerfile-utils/bin/dockerfile-utils"
  [[ -f $DOCKERFILE_UTILS ]] && return 0
  have npm || die "npm is needed to fetch dockerfile-utils"
  log "fetching dockerfile-utils@$DOCKERFILE_UTILS_VERSION from npm (first run only)…"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
    "dockerfile-utils@$DOCKERFILE_UTILS_VERSION" >"$WORK/npm.log" 2>&1 ||
    die "npm install dockerfile-utils failed: $(tail -n 5 "$WORK/npm.log")"
}

# apt_install PKG: installs a Debian package (root or sudo), updating the package lists
# once if the first try fails; waits for another apt run's lock rather than failing.
apt_install() {
  local pkg=$1 log="$WORK/apt-$1.log"
  local cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "$pkg")
  as_root "${cmd[@]}" >"$log" 2>&1 ||
    { as_root apt-get update -qq >>"$log" 2>&1 && as_root "${cmd[@]}" >>"$log" 2>&1; } ||
    die "cannot install $pkg (need root or sudo): $(tail -n 5 "$log")"
}

# ShellCheck: on PATH, else Debian's package.
find_shellcheck() {
  if ! have shellcheck; then
    log "no shellcheck: installing Debian's shellcheck (first run only)…"
    apt_install shellcheck
  fi
}

# Compose: the v2 plugin when present, else docker-compose v1 (installed from Debian).
find_compose() {
  if have docker && docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
    return 0
  fi
  if ! have docker-compose; then
    log "no docker compose: installing Debian's docker-compose (first run only)…"
    apt_install docker-compose
  fi
  COMPOSE=(docker-compose)
}

# ------------------------------------------------------------------ checks --
passed=0
failed=()

# check NAME CMD...: runs CMD, prints its output only when it fails.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    log "ok    $name"
  else
    failed+=("$name")
    log "FAIL  $name"
    printf '%s\n' "$out" | sed 's/^/        /'
  fi
}

# Every Grafana panel query as a recording rule, Grafana variables replaced by valid
# PromQL, so promtool parses each one.
# shellcheck disable=SC2016 # the node script's $ are JavaScript, not shell
dashboard_queries_as_rules() {
  node -e '
    const dash = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const lines = ["groups:", "  - name: dashboard-queries", "    rules:"];
    for (const p of dash.panels ?? []) {
      for (const t of p.targets ?? []) {
        const expr = t.expr
          .replace(/\$__(rate_interval|interval|range)/g, "5m")
          .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, ".+");
        lines.push(`      - record: dashboard:panel_${p.id}_${t.refId}`);
        lines.push(`        expr: ${JSON.stringify(expr)}`);
      }
    }
    process.stdout.write(lines.join("\n") + "\n");
  ' deploy/grafana/dashboards/labelstream.json >"$WORK/dashboard-rules.yml"
  "$PROMTOOL" check rules "$WORK/dashboard-rules.yml"
}

# docker-compose v1 predates the top-level `name:` key of the Compose Specification;
# validate everything else with it (the v2 plugin validates the file as is).
compose_config() {
  if [[ ${COMPOSE[0]} == docker-compose ]]; then
    sed '/^name:/d' docker-compose.yml >"$WORK/docker-compose.yml"
    "${COMPOSE[@]}" -f "$WORK/docker-compose.yml" --project-directory . --project-name labelstream --profile demo config -q
  else
    "${COMPOSE[@]}" -f docker-compose.yml --profile demo config -q
  fi
}

# Every shell script of the repository: the tracked ones in a checkout, else by name.
shell_scripts() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -- '*.sh' .ci/run
  else
    find . -path ./node_modules -prune -o \( -name '*.sh' -o -path ./.ci/run \) -type f -print
  fi
}

find_promtool
find_dockerfile_utils
find_compose
find_shellcheck
log "promtool: $("$PROMTOOL" --version 2>&1 | head -n 1)"
log "compose:  $("${COMPOSE[@]}" version 2>&1 | head -n 1)"
log "dockerfile-utils $DOCKERFILE_UTILS_VERSION"
log "shellcheck $(shellcheck --version | sed -n 's/^version: //p')"

check "prometheus.yml (promtool check config)" "$PROMTOOL" check config deploy/prometheus/prometheus.yml
check "prometheus-native.yml (promtool check config)" "$PROMTOOL" check config deploy/prometheus/prometheus-native.yml
check "alerts.yml (promtool check rules)" "$PROMTOOL" check rules deploy/prometheus/alerts.yml
check "alerts.test.yml (promtool test rules)" "$PROMTOOL" test rules deploy/prometheus/alerts.test.yml
check "grafana dashboard queries (promtool check rules)" dashboard_queries_as_rules
check "docker-compose.yml (${COMPOSE[*]} config)" compose_config
check "deploy/docker/Dockerfile (dockerfile-utils lint)" node "$DOCKERFILE_UTILS" lint deploy/docker/Dockerfile
mapfile -t scripts < <(shell_scripts)
check "${#scripts[@]} shell scripts (shellcheck -x)" shellcheck -x "${scripts[@]}"

# ------------------------------------------------ Kubernetes manifests (deploy/k8s) --
# Each overlay rendered by kubectl's built-in kustomize (kubectl is on the machine image;
# Debian's kubernetes-client 1.20 is too old: its kustomize predates `labels`), then every
# document validated against the Kubernetes API schemas and the KEDA and Prometheus-operator
# CRD schemas from npm (kubernetes-models and its CRD packages, pinned, cached like
# dockerfile-utils). The structural checks (security context, probes, KEDA max replicas =
# partitions, env vs packages/config) are packages/config/src/k8s-manifests.test.ts.
K8S_MODELS_PACKAGES=(kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0 @kubernetes-models/prometheus-operator@6.0.0 yaml@2.9.1)
K8S_OVERLAYS=(dev secure large)

find_kubectl() {
  have kubectl || die "kubectl not found: it renders deploy/k8s (kubectl kustomize); install kubectl >= 1.27"
  local v
  v=$(kubectl version --client -o json 2>/dev/null | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).kustomizeVersion??""))')
  [[ $v =~ ^v[5-9] ]] || die "kubectl's kustomize is ${v:-unknown}; deploy/k8s needs kustomize v5 (kubectl >= 1.27)"
  KUSTOMIZE_VERSION=$v
}

find_k8s_models() {
  local key
  key=$(printf '%s\n' "${K8S_MODELS_PACKAGES[@]}" | cksum | cut -d' ' -f1)
  K8S_MODELS="$TOOLS/k8s-models-$key"
  [[ -f $K8S_MODELS/node_modules/kubernetes-models/package.json ]] && return 0
  have npm || die "npm is needed to fetch the Kubernetes schemas (kubernetes-models)"
  log "fetching ${K8S_MODELS_PACKAGES[*]} from npm (first run only)…"
  mkdir -p "$K8S_MODELS"
  npm install --prefix "$K8S_MODELS" --no-save --no-audit --no-fund --loglevel=error "${K8S_MODELS_PACKAGES[@]}" \
    >"$WORK/npm-k8s.log" 2>&1 ||
    die "npm install of the Kubernetes schemas failed: $(tail -n 5 "$WORK/npm-k8s.log")"
}

k8s_render() {
  kubectl kustomize "deploy/k8s/overlays/$1" >"$WORK/k8s-$1.yaml"
}

k8s_schemas() {
  local rendered=() overlay
  for overlay in "${K8S_OVERLAYS[@]}"; do rendered+=("$WORK/k8s-$overlay.yaml"); done
  node deploy/k8s/validate-schemas.mjs "$K8S_MODELS" "${rendered[@]}" deploy/k8s/examples/credentials.yaml
}

find_kubectl
find_k8s_models
log "kustomize $KUSTOMIZE_VERSION (kubectl), ${K8S_MODELS_PACKAGES[*]}"
for overlay in "${K8S_OVERLAYS[@]}"; do
  check "deploy/k8s/overlays/$overlay (kubectl kustomize)" k8s_render "$overlay"
done
check "deploy/k8s manifests (Kubernetes, KEDA, Prometheus-operator schemas)" k8s_schemas
# ------------------------------------------------ end of Kubernetes manifests --

if ((${#failed[@]})); then
  log "${#failed[@]} of $((passed + ${#failed[@]})) checks FAILED: ${failed[*]}"
  exit 1
fi
log "all $passed checks passed"
