#!/usr/bin/env bash
# Debian packages the embedded stack and its tests use: redis-server (the embedded Redis), kcat
# (the third-party client the tests read topics with), prometheus/promtool (the tests run the
# dashboards' PromQL and check the alert rules) and docker-compose (validates the compose file).
# Installs them when run as root, otherwise prints the exact command.
set -euo pipefail
packages=(redis-server kcat prometheus docker-compose)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts these as system services where it can; newsmon runs its own.
  service redis-server stop >/dev/null 2>&1 || true
  service prometheus stop >/dev/null 2>&1 || true
else
  echo "newsmon needs: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
