#!/usr/bin/env bash
# The base image the Dockerfile's PYTHON_IMAGE argument takes, made on this machine because no
# registry is reachable from it: a Debian bookworm root filesystem (debootstrap, minbase) with
# python3, python3-venv, python-is-python3 (the Dockerfile calls `python`) and ca-certificates,
# imported into podman. Skipped when the image already exists.
#   usage: base-image.sh [IMAGE]        (default localhost/debian-python:bookworm)
set -euo pipefail

IMAGE=${1:-localhost/debian-python:bookworm}
SUITE=bookworm
PACKAGES=python3,python3-venv,python-is-python3,ca-certificates

if podman image exists "$IMAGE"; then
  echo "==> base image $IMAGE exists; not rebuilt (podman rmi $IMAGE to rebuild it)"
  exit 0
fi

# The mirror apt already uses for Debian's main archive (not the security one): deb822
# .sources files first, then one-line sources.list entries.
mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    uri=$(awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
      tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i !~ /security/) { u = $i; break } }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
      END { if (u != "" && s) print u }' "$f" | head -n 1)
    if [ -n "$uri" ]; then echo "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    uri=$(awk -v suite="$SUITE" '$1 == "deb" {
        for (i = 2; i < NF; i++) if ($i !~ /^\[/ && $(i + 1) == suite && $i !~ /security/) { print $i; exit } }' "$f")
    if [ -n "$uri" ]; then echo "$uri"; return; fi
  done
  echo "http://deb.debian.org/debian"
}

started=$(date +%s)
MIRROR=$(mirror)
ROOTFS=$(mktemp -d /var/tmp/onedoor-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

echo "==> debootstrap $SUITE (minbase, with $PACKAGES) from $MIRROR; about a minute"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" \
  >"$ROOTFS.log" 2>&1 || { tail -n 30 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; exit 1; }
rm -f "$ROOTFS.log"
# Nothing downloaded needs to stay in the image.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

echo "==> importing the root filesystem as $IMAGE"
tar -C "$ROOTFS" -c . | podman import --quiet \
  --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
podman run --rm --network host "$IMAGE" python -c 'import venv, ssl; print("    python", __import__("sys").version.split()[0])'
echo "==> base image $IMAGE made in $(( $(date +%s) - started ))s"
