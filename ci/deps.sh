#!/usr/bin/env bash
# ci/deps.sh — installs every Debian package dynn needs to build, test and run.
# Idempotent: when everything is present it only checks (dpkg-query) and exits in well under a second.
# Set DYNN_DEPS_EXTRA=1 to also install the optional peers (python3-torch for bench/).
set -euo pipefail

packages=(
  openssh-server openssh-client  # tests/e2e/test_platform_ssh.sh runs a real sshd on 127.0.0.1
  build-essential pkg-config
  libopenblas-dev libopenblas-openmp-dev libyaml-dev libpcre2-dev libsqlite3-dev sqlite3 zlib1g-dev
  gnuplot-nox libcmocka-dev libxml2-utils
  dataset-fashion-mnist
  valgrind
  jq
)
if [ "${DYNN_DEPS_EXTRA:-0}" = 1 ]; then
  packages+=(python3-torch hyperfine)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "ci/deps.sh: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "ci/deps.sh: missing Debian packages: ${missing[*]}; run 'sudo ci/deps.sh' (or install them with apt-get as root)" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci/deps.sh: done"
