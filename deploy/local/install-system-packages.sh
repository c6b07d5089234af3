#!/usr/bin/env bash
# Debian packages the embedded stack and its tests use: redis-server (the embedded Redis) and
# kcat (the third-party client the tests read topics with). Installs them when run as root,
# otherwise prints the exact command.
set -euo pipefail
packages=(redis-server kcat)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts redis-server as a system service where it can; newsmon runs its own.
  service redis-server stop >/dev/null 2>&1 || true
else
  echo "newsmon needs: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
