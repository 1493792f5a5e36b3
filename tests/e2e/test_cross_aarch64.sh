#!/usr/bin/env bash
# tests/e2e/test_cross_aarch64.sh — the aarch64 cross build (`make TARGET=aarch64`, armv8-a) under
# qemu-aarch64: an ARM executable whose 3x3 kernels are NEON code, the layer gradient checks pass on it,
# checkpoints are portable both ways (x86-trained evaluates on aarch64 to the same accuracy and loss,
# aarch64-trained on x86; a short training on aarch64 follows the x86 one step for step), and
# `dynn profile --json` prints a valid profile there. The checks are tests/e2e/cross.sh's, shared with
# test_cross_armhf.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cross.sh"
XT=aarch64
XCC=aarch64-linux-gnu-gcc
XQEMU=qemu-aarch64
XQEMU_CPU=
XFILE_RE='ELF 64-bit.*ARM aarch64'
XMARCH_RE='-march=armv8-a'
XUNAME=aarch64
XISA=NEON
XVFMA_RE='[[:space:]]fmla[[:space:]]+v[0-9]+\.4s'
XSFMA_RE='[[:space:]]fmadd[[:space:]]+s[0-9]+'
cross_checks
e2e_done
