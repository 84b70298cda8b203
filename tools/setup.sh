#!/bin/bash
# Installs the Debian packages a command needs, only those missing. With
# everything present it runs neither apt-get nor anything else that needs
# the network. Needs root (or sudo) only when something is missing.
#
#   tools/setup.sh GROUP...     (no GROUP: all of them)
#
#   build   scons, Kconfiglib, the cross compilers     (tools/demo, tools/test)
#   run     QEMU for both boards                       (tools/demo, tools/test)
#   test    pytest, GoogleTest, CMake, dtc, gdb, ccache, matplotlib, clang-format,
#           cppcheck, dosfstools, mtools, fdisk, clang-14 + libFuzzer (tools/test,
#           .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A PACKAGES=(
  [build]="scons python3-kconfiglib g++-riscv64-linux-gnu g++-aarch64-linux-gnu"
  [run]="qemu-system-misc qemu-system-arm"
  # gdb-multiarch: the --gdb test; device-tree-compiler: host-test fixtures;
  # ccache: repeated host-test builds (tools/test); python3-matplotlib: the
  # PNG charts of tools/bench.py --chart; clang-format, cppcheck:
  # tools/format.py and tools/lint.py; dosfstools (mkfs.fat, fsck.fat), mtools
  # (mcopy, mdir) and fdisk (sfdisk): FAT images made and checked on the host
  # (tools/disk.py, the fs tests); clang-14, libfuzzer-14-dev: the fuzz targets
  # (tools/fuzz.py); python3-pytest-timeout: a hung test fails (tests/pytest.ini).
  [test]="python3-pytest python3-pytest-xdist python3-pytest-timeout python3-pexpect g++ cmake
          libgtest-dev device-tree-compiler gdb-multiarch ccache python3-matplotlib clang-format
          cppcheck dosfstools mtools fdisk clang-14 libfuzzer-14-dev"
)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(build run test)

wanted=()
for g in "${groups[@]}"; do
  [ -n "${PACKAGES[$g]+x}" ] || { echo "setup: unknown group '$g' (build, run, test)" >&2; exit 2; }
  # shellcheck disable=SC2206  # package names: split on whitespace, no globs
  wanted+=(${PACKAGES[$g]})
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for g in "${groups[@]}"; do
  if [ "$g" = build ]; then
    # lwIP's sources (Debian source package lwip 2.1.3) into third_party/lwip;
    # like the package check above, nothing touches the network when they
    # are already in place.
    tools/fetch-lwip.sh
  fi
done
