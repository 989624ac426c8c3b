#!/usr/bin/env bash
# Makes the two local base images of the Dockerfile without any container registry:
#
#   thalassa-local/node-build:<major>    Debian (debootstrap minbase) + Node + npm: the build stage.
#   thalassa-local/node-runtime:<major>  distroless-style: /nodejs/bin/node, the shared libraries it
#                                        loads, CA certificates, /etc/passwd and /etc/group with the
#                                        non-root user 65532 ("nonroot"), /tmp; no shell, no package
#                                        manager. USER 65532:65532, ENTRYPOINT ["/nodejs/bin/node"].
#
# Debian comes from the machine's Debian mirror, Node from the npm package node-linux-<arch> (the
# release of the project's `node` devDependency), npm from the npm package `npm`. Both images are
# labelled with a hash of those inputs and of this script; when both exist with the current hash the
# script does nothing. Needs root (debootstrap, chroot) and a Docker engine (ensure-docker.sh).
# Prints the two image names on stdout, progress on stderr.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

say() { echo "build-base-images: $*" >&2; }

hash=$(base_inputs_hash)
if [[ $(image_label "$build_base_image" "$inputs_label") == "$hash" && $(image_label "$runtime_base_image" "$inputs_label") == "$hash" ]]; then
  say "up to date: $build_base_image, $runtime_base_image (inputs $hash)"
  echo "$build_base_image"
  echo "$runtime_base_image"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  say "building the base images needs root (debootstrap); run as root, or build them once elsewhere"
  exit 1
fi

