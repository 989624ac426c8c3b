#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kubectl, helm) from
# Go modules into a cache folder keyed by versions and inputs. A warm cache makes this a no-op.
#
#   tools/control-plane/build.sh            build what is missing, print the bin folder last
#   tools/control-plane/build.sh --print    print the bin folder without building
#
# Why a wrapper module per component: k8s.io/kubernetes resolves its staging modules with replaces
# that only work inside its own repository, so the kube wrapper pins every one of them; keeping etcd
# and helm in their own modules stops MVS from moving their dependencies.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache_root=${THALASSA_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thalassa-secrets-operator/control-plane}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
goos=$(go env GOOS); goarch=$(go env GOARCH); gover=$(go env GOVERSION)

kube_major=${KUBERNETES_VERSION#v}; kube_major=${kube_major%%.*}
kube_minor=${KUBERNETES_VERSION#v*.}; kube_minor=${kube_minor%%.*}

kube_ldflags() {
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$kube_major -X $pkg.gitMinor=$kube_minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$ld"
}
etcd_ldflags() { printf '%s' "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"; }
helm_ldflags() {
  local p=helm.sh/helm/v3
  printf '%s' "-s -w -X $p/internal/version.version=$HELM_VERSION -X $p/internal/version.gitTreeState=clean \
-X $p/pkg/chartutil.k8sVersionMajor=$kube_major -X $p/pkg/chartutil.k8sVersionMinor=$kube_minor \
-X $p/pkg/lint/rules.k8sVersionMajor=$kube_major -X $p/pkg/lint/rules.k8sVersionMinor=$kube_minor"
}

# The folder name changes whenever anything that shapes the binaries changes.
key_of() {
  local component=$1 version=$2 ldflags=$3
  { cat "$here/$component/go.mod" "$here/$component/go.sum"; printf '%s\n' "$ldflags" "$gover" "$goos/$goarch"; } |
    sha256sum | cut -c1-12 | sed "s/^/$component-$version-/"
}

build_component() {
  local component=$1 version=$2 ldflags=$3; shift 3
  local dir="$cache_root/$(key_of "$component" "$version" "$ldflags")"
  if [[ -f "$dir/.complete" ]]; then
    echo "control-plane: $component $version is cached in $dir" >&2
  else
    echo "control-plane: building $component $version ($*) into $dir" >&2
    local started=$SECONDS tmp="$dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "$here/$component" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "$@")
    # etcd's module root is package main, so `go build -o dir/` names the binary "server".
    if [[ -f "$tmp/server" ]]; then mv "$tmp/server" "$tmp/etcd"; fi
    date -u +%FT%TZ > "$tmp/.complete"
    rm -rf "$dir" && mv "$tmp" "$dir"
    echo "control-plane: built $component in $((SECONDS - started)) s" >&2
  fi
  local f
  for f in "$dir"/*; do ln -sfn "$f" "$bin/$(basename "$f")"; done
}

bin="$cache_root/bin-$KUBERNETES_VERSION-$ETCD_VERSION-$HELM_VERSION"
if [[ "${1:-}" == "--print" ]]; then echo "$bin"; exit 0; fi
mkdir -p "$bin"

build_component etcd "$ETCD_VERSION" "$(etcd_ldflags)" go.etcd.io/etcd/server/v3
build_component helm "$HELM_VERSION" "$(helm_ldflags)" helm.sh/helm/v3/cmd/helm
build_component kube "$KUBERNETES_VERSION" "$(kube_ldflags)" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl

"$bin/kube-apiserver" --version >&2
"$bin/etcd" --version | sed -n 1p >&2
"$bin/helm" version --short >&2
echo "$bin"
