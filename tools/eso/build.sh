#!/usr/bin/env bash
# Builds External Secrets Operator's controller from its Go module into a cache folder keyed by the
# wrapper module and the toolchain, next to its CRDs. A warm cache makes this a no-op. Only for
# `npm run bench -- --peer eso`; nothing in `npm test` needs it.
#
#   tools/eso/build.sh            build what is missing, print the ESO folder last
#   tools/eso/build.sh --print    print the ESO folder without building
#
# The folder holds `external-secrets` (the controller) and `crds/` (ESO's CRDs as shipped in its
# module zip, config/crds/bases). They are copied from the module cache at build time, never
# committed.
#
# Why v0.16.2 and not v1.3.2: v1.3.2's go.mod requires its apis, runtime, providers/v1/* and
# generators/v1/* modules at v0.0.0 and resolves them with `./` replaces; those are nested modules,
# so they are not in the module zip, and the Go module proxy does not serve them (404). v0.16.2 is
# one module, with one replace (ESO's sprig fork), repeated in the wrapper go.mod.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module=github.com/external-secrets/external-secrets
# The version the wrapper go.mod requires; changing it there changes the cache key.
version=$(sed -n "s|^[[:space:]]*$module \(v[^ ]*\).*|\1|p" "$here/go.mod")

cache_root=${THALASSA_ESO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thalassa-secrets-operator/eso}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
goos=$(go env GOOS); goarch=$(go env GOARCH); gover=$(go env GOVERSION)

# ESO's own Makefile stamps no version (`go build -o … main.go`); -s -w only drops the symbol
# table and DWARF, as the control plane's builds do.
ldflags="-s -w"

# The folder name changes whenever anything that shapes the binary changes.
key=$({ cat "$here/go.mod" "$here/go.sum"; printf '%s\n' "$ldflags" "$gover" "$goos/$goarch"; } | sha256sum | cut -c1-12)
dir="$cache_root/eso-$version-$key"
if [[ "${1:-}" == "--print" ]]; then echo "$dir"; exit 0; fi

if [[ -f "$dir/.complete" ]]; then
  echo "eso: $version is cached in $dir" >&2
else
  echo "eso: building $module $version into $dir" >&2
  started=$SECONDS tmp="$dir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/crds"
  # The module root is package main, so `go build -o dir/` names the binary after the module's
  # last element: external-secrets.
  (cd "$here" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "$module")
  src=$(cd "$here" && go list -m -f '{{.Dir}}' "$module")
  # Every CRD the chart installs (kustomization.yaml is not one).
  cp "$src"/config/crds/bases/*external-secrets.io_*.yaml "$tmp/crds/"
  # The module cache is read-only; the copies need not be.
  chmod u+w "$tmp"/crds/*.yaml
  date -u +%FT%TZ > "$tmp/.complete"
  rm -rf "$dir" && mv "$tmp" "$dir"
  echo "eso: built $version in $((SECONDS - started)) s" >&2
fi

"$dir/external-secrets" --help >/dev/null
echo "$dir"