started=$SECONDS
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The Debian mirror this machine's apt uses (the only route to Debian packages here).
mirror=${THALASSA_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$( { grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{ for (i = 2; i <= NF; i++) print $i }'
              grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed -E 's/\[[^]]*\]//' | awk '{ print $2 }'
            } | grep -E '^https?://.*/debian/?$' | head -n 1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

work=$(mktemp -d /var/tmp/thalassa-base-images.XXXXXX)
cleanup() {
  # debootstrap mounts /proc and /sys inside its target; never delete through a mount.
  local m
  for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
  rm -rf --one-file-system "$work" || true
}
trap cleanup EXIT

say "building $build_base_image and $runtime_base_image (node $node_version, npm $npm_version, debian $debian_suite from $mirror, inputs $hash)"

say "fetching node-linux-$node_arch@$node_version and npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-$node_arch@$node_version" "npm@$npm_version" >/dev/null)
mkdir -p "$work/node" "$work/npm"
tar -xzf "$work"/node-linux-"$node_arch"-"$node_version".tgz -C "$work/node" --strip-components=1
tar -xzf "$work"/npm-"$npm_version".tgz -C "$work/npm" --strip-components=1
[[ -x $work/node/bin/node ]] || { say "node-linux-$node_arch@$node_version has no bin/node"; exit 1; }

say "debootstrap --variant=minbase $debian_suite (a minute or two)"
root=$work/debian
debootstrap --variant=minbase --include=ca-certificates "$debian_suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

# Debian's CA bundle, before the build image adds this machine's CAs: the runtime image gets this one.
cp -L "$root/etc/ssl/certs/ca-certificates.crt" "$work/debian-ca-certificates.crt"

# --- the build image: Debian minbase + Node + npm (+ this machine's CAs) -------------------------
mapfile -d '' -t extra_cas < <(extra_ca_files)
if ((${#extra_cas[@]} > 0)); then
  say "the build image trusts this machine's CAs too: ${extra_cas[*]##*/}"
  cp "${extra_cas[@]}" "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$work/npm" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The shared libraries node loads, as the Debian dynamic loader resolves them (read before the
# build image's caches are cleaned; the runtime image copies exactly these).
mapfile -t libraries < <(chroot "$root" /usr/bin/ldd /usr/local/bin/node | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
((${#libraries[@]} > 0)) || { say "ldd found no libraries for node"; exit 1; }
chroot "$root" /usr/local/bin/node --version >/dev/null
chroot "$root" /usr/local/bin/npm --version >/dev/null

rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
old_images=$(docker image inspect -f '{{.Id}}' "$build_base_image" "$runtime_base_image" 2>/dev/null || true)
say "importing $build_base_image"
tar --numeric-owner -C "$root" -cf - . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_VERSION='"$node_version" \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  --change "LABEL $inputs_label=$hash" \
  --change "LABEL org.opencontainers.image.title=node-build org.opencontainers.image.version=$node_version" \
  --change "LABEL org.opencontainers.image.description=\"Debian $debian_suite minbase with Node $node_version and npm $npm_version (local build base of thalassa-secrets-operator)\"" \
  - "$build_base_image" >/dev/null

# --- the runtime image: node, its libraries, CA certificates, users --------------------------------
rt=$work/runtime
mkdir -p "$rt"/{etc/ssl/certs,nodejs/bin,tmp,home/nonroot,usr/lib/"$lib_arch",usr/lib64,usr/share/doc}
ln -s usr/lib "$rt/lib"
ln -s usr/lib64 "$rt/lib64"
chmod 1777 "$rt/tmp"
chmod 0700 "$rt/home/nonroot"
chown 65532:65532 "$rt/home/nonroot"
install -m 0755 "$work/node/bin/node" "$rt/nodejs/bin/node"
[[ -f $work/node/LICENSE ]] && install -m 0644 "$work/node/LICENSE" "$rt/nodejs/LICENSE"
for lib in "${libraries[@]}"; do
  mkdir -p "$(dirname "$rt$lib")"
  cp -L "$root$lib" "$rt$lib"
done
# Copyright notices of the Debian packages whose files are in the image.
# (dpkg may know a library under /lib or /usr/lib: bookworm is merged-/usr, its packages are not all.)
owned_paths=()
for lib in "${libraries[@]}"; do owned_paths+=("$lib" "/usr${lib#/usr}" "${lib#/usr}"); done
for pkg in $( (chroot "$root" dpkg -S "${owned_paths[@]}" 2>/dev/null || true) | cut -d: -f1 | sort -u) ca-certificates base-files; do
  if [[ -f $root/usr/share/doc/$pkg/copyright ]]; then
    mkdir -p "$rt/usr/share/doc/$pkg"
    cp "$root/usr/share/doc/$pkg/copyright" "$rt/usr/share/doc/$pkg/"
  fi
done
cp "$work/debian-ca-certificates.crt" "$rt/etc/ssl/certs/ca-certificates.crt"
cp -L "$root/etc/os-release" "$rt/etc/os-release"
cat >"$rt/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat >"$rt/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
nonroot:x:65532:
GROUP
echo 'hosts: files dns' >"$rt/etc/nsswitch.conf"
ldconfig -r "$rt" 2>/dev/null || true
# It must run by itself: no shell, nothing from the build image.
chroot "$rt" /nodejs/bin/node -e 'require("node:tls"); process.exit(0)'

say "importing $runtime_base_image"
tar --numeric-owner -C "$rt" -cf - . | docker import \
  --change 'ENV PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'USER 65532:65532' \
  --change 'WORKDIR /home/nonroot' \
  --change 'ENTRYPOINT ["/nodejs/bin/node"]' \
  --change "LABEL $inputs_label=$hash" \
  --change "LABEL org.opencontainers.image.title=node-runtime org.opencontainers.image.version=$node_version" \
  --change "LABEL org.opencontainers.image.description=\"Node $node_version, its libraries from Debian $debian_suite, CA certificates, user 65532; no shell (local runtime base of thalassa-secrets-operator)\"" \
  - "$runtime_base_image" >/dev/null

docker run --rm --network none "$build_base_image" sh -c 'node --version && npm --version' >/dev/null
docker run --rm --network none "$runtime_base_image" -e 'process.exit(process.getuid() === 65532 ? 0 : 1)'

# The images these replace, unless something still uses them (such as another image's build cache).
for id in $old_images; do docker image rm "$id" >/dev/null 2>&1 || true; done

say "done in $((SECONDS - started)) s: $build_base_image ($(docker image inspect -f '{{.Size}}' "$build_base_image" | numfmt --to=iec)), $runtime_base_image ($(docker image inspect -f '{{.Size}}' "$runtime_base_image" | numfmt --to=iec))"
echo "$build_base_image"
echo "$runtime_base_image"
