#!/usr/bin/env bash
# Install dist/blobscope_<version>_amd64.deb the way an operator would, on a pristine
# `debootstrap --variant=minbase bookworm` system, use both programs, purge it, check nothing is left.
# Run as root from anywhere in the repository; CI runs it after the test suite.
# Environment:
#   BLOBSCOPE_REUSE_DEB=1     use the existing .deb even if sources are newer (default: rebuild when stale)
#   BLOBSCOPE_DEBIAN_MIRROR   mirror for debootstrap (default http://deb.debian.org/debian)
#   BLOBSCOPE_CHROOT_CACHE    where the pristine minbase tarball is kept (default /var/cache/blobscope-test)
#   BLOBSCOPE_KEEP_CHROOT=1   leave the chroot on disk for inspection (mounts are still removed)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$BS_ROOT"
t0=$SECONDS
declare -A STEP_SECONDS=()
STEP_ORDER=()
step_start=$SECONDS
step_name=""
step() {
  if [ -n "$step_name" ]; then STEP_SECONDS[$step_name]=$((SECONDS - step_start)); STEP_ORDER+=("$step_name"); fi
  step_name=$1; step_start=$SECONDS
  bs_log "[$((SECONDS - t0))s] $1"
}
fail() { printf '\nPACKAGING TEST FAILED: %s\n' "$*" >&2; exit 1; }

source "$(dirname "$0")/chroot.sh"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' store/_version.py)
[ -n "$VERSION" ] || fail "cannot read __version__ from store/_version.py"
DEB="dist/blobscope_${VERSION}_amd64.deb"

step "host tools"
bs_apt_ensure python3

step "package"
stale=""
if [ -f "$DEB" ] && [ "${BLOBSCOPE_REUSE_DEB:-0}" != 1 ]; then
  stale=$(find store gui resources packaging pyproject.toml -newer "$DEB" -type f ! -name '*.pyc' -print -quit 2>/dev/null || true)
fi
if [ ! -f "$DEB" ] || [ -n "$stale" ]; then
  [ -n "$stale" ] && echo "rebuilding: $stale is newer than $DEB"
  ./packaging/build-deb.sh
else
  echo "reusing $DEB"
fi
[ -f "$DEB" ] || fail "packaging/build-deb.sh did not produce $DEB"
ls -l "$DEB"

step "minbase $SUITE chroot"
chroot_setup
cp "$DEB" "$ROOT/tmp/"

step "apt-get install ./$(basename "$DEB") (as an operator would)"
in_chroot "apt-get update -qq && apt-get install -y -q -o Dpkg::Use-Pty=0 ./tmp/$(basename "$DEB") >/tmp/apt-install.log 2>&1 \
  || { tail -n 40 /tmp/apt-install.log; exit 1; }
  grep -E '^(Need to get|After this operation)' /tmp/apt-install.log || true
  apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 xvfb xauth >/tmp/apt-xvfb.log 2>&1 \
  || { tail -n 40 /tmp/apt-xvfb.log; exit 1; }" || fail "installing the package in the chroot failed"
in_chroot "dpkg-query -W -f='\${Package} \${Version} \${db:Status-Status}\n' blobscope" | tee "$WORK/status"
grep -q "^blobscope $VERSION installed$" "$WORK/status" || fail "blobscope $VERSION is not installed"
in_chroot "dpkg -L blobscope" >"$WORK/files"

step "blobctl"
out=$(in_chroot "blobctl --version") || fail "blobctl --version failed"
echo "$out"
grep -q -- "$VERSION" <<<"$out" || fail "blobctl --version does not print $VERSION: $out"
head -c 300000 /dev/urandom >"$ROOT/tmp/payload.bin"
digest="sha256:$(sha256sum "$ROOT/tmp/payload.bin" | cut -d' ' -f1)"
in_chroot "blobctl --root /tmp/s import /tmp/payload.bin" || fail "blobctl import failed"
listing=$(in_chroot "blobctl --root /tmp/s ls") || fail "blobctl ls failed"
echo "$listing"
grep -q "$digest" <<<"$listing" || fail "blobctl ls does not list the imported $digest"
cmp "$ROOT/tmp/payload.bin" "$ROOT/tmp/s/blobs/sha256/${digest#sha256:}" || fail "the stored blob differs from the imported file"
# Labels (SQLite inside the bundle) and verify (hashing threads) work in the frozen program too.
in_chroot "blobctl --root /tmp/s label $digest org.example/checked=yes >/dev/null && blobctl --root /tmp/s ls -q 'labels.\"org.example/checked\"==yes'" \
  | grep -qx "$digest" || fail "blobctl label/ls with a label filter did not find $digest"
