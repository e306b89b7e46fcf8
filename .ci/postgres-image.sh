#!/usr/bin/env bash
# Make sure a Docker engine runs and the local PostgreSQL image exists; print the image's tag.
#
# No container registry is reachable from CI, so the image is built here: a Debian base made
# with debootstrap from the mirror apt already uses, then .ci/postgres-image/Dockerfile on it.
# The image carries a hash of its Dockerfile and entrypoint; when the hash matches, nothing is
# rebuilt, so a second run takes a second or two. Installing and starting the engine needs root.
#
# Environment: DEBIAN_MIRROR (default: the first mirror in apt's sources).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
context="$here/postgres-image"
image=aana-postgres:15
base=aana-debian-minbase:bookworm
log() { echo "postgres-image: $*" >&2; }

need_root() {
  if [[ "$(id -u)" != 0 ]]; then
    log "$1 needs root; run this script as root, or $2"
    exit 1
  fi
}

ensure_engine() {
  docker info >/dev/null 2>&1 && return
  if ! command -v dockerd >/dev/null; then
    need_root "installing docker.io" "install a Docker engine yourself"
    log "installing docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >&2; }
  fi
  need_root "starting dockerd" "start the Docker engine yourself"
  log "starting dockerd (log in /var/log/aana-dockerd.log)"
  # Without the lock's descriptor: the engine outlives this script, and would hold the lock
  # (fd 9) for good, so that every later caller waited forever.
  nohup dockerd 9>&- >/var/log/aana-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; see /var/log/aana-dockerd.log"
  exit 1
}

debian_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local found
  found="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')"
  if [[ -z "$found" ]]; then
    found="$(cat /etc/apt/sources.list 2>/dev/null \
      | awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}')"
  fi
  echo "${found:-http://deb.debian.org/debian}"
}

build_base() {
  docker image inspect "$base" >/dev/null 2>&1 && return
  need_root "debootstrap" "build $base yourself"
  if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2
  fi
  local rootfs mirror
  rootfs="$(mktemp -d)"
  mirror="$(debian_mirror)"
  log "debootstrap bookworm from $mirror"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    tail -n 30 "$rootfs.log" >&2
    exit 1
  fi
  rm -f "$rootfs.log"
  tar -C "$rootfs" -c . | docker import - "$base" >&2
  rm -rf "$rootfs"
}

# One caller at a time: concurrent callers wait, then find the engine running and the image
# built (.ci/run starts this script in the background, and the tox environment calls it too).
exec 9>/tmp/aana-postgres-image.lock
if ! flock --wait 1800 9; then
  log "another build of the image held /tmp/aana-postgres-image.lock for 30 minutes"
  exit 1
fi
ensure_engine
hash="$(cat "$context/Dockerfile" "$context/entrypoint.sh" | sha256sum | cut -c1-16)"
built="$(docker image inspect --format '{{index .Config.Labels "aana.image-hash"}}' "$image" \
  2>/dev/null || true)"
if [[ "$built" != "$hash" ]]; then
  build_base
  log "building $image (hash $hash)"
  docker build --quiet --build-arg "BASE=$base" --label "aana.image-hash=$hash" \
    --tag "$image" "$context" >&2
fi
echo "$image"
