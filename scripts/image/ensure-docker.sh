#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info`, for building and testing the container image.
#
# - An engine that already answers (a system service, Docker Desktop, DOCKER_HOST) is used as it is.
# - Otherwise, as root: installs Debian's `docker.io` when dockerd is missing, and starts dockerd in
#   the background (its own session, so it outlives the caller), logging to $THALASSA_DOCKERD_LOG.
#
# The dockerd started here has no default bridge network and leaves iptables and IP forwarding
# alone (--bridge=none --iptables=false --ip-forward=false --ip-masq=false): this project's
# machines reach nothing but package registries, so every container this project runs uses the
# host's network (`docker build --network host`, `--network host` in the tests) or none at all.
#
# Safe to call repeatedly and concurrently (a lock serialises the callers); prints what it did.
set -euo pipefail

log_file=${THALASSA_DOCKERD_LOG:-/var/log/thalassa-dockerd.log}
lock_file=${THALASSA_DOCKERD_LOCK:-/tmp/thalassa-ensure-docker.lock}
wait_seconds=${THALASSA_DOCKERD_WAIT:-60}

say() { echo "ensure-docker: $*" >&2; }

engine_answers() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }

server_version() { docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown; }

if engine_answers; then
  say "engine already running (server $(server_version))"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  say "no Docker engine answers 'docker info', and only root can install or start one here; start Docker, or set DOCKER_HOST" 
  exit 1
fi

exec 9>"$lock_file"
flock 9
# Another caller may have started it while we waited for the lock.
if engine_answers; then
  say "engine already running (server $(server_version))"
  exit 0
fi

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  say "installing Debian's docker.io (dockerd, containerd, runc)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# A process that exists and is not a zombie (on machines whose init does not reap orphans, a
# killed dockerd stays a zombie, and its pid file would stop the next one from starting).
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

pid_file=/var/run/docker.pid
pid=$(cat "$pid_file" 2>/dev/null || true)
if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
  # Started (by us or someone else) but not answering yet: wait for it rather than start another.
  say "dockerd (pid $pid) is starting; waiting for it"
else
  rm -f "$pid_file"
  say "starting dockerd in the background (log: $log_file)"
  mkdir -p "$(dirname "$log_file")"
  # In its own session, with nothing of ours open: not the lock (fd 9), which dockerd would pass on
  # to containerd and its shims, and no pipe of whoever runs this script, which would wait for them.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false
  ) </dev/null >>"$log_file" 2>&1 &
fi

for ((i = 0; i < wait_seconds * 2; i++)); do
  if engine_answers; then
    say "engine running (server $(server_version))"
    exit 0
  fi
  sleep 0.5
done
say "dockerd did not answer within ${wait_seconds}s; last lines of $log_file:"
tail -n 20 "$log_file" >&2 || true
exit 1