in_chroot "blobctl --root /tmp/s verify" || fail "blobctl verify failed on the imported blob"
# 20 001 small blobs, one of them damaged: blobctl verify forks worker processes for this many,
# which must work in the frozen program too (and find the bad one).
python3 - "$ROOT/tmp/many/blobs/sha256" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
os.makedirs(d)
for i in range(20001):
    data = b"blob %d" % i
    name = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if i != 777 else b"damaged")
PY
out=$(in_chroot "blobctl --root /tmp/many verify 2>&1") && fail "blobctl verify did not fail on a damaged blob: $out"
grep -q "^MISMATCH  sha256:$(printf 'blob 777' | sha256sum | cut -d' ' -f1)" <<<"$out" \
  || fail "blobctl verify (forked workers) did not name the damaged blob: $out"
grep -q "verified 20001 blobs.*1 do not match" <<<"$out" || fail "blobctl verify summary is wrong: $out"
grep "verified 20001" <<<"$out"

step "blobscope --demo --screenshot (offscreen)"
in_chroot "QT_QPA_PLATFORM=offscreen timeout 120 blobscope --demo --screenshot /tmp/offscreen.png" \
  || fail "blobscope --demo --screenshot failed offscreen"

step "blobscope --demo --screenshot (Xvfb, platform xcb)"
# QT_QPA_PLATFORM=xcb: fail loudly if the xcb plugin cannot load instead of falling back.
in_chroot "QT_QPA_PLATFORM=xcb timeout 120 xvfb-run -a -s '-screen 0 1280x1024x24' blobscope --demo --screenshot /tmp/xvfb.png" \
  || fail "blobscope --demo --screenshot failed under Xvfb"

step "screenshots are pictures of the window"
cp "$ROOT/tmp/offscreen.png" "$ROOT/tmp/xvfb.png" "$WORK/"
python3 tests/packaging/check_png.py "$WORK/offscreen.png" "$WORK/xvfb.png" || fail "a screenshot is blank or not a window"
if [ -n "${BLOBSCOPE_SCREENSHOT_DIR:-}" ]; then mkdir -p "$BLOBSCOPE_SCREENSHOT_DIR" && cp "$WORK"/*.png "$BLOBSCOPE_SCREENSHOT_DIR/"; fi

step "installed files"
for f in /usr/bin/blobscope /usr/bin/blobctl /usr/share/applications/org.blobscope.Blobscope.desktop \
         /usr/share/icons/hicolor/scalable/apps/org.blobscope.Blobscope.svg \
         /usr/share/metainfo/org.blobscope.Blobscope.metainfo.xml /usr/share/doc/blobscope/copyright; do
  grep -qx "$f" "$WORK/files" || fail "$f is not in the package"
  [ -e "$ROOT$f" ] || fail "$f is not on disk after installing"
done

step "apt-get purge"
in_chroot "apt-get purge -y -q -o Dpkg::Use-Pty=0 blobscope >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }" \
  || fail "apt-get purge blobscope failed"
status=$(in_chroot "dpkg-query -W -f='\${db:Status-Status}' blobscope 2>/dev/null" || true)
[ -z "$status" ] || [ "$status" = not-installed ] || fail "dpkg still lists blobscope after purge (status: $status)"
left=()
while IFS= read -r f; do
  p="$ROOT$f"
  [ -e "$p" ] || [ -L "$p" ] || continue
  # Directories such as /usr/share/applications are shared with other packages; ours must go.
  if [ -d "$p" ] && [ ! -L "$p" ]; then
    case "$f" in /usr/lib/blobscope | /usr/lib/blobscope/* | /usr/share/doc/blobscope) left+=("$f") ;; esac
    continue
  fi
  left+=("$f")
done <"$WORK/files"
[ "${#left[@]}" -eq 0 ] || fail "left behind after purge: ${left[*]}"
echo "nothing of blobscope is left ($(wc -l <"$WORK/files") paths checked)"

step "end"
printf '\npackaging test passed in %ss:\n' "$((SECONDS - t0))"
for s in "${STEP_ORDER[@]}"; do printf '  %4ss  %s\n' "${STEP_SECONDS[$s]}" "$s"; done
