#!/usr/bin/env bash
# Builds the real cluster components the tests and the local cluster run, from the Go module proxy, into bin/.
#
# No release tarballs can be downloaded here, so each component is compiled from its Go module:
#   - etcd from go.etcd.io/etcd/server/v3 through a throwaway wrapper module that pins its sibling etcd modules;
#   - kube-apiserver, kube-scheduler, kube-controller-manager and kubectl from k8s.io/kubernetes through a wrapper
#     module that points every staging replace (k8s.io/X => ./staging/src/k8s.io/X) at the published k8s.io/X module;
#   - kwok (simulated nodes) from sigs.k8s.io/kwok.
# Results are cached by version under bin/cluster/<component>-<version>/, so a second run returns at once.
#
# Usage: hack/cluster-binaries.sh [all|envtest|local|bench]
#   envtest: etcd + apiserver + scheduler + controller-manager; bench: those and kwok; local and all: also kubectl
# Prints nothing on a cache hit but the directory of each component, one "name=dir" line per component.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${CLUSTER_BIN_DIR:-$ROOT/bin/cluster}
K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.5.35}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
WHAT=${1:-envtest}

# Build with the module proxy only; the wrapper modules are ours and never published.
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export CGO_ENABLED=0

log() { printf '[cluster-binaries] %s\n' "$*" >&2; }

# staging_version turns v1.37.2 into v0.37.2, the version the staging modules are published at.
staging_version() { local v=${K8S_VERSION#v1.}; printf 'v0.%s' "$v"; }

build_etcd() {
  local out=$BIN_DIR/etcd-$ETCD_VERSION
  if [[ -x $out/etcd ]]; then echo "etcd=$out"; return; fi
  log "building etcd $ETCD_VERSION (first time only)"
  local work; work=$(mktemp -d "$BIN_DIR/.etcd-build.XXXX")
  (
    cd "$work"
    cat > go.mod <<MOD
module local/etcd-wrapper

go 1.24
MOD
    # The server module refers to its siblings at the same release; pin them all so the build matches the release.
    # The server module refers to its siblings at the same release; pin them all so the build matches the
    # release (the v2 client is published as v2.305.N for release v3.5.N).
    local patch=${ETCD_VERSION#v3.5.}
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/api/v3@$ETCD_VERSION" \
      "go.etcd.io/etcd/client/pkg/v3@$ETCD_VERSION" "go.etcd.io/etcd/client/v3@$ETCD_VERSION" \
      "go.etcd.io/etcd/pkg/v3@$ETCD_VERSION" "go.etcd.io/etcd/raft/v3@$ETCD_VERSION" \
      "go.etcd.io/etcd/client/v2@v2.305.$patch" >/dev/null
    # etcd's main package is the server module's root; build it by import path.
    mkdir -p "$out.tmp"
    go build -trimpath -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$work"
  rm -rf "$out"; mv "$out.tmp" "$out"
  echo "etcd=$out"
}

k8s_commands() {
  case $WHAT in
    envtest|bench) echo "kube-apiserver kube-scheduler kube-controller-manager" ;;
    *) echo "kube-apiserver kube-scheduler kube-controller-manager kubectl" ;;
  esac
}

build_kubernetes() {
  local out=$BIN_DIR/kubernetes-$K8S_VERSION
  local cmds; cmds=$(k8s_commands)
  local missing=()
  for c in $cmds; do [[ -x $out/$c ]] || missing+=("$c"); done
  if [[ ${#missing[@]} -eq 0 ]]; then echo "kubernetes=$out"; return; fi
  log "building ${missing[*]} $K8S_VERSION from k8s.io/kubernetes (first time takes several minutes)"
  local sv; sv=$(staging_version)
  local work=$BIN_DIR/.kubernetes-build-$K8S_VERSION
  mkdir -p "$work"
  (
    cd "$work"
    if [[ ! -f go.sum ]]; then
      go mod download "k8s.io/kubernetes@$K8S_VERSION"
      local upstream_mod; upstream_mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod
      {
        echo "module local/kubernetes-wrapper"
        echo
        echo "go $(awk '$1=="go"{print $2; exit}' "$upstream_mod")"
        echo
        echo "require k8s.io/kubernetes $K8S_VERSION"
        echo
        # Every staging replace becomes a replace to the published module of the matching version.
        awk -v sv="$sv" '$2=="=>" && $3 ~ /^\.\/staging\/src\// {print "replace " $1 " => " $1 " " sv}' "$upstream_mod"
      } > go.mod
      local pkgs=()
      for c in kube-apiserver kube-scheduler kube-controller-manager kubectl; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
      go get "${pkgs[@]}" >/dev/null
    fi
    local major=${K8S_VERSION#v}; major=${major%%.*}
    local minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
    local pkg=k8s.io/component-base/version
    local ld="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=$major"
    ld+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
    mkdir -p "$out"
    for c in "${missing[@]}"; do
      log "  go build $c"
      go build -trimpath -ldflags "$ld" -o "$out/$c.tmp" "k8s.io/kubernetes/cmd/$c"
      mv "$out/$c.tmp" "$out/$c"
    done
  )
  echo "kubernetes=$out"
}

build_kwok() {
  local out=$BIN_DIR/kwok-$KWOK_VERSION
  if [[ -x $out/kwok ]]; then echo "kwok=$out"; return; fi
  log "building kwok $KWOK_VERSION"
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  rm -rf "$out"; mv "$out.tmp" "$out"
  echo "kwok=$out"
}

mkdir -p "$BIN_DIR"
case $WHAT in
  envtest) build_etcd; build_kubernetes ;;
  local|all|bench) build_etcd; build_kubernetes; build_kwok ;;
  *) echo "usage: $0 [envtest|local|all|bench]" >&2; exit 2 ;;
esac
