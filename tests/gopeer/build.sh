#!/usr/bin/env bash
# Build gopeer against Debian's packaged containerd source (GOPATH mode, no
# module proxy needed). Idempotent: installs the apt packages only if missing.
#
#   ./build.sh            -> ./gopeer (Debian bookworm's default Go, 1.19)
#                            and, if bookworm-backports is usable,
#                            ./gopeer-go1.23 (Go 1.23, SHA-NI sha256 on amd64)
#   GOPEER_BACKPORTS=0 ./build.sh   -> skip the backports toolchain entirely
#   GOPEER_OUT=DIR ./build.sh       -> put the binaries in DIR (default: next to this script)
# Blobscope's copy of ../shared/peers/gopeer; main.go adds `check` and `resume ... DIGEST`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

missing() { # prints the packages among "$@" that are not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

apt_updated=0
apt_install() {
  local need
  need="$(missing "$@")"
  [ -z "$need" ] && return 0
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq; apt_updated=1; fi
  # shellcheck disable=SC2086
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $need >/dev/null
}

apt_install golang-go golang-github-containerd-containerd-dev

GOPATH_DIRS="${GOPEER_GOPATH:-/tmp/gopeer-gopath}:/usr/share/gocode"
mkdir -p "${GOPATH_DIRS%%:*}"
OUT="${GOPEER_OUT:-$here}"
mkdir -p "$OUT"
build() { # build GO_BINARY OUTPUT
  # build under a temporary name and rename, so concurrent test runs never see half a binary
  local tmp="$OUT/.$2.tmp.$$"
  GO111MODULE=off GOPATH="$GOPATH_DIRS" GOFLAGS= GOCACHE="${GOCACHE:-/tmp/gopeer-gocache}" "$1" build -o "$tmp" .
  mv -f "$tmp" "$OUT/$2"
  echo "$OUT/$2"
}

build /usr/bin/go gopeer

if [ "${GOPEER_BACKPORTS:-1}" != 0 ]; then
  GO_NEW=golang-1.23-go
  src=/etc/apt/sources.list.d/bookworm-backports.sources
  if [ -z "$(missing "$GO_NEW")" ] || {
       . /etc/os-release
       [ "${VERSION_CODENAME:-}" = bookworm ] && {
         if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
           uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
           printf '%s\n' "Types: deb" "URIs: ${uri}" \
             "Suites: bookworm-backports" "Components: main" \
             "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" | $SUDO tee "$src" >/dev/null
           apt_updated=0
         fi
         apt_install "$GO_NEW"
       }
     } 2>/dev/null; then
    build /usr/lib/go-1.23/bin/go gopeer-go1.23
  else
    echo "note: $GO_NEW (bookworm-backports) not installable; built only ./gopeer" >&2
  fi
fi
