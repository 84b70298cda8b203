#!/bin/bash
# Installs the Debian packages the project needs, only those missing.
# Used by tools/demo, tools/test and .ci/run. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  scons python3-kconfiglib                      # build and configuration
  g++-riscv64-linux-gnu g++-aarch64-linux-gnu   # cross compilers
  qemu-system-misc qemu-system-arm              # QEMU for riscv64 and aarch64
  gdb-multiarch device-tree-compiler            # debugging, device trees
  python3-pytest python3-pytest-xdist python3-pexpect  # system tests
  g++ cmake libgtest-dev                        # host unit tests
)

# lwIP's sources (Debian source package lwip 2.1.3) into third_party/lwip;
# offline when already fetched.
"$(dirname "$0")/fetch-lwip.sh"

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
