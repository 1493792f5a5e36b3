#!/usr/bin/env bash
# ci/deps.sh — installs every Debian package dynn needs to build, test and run.
# Idempotent: when everything is present it only checks (dpkg-query) and exits in well under a second.
# Set DYNN_DEPS_EXTRA=1 to also install the optional peers (python3-torch, snakemake for bench/).
# `ci/deps.sh --cross` (or DYNN_DEPS_CROSS=1) also installs the aarch64 and 32-bit ARM (armhf) cross toolchains,
# qemu-user and the arm64 and armhf multiarch -dev libraries for `make TARGET=aarch64` and `make TARGET=armhf`
# (`make test` asks for them: tests/e2e/test_cross_aarch64.sh and test_cross_armhf.sh run those builds).
set -euo pipefail

cross=${DYNN_DEPS_CROSS:-0}
for arg in "$@"; do
  case $arg in
    --cross) cross=1 ;;
    *) echo "ci/deps.sh: unknown option '$arg' (known: --cross)" >&2; exit 2 ;;
  esac
done

packages=(
  openssh-server openssh-client  # tests/e2e/test_platform_ssh.sh runs a real sshd on 127.0.0.1
  build-essential pkg-config
  libopenblas-dev libopenblas-openmp-dev libyaml-dev libpcre2-dev libsqlite3-dev sqlite3 zlib1g-dev
  gnuplot-nox libcmocka-dev libxml2-utils
  dataset-fashion-mnist
  valgrind
  jq
  clang-14 libclang-rt-14-dev    # make fuzz-build: libFuzzer targets with ASan/UBSan (make test runs their corpora)
  ocl-icd-opencl-dev opencl-headers libclblast-dev clinfo  # the opencl backend (nn/backend_opencl.c)
  pocl-opencl-icd                # an OpenCL device on the CPU: make test runs the opencl backend on it
  slurm-wlm munge                # tests/e2e/test_slurm.sh starts a one-node Slurm cluster (tests/slurm/cluster.sh)
)
if [ "${DYNN_DEPS_EXTRA:-0}" = 1 ]; then
  packages+=(python3-torch hyperfine snakemake)  # snakemake: bench/slurm_overhead.sh's comparison
fi
add_archs=()
if [ "$cross" = 1 ]; then
  packages+=(gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user file)
  for arch in arm64 armhf; do
    packages+=(libopenblas-dev:$arch libopenblas-openmp-dev:$arch libyaml-dev:$arch libpcre2-dev:$arch
               libsqlite3-dev:$arch zlib1g-dev:$arch libcmocka-dev:$arch)
    dpkg --print-foreign-architectures | grep -qx $arch || add_archs+=("$arch")
  done
fi

# One dpkg-query for all; with a foreign architecture enabled, a Multi-Arch package is listed once per
# architecture as name:arch, so a bare name means the native one (or an Architecture: all package).
native=$(dpkg --print-architecture)
installed=$(dpkg-query -W -f='${binary:Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
            awk '$3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  q=$p; [[ $p == *:* ]] || q=$p:$native
  grep -qxF -e "$p" -e "$q" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ] && [ ${#add_archs[@]} -eq 0 ]; then
  exit 0
fi

echo "ci/deps.sh: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "ci/deps.sh: missing Debian packages: ${missing[*]}; run 'sudo ci/deps.sh$([ "$cross" = 1 ] && echo ' --cross')' (or install them with apt-get as root)" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
for arch in "${add_archs[@]}"; do
  $SUDO dpkg --add-architecture "$arch"
done
# A list that fails to download (a mirror mid-sync) fails the update; the install then uses the lists
# as they are and fails itself if a package is really missing.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq ||
  echo "ci/deps.sh: apt-get update failed for some package lists (above); installing from the lists as they are" >&2
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci/deps.sh: done"
