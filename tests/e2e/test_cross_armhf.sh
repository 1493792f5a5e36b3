#!/usr/bin/env bash
# tests/e2e/test_cross_armhf.sh — the 32-bit ARM cross build (`make TARGET=armhf`: armv7-a, NEON-VFPv4,
# hard float, the ODROID-XU3's Cortex-A15/A7) under qemu-arm emulating a Cortex-A15 (an instruction the
# board lacks would stop it): an ARM EABI executable whose 3x3 kernels are NEON code (vfma.f32 on q
# registers, not the scalar VFP code GCC makes of vector extensions without -funsafe-math-optimizations),
# the layer gradient checks pass on it (size_t is 32 bits there: workspace sizes saturate), checkpoints
# are portable both ways, a short training follows the x86 one step for step, and `dynn profile --json`
# prints a valid profile there. The checks are tests/e2e/cross.sh's, shared with test_cross_aarch64.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cross.sh"
XT=armhf
XCC=arm-linux-gnueabihf-gcc
XQEMU=qemu-arm
XQEMU_CPU=cortex-a15
XFILE_RE='ELF 32-bit LSB .*ARM, EABI5.*ld-linux-armhf'
XMARCH_RE='-march=armv7-a -mfpu=neon-vfpv4'
XUNAME=armv7l
XISA='NEON (armv7)'
XVFMA_RE='[[:space:]]vfma\.f32[[:space:]]+q[0-9]+'
XSFMA_RE='[[:space:]]vfma\.f32[[:space:]]+s[0-9]+'
cross_checks
e2e_done
