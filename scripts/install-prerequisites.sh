#!/usr/bin/env bash
# System packages the project needs beyond what the machines ship (Go 1.26, Node 20 with npm,
# git): openssl for the test control plane's certificates, and a running Docker engine for the
# container image's test (scripts/image/ensure-docker.sh; THALASSA_SKIP_IMAGE_TESTS=1 skips it).
# Node 24 comes from npm (`npm ci`), the control plane from Go modules (tools/control-plane/build.sh,
# run by the tests).
set -euo pipefail

if ! command -v go >/dev/null || ! go version | grep -Eq 'go1\.(2[6-9]|[3-9][0-9])'; then
  echo "Go 1.26 or newer is needed to build the test control plane (found: $(go version 2>/dev/null || echo none))" >&2
  exit 1
fi

missing=()
command -v openssl >/dev/null || missing+=(openssl)
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing: ${missing[*]}; install them (as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Installs Debian's docker.io if needed and starts dockerd in the background (a no-op when an engine
# answers). Here rather than only in the image test, so that a machine that cannot run one fails
# before the tests; the test calls it again, which makes it work on its own too.
if [[ ${THALASSA_SKIP_IMAGE_TESTS:-} != 1 ]]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/image/ensure-docker.sh"
fi
