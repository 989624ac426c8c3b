# Shared settings of scripts/image/*.sh (sourced, not run).
# shellcheck shell=bash

image_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$image_dir/../.." && pwd)

# Node comes from the npm registry (the same release as the project's `node` devDependency), npm
# from its own npm package: no Node or Docker registry is needed.
node_version=${THALASSA_NODE_VERSION:-$(cd "$repo_root" && node -p 'require("./package.json").devDependencies.node')}
node_major=${node_version%%.*}
npm_version=${THALASSA_NPM_VERSION:-11.19.1}
debian_suite=${THALASSA_DEBIAN_SUITE:-bookworm}

build_base_image=${THALASSA_BUILD_BASE_IMAGE:-thalassa-local/node-build:$node_major}
runtime_base_image=${THALASSA_RUNTIME_BASE_IMAGE:-thalassa-local/node-runtime:$node_major}

# Certificate authorities this machine adds to Debian's (Debian's place for local CAs). The build
# base trusts them too, so that `npm ci` inside `docker build` reaches the registry through the same
# TLS-inspecting egress as the host's npm; the runtime base never carries them.
extra_ca_dir=${THALASSA_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}

# The label that records what a local base image was made from; a different value means rebuild.
inputs_label=cloud.thalassa.image.base-inputs

case $(uname -m) in
  x86_64) node_arch=x64; lib_arch=x86_64-linux-gnu ;;
  aarch64) node_arch=arm64; lib_arch=aarch64-linux-gnu ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

# What the local base images are made from: change any of it and they are rebuilt.
base_inputs_hash() {
  {
    echo "node=$node_version npm=$npm_version suite=$debian_suite arch=$node_arch"
    cat "$image_dir/build-base-images.sh" "$image_dir/common.sh"
    extra_ca_files | xargs -r -0 cat
  } | sha256sum | cut -c1-16
}

extra_ca_files() { # NUL-separated, sorted
  [[ -d $extra_ca_dir ]] || return 0
  find "$extra_ca_dir" -type f -name '*.crt' -print0 | sort -z
}

image_label() { # image label -> value, or empty when the image or the label is missing
  docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}
