#!/usr/bin/env bash
# Makes sure podman can build and run the project's image on this machine (Debian, root or
# sudo): installs podman, runc and debootstrap if absent, and writes
# /etc/containers/containers.conf, but only where there is none or where it is the one this
# script wrote (its first line is MARKER); anyone else's file is left as it is, and named.
#
# Why these settings: podman's default ulimits exceed what these machines allow, crun refuses
# their hybrid cgroups (runc with cgroupfs does not), and the project uses host networking
# only, so no container ever gets a bridge network.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

MARKER="# Written by onedoor's deploy/local/ensure-podman.sh; it rewrites this file only while this line is first."
CONF=/etc/containers/containers.conf

packages=()
command -v podman >/dev/null || packages+=(podman)
command -v runc >/dev/null || packages+=(runc)
command -v debootstrap >/dev/null || packages+=(debootstrap)
if [ ${#packages[@]} -gt 0 ]; then
  echo "==> installing ${packages[*]} (Debian packages, for the image)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >/dev/null
fi

wanted="$MARKER
[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]
netns = \"host\"

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""

if [ ! -e "$CONF" ] || [ "$(head -n 1 "$CONF")" = "$MARKER" ]; then
  if [ "$(cat "$CONF" 2>/dev/null)" != "$wanted" ]; then
    echo "==> writing $CONF (runc, cgroupfs, host network, ulimits within the machine's)"
    as_root mkdir -p "$(dirname "$CONF")"
    printf '%s\n' "$wanted" | as_root tee "$CONF" >/dev/null
  fi
else
  echo "==> $CONF exists and was not written by this script: left as it is." >&2
  echo "    podman needs there: [containers] default_ulimits within the machine's limits and" >&2
  echo "    netns = \"host\"; [engine] runtime = \"runc\", cgroup_manager = \"cgroupfs\"." >&2
fi
