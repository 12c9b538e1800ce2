#!/usr/bin/env bash
# `make image`: builds the project's image with podman on this machine, from a base image made
# here (base-image.sh), since no registry is reachable. Host networking only: the build's RUN
# steps (pip) use the machine's network and its CA bundle, mounted read-only, never baked in.
#   usage: build-image.sh [IMAGE]       (default localhost/onedoor:dev; ONEDOOR_IMAGE also sets it)
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${1:-${ONEDOOR_IMAGE:-localhost/onedoor:dev}}
BASE=${PYTHON_IMAGE:-localhost/debian-python:bookworm}
CA=/etc/ssl/certs/ca-certificates.crt

bash deploy/local/ensure-podman.sh
bash deploy/local/base-image.sh "$BASE"

# The build stage (pip, protoc) is tagged too, so that the one a new build replaces can be
# removed like the image itself; untagged, each would stay behind (about 350 MB).
[[ "${IMAGE##*/}" == *:* ]] || IMAGE="$IMAGE:latest"
STAGE="${IMAGE%:*}-build:${IMAGE##*:}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Each step's first line as it starts (progress); the whole output only when it fails.
build() {
  local status
  set +e
  podman build --network host --build-arg PYTHON_IMAGE="$BASE" -v "$CA:$CA:ro" "$@" \
    -f Dockerfile . 2>&1 | tee "$log" \
    | grep --line-buffered -E '^(\[[0-9]+/[0-9]+\] )?STEP ' | sed -u 's/^\(.\{0,96\}\).*/    \1/'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "==> podman build failed (last 40 lines above)" >&2
    exit 1
  fi
}
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# The image a tag pointed to before, now untagged, unless a container still uses it.
drop_replaced() {
  local now
  now=$(image_id "$2")
  if [ -n "$1" ] && [ "$1" != "$now" ]; then podman rmi "$1" >/dev/null 2>&1 || true; fi
}

previous=$(image_id "$IMAGE")
previous_stage=$(image_id "$STAGE")
started=$(date +%s)
echo "==> building $IMAGE from $BASE (podman, host network); about 40 s from cold, seconds when cached"
build --target build -t "$STAGE"
build -t "$IMAGE"
drop_replaced "$previous" "$IMAGE"
drop_replaced "$previous_stage" "$STAGE"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "==> $IMAGE built in $(( $(date +%s) - started ))s ($(( size / 1000000 )) MB)"
