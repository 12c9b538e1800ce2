#!/usr/bin/env bash
# The console's browser test drives Debian's chromium (never a downloaded browser, since bureau
# machines are offline); installs it, with a Chinese font for legible screenshots, if absent.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
packages=()
command -v chromium >/dev/null || packages+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || packages+=(fonts-wqy-microhei)
if [ ${#packages[@]} -gt 0 ]; then
  echo "==> installing ${packages[*]} from Debian's packages (for the console's browser test)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >/dev/null
fi
