#!/usr/bin/env bash
# Builds the operator's container image: scripts/image/build-image.sh [tag]
# (default tag thalassa-secrets-operator:dev).
#
# Starts a Docker engine if none runs (ensure-docker.sh), makes the local base images if they are
# missing or stale (build-base-images.sh), then runs `docker build` on the Dockerfile with those
# bases and the OCI label arguments. Set BUILD_IMAGE and RUNTIME_IMAGE to build on other bases
# instead (e.g. the Dockerfile's public defaults, where a registry is reachable).
#
# The build runs with --network host: `npm ci` in the build stage needs the npm registry, and the
# Docker engine that ensure-docker.sh starts has no bridge network (see there);
# THALASSA_BUILD_NETWORK=default uses the engine's default instead. Unchanged sources make a fully
# cached build (seconds). Progress on stderr; the tag on stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

tag=${1:-thalassa-secrets-operator:dev}
say() { echo "build-image: $*" >&2; }
started=$SECONDS

bash "$image_dir/ensure-docker.sh"
if [[ -n ${BUILD_IMAGE:-} && -n ${RUNTIME_IMAGE:-} ]]; then
  say "bases from the environment: $BUILD_IMAGE, $RUNTIME_IMAGE"
else
  bash "$image_dir/build-base-images.sh" >/dev/null
  BUILD_IMAGE=$build_base_image
  RUNTIME_IMAGE=$runtime_base_image
fi

version=$(cd "$repo_root" && node -p 'require("./package.json").version')
revision=unknown
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
source_args=()
if git -C "$repo_root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  revision=$(git -C "$repo_root" rev-parse HEAD)
  if git -C "$repo_root" diff-index --quiet HEAD -- 2>/dev/null; then
    # A clean tree: the commit's time, so that rebuilding the same commit gives the same image.
    created=$(TZ=UTC git -C "$repo_root" show -s --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD)
  else
    revision+=-dirty
  fi
  origin=$(git -C "$repo_root" remote get-url origin 2>/dev/null || true)
  if [[ $origin == https://* ]]; then
    origin=$(sed -E 's#^https://[^@/]*@#https://#; s#\.git$##' <<<"$origin") # never a credential in a label
    source_args=(--build-arg "SOURCE=$origin")
  fi
fi
created=${CREATED:-$created}

network=${THALASSA_BUILD_NETWORK:-host}
build_args=(
  --network "$network"
  --force-rm
  --build-arg "BUILD_IMAGE=$BUILD_IMAGE"
  --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE"
  --build-arg "VERSION=$version"
  --build-arg "REVISION=$revision"
  --build-arg "CREATED=$created"
  "${source_args[@]}"
  -f "$repo_root/Dockerfile"
)

legacy_builder=false
if ! docker buildx version >/dev/null 2>&1; then
  # Without the buildx plugin the client's legacy builder does the build (it handles this Dockerfile).
  export DOCKER_BUILDKIT=0
  legacy_builder=true
fi

say "docker build -t $tag (version $version, revision $revision) on $BUILD_IMAGE / $RUNTIME_IMAGE, network $network"
docker build "${build_args[@]}" -t "$tag" "$repo_root" >&2

if $legacy_builder; then
  # The legacy builder keeps its layer cache as untagged images, and every change of src/ leaves
  # the previous build stage (about 550 MB) and image behind. Tag the current build stage (all
  # cached: a second) so that it stays, then drop the untagged images that came from our bases.
  docker build "${build_args[@]}" --target build -t "${tag%:*}:build-stage" "$repo_root" >/dev/null 2>&1 \
    || say "could not tag the build stage; its layers stay untagged"
  docker image prune -f --filter "label=$inputs_label" >/dev/null || true
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
say "built $tag ($(numfmt --to=iec "$size"), $size bytes) in $((SECONDS - started)) s"
echo "$tag"
