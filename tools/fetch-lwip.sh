#!/bin/bash
# Fetches lwIP 2.1.3 from Debian's source package `lwip` into third_party/lwip
# (ignored by git, compiled by SCons when CONFIG_LWIP is on).
#
# - Offline and quick when the tree is already there and verified.
# - Otherwise adds a deb-src entry for the same Debian archive the machine's
#   apt sources use (needs root), runs `apt-get source` for the pinned
#   version, checks the upstream tarball's SHA-256 and unpacks it.
# Exit status 0 when third_party/lwip holds the verified tree, else 1 with
# the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=2.1.3                      # lwIP release (LWIP_VERSION_STRING)
DEB_VERSION=2.1.3+dfsg1            # Debian's upstream version of that release
ORIG=lwip_${DEB_VERSION}.orig.tar.xz
# SHA-256 of the upstream tarball as Debian bookworm ships it (lwip 2.1.3+dfsg1-2).
ORIG_SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
DEST=third_party/lwip
STAMP=$DEST/.tern-fetched
SRC_LIST=/etc/apt/sources.list.d/tern-deb-src.sources

die() { echo "fetch-lwip: $*" >&2; exit 1; }

# The key files a build needs, with their SHA-256: a stale or edited tree is refetched.
key_files_ok() {
  [ -f "$STAMP" ] || return 1
  (cd "$DEST" && sha256sum --quiet --check .tern-fetched >/dev/null 2>&1)
}

version_ok() {
  local h=$1/src/include/lwip/init.h
  [ -f "$h" ] || return 1
  local maj min rev
  maj=$(sed -n 's/^#define LWIP_VERSION_MAJOR *\([0-9]*\).*/\1/p' "$h")
  min=$(sed -n 's/^#define LWIP_VERSION_MINOR *\([0-9]*\).*/\1/p' "$h")
  rev=$(sed -n 's/^#define LWIP_VERSION_REVISION *\([0-9]*\).*/\1/p' "$h")
  [ "$maj.$min.$rev" = "$VERSION" ]
}

if key_files_ok && version_ok "$DEST"; then
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: lwIP $VERSION comes from Debian's source package 'lwip' (see docs/networking.md)"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "run as root (a deb-src entry and 'apt-get update' need it)"
  SUDO=sudo
fi
if ! command -v dpkg-source >/dev/null; then
  echo "fetch-lwip: installing dpkg-dev (dpkg-source unpacks the source package)"
  { $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null; }; } ||
    die "cannot install dpkg-dev"
fi

# A deb-src entry for the archive the machine already uses: every 'deb'
# source (one-line or deb822 format) of the Debian archive, as 'deb-src'.
if ! apt-cache showsrc lwip 2>/dev/null | grep -q "^Version: ${DEB_VERSION}"; then
  if [ ! -f "$SRC_LIST" ]; then
    tmp=$(mktemp)
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      case "$f" in *tern-deb-src*) continue ;; esac
      if [[ "$f" == *.sources ]]; then
        # deb822: copy the stanzas of the Debian archive with Types: deb-src.
        awk 'BEGIN{RS="";ORS="\n\n"} /URIs:[^\n]*debian/ && /Types:[^\n]*deb/ {gsub(/Types:[^\n]*/,"Types: deb-src"); print}' "$f" >>"$tmp"
      else
        grep -E '^deb[[:space:]].*debian' "$f" | grep -v -- '-security' | sed -E 's/^deb[[:space:]]/deb-src /' |
          awk '{printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $2, $3; for(i=4;i<=NF;i++) printf " %s", $i; printf "\n\n"}' >>"$tmp" || true
      fi
    done
    [ -s "$tmp" ] || { rm -f "$tmp"; die "no Debian archive found in /etc/apt/sources.list(.d): cannot add a deb-src entry"; }
    echo "fetch-lwip: adding $SRC_LIST (deb-src for the same archive)"
    $SUDO install -m 644 "$tmp" "$SRC_LIST"
    rm -f "$tmp"
  fi
  echo "fetch-lwip: apt-get update"
  $SUDO apt-get update -qq || die "apt-get update failed (no network to the Debian archive?)"
  apt-cache showsrc lwip 2>/dev/null | grep -q "^Version: ${DEB_VERSION}" ||
    die "Debian's archive has no source package lwip ${DEB_VERSION}-* (apt-cache showsrc lwip)"
fi
deb_full=$(apt-cache showsrc lwip | awk -v v="$DEB_VERSION" '$1 == "Version:" && index($2, v "-") == 1 {print $2; exit}')

work=$(mktemp -d)
chmod 755 "$work"   # apt downloads as user _apt
trap 'rm -rf "$work"' EXIT
echo "fetch-lwip: apt-get source lwip=$deb_full"
(cd "$work" && apt-get source -qq --download-only "lwip=$deb_full" >"$work/log" 2>&1) ||
  { cat "$work/log" >&2; die "apt-get source lwip=$deb_full failed (network? deb-src entry in $SRC_LIST?)"; }
[ -f "$work/$ORIG" ] || die "the source package has no $ORIG"
echo "$ORIG_SHA256  $work/$ORIG" | sha256sum --quiet --check - ||
  die "$ORIG: SHA-256 mismatch (expected $ORIG_SHA256)"
# dpkg-source checks the sizes and checksums the .dsc lists (apt verified the
# .dsc itself against the archive's signed index) and applies Debian's patches.
(cd "$work" && dpkg-source -x ./*.dsc lwip >"$work/log" 2>&1) || { cat "$work/log" >&2; die "dpkg-source -x failed"; }
version_ok "$work/lwip" || die "the unpacked tree is not lwIP $VERSION"

rm -rf "$DEST"
mkdir -p third_party
mv "$work/lwip" "$DEST"
(cd "$DEST" && sha256sum src/include/lwip/init.h src/core/tcp.c src/core/ipv4/dhcp.c src/api/tcpip.c \
  src/netif/ethernet.c > .tern-fetched.tmp && mv .tern-fetched.tmp .tern-fetched)
echo "fetch-lwip: lwIP $VERSION ($deb_full) in $DEST"
