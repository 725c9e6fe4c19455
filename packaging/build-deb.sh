#!/usr/bin/env bash
# Build dist/blobscope_<version>_amd64.deb: a PyInstaller one-folder bundle of blobscope and
# blobctl under /usr/lib/blobscope, wrapped with plain dpkg-deb (no debhelper).
# No arguments; run from the repository root. Installs its own build tools (apt + .venv).
# Environment: BLOBSCOPE_DEB_COMPRESSION=xz|gzip (default xz), BLOBSCOPE_MAINTAINER="Name <mail>".
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$BS_ROOT"
t0=$SECONDS
step() { bs_log "[$((SECONDS - t0))s] $*"; }

[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] || bs_die "this script builds amd64 packages on an amd64 Debian host"
for f in packaging/blobscope.spec resources/org.blobscope.Blobscope.desktop \
         resources/org.blobscope.Blobscope.metainfo.xml resources/icons/org.blobscope.Blobscope.svg; do
  [ -f "$f" ] || bs_die "missing $f (it is part of the package)"
done

step "build tools"
# binutils: PyInstaller reads ELF headers with objdump; the GUI runtime libraries must be on the
# build host because PyInstaller bundles the ones it finds (research A.2: xcb-cursor/icccm/keysyms).
bs_apt_ensure binutils patchelf help2man dpkg-dev desktop-file-utils appstream lintian gzip xz-utils "${BS_APT_GUI_RUNTIME[@]}"
bs_venv build

VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' store/_version.py)
[ -n "$VERSION" ] || bs_die "cannot read __version__ from store/_version.py"
ARCH=amd64
PKG=blobscope
APP_ID=org.blobscope.Blobscope
MAINTAINER=${BLOBSCOPE_MAINTAINER:-"Blobscope developers <maintainers@blobscope.org>"}
COMPRESSION=${BLOBSCOPE_DEB_COMPRESSION:-xz}
OUT="dist/${PKG}_${VERSION}_${ARCH}.deb"
WORK=build/deb
# Reproducible timestamps: the last commit's date when we are in git, else now.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

step "PyInstaller bundle (version $VERSION)"
rm -rf "$WORK" build/pyinstaller
"$BS_PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath build/pyinstaller/dist --workpath build/pyinstaller/work packaging/blobscope.spec
BUNDLE=build/pyinstaller/dist/blobscope
[ -x "$BUNDLE/blobscope" ] && [ -x "$BUNDLE/blobctl" ] || bs_die "PyInstaller did not produce both executables in $BUNDLE"

step "stripping libraries and dropping build-host RUNPATHs"
# Like dh_strip: debug symbols out of every shared object. Never the two executables: the
# PyInstaller bootloader finds its archive appended to itself, and strip would cut it off.
# The pyenv build links CPython's modules with RUNPATH=<build host prefix>/lib, which means
# nothing on the target (the bootloader points the loader at _internal/).
while IFS= read -r -d '' f; do
  [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
  rp=$(patchelf --print-rpath "$f" 2>/dev/null || true)
  if [ -n "$rp" ] && [ "${rp#\$ORIGIN}" = "$rp" ]; then
    patchelf --remove-rpath "$f"
  fi
done < <(find "$BUNDLE/_internal" -type f -print0)

step "smoke test of the bundle"
QT_QPA_PLATFORM=offscreen "$BUNDLE/blobctl" --version
QT_QPA_PLATFORM=offscreen "$BUNDLE/blobscope" --version

step "staging the package tree"
ROOT="$WORK/root"
mkdir -p -m 0755 "$ROOT/DEBIAN"
mkdir -p "$ROOT/DEBIAN" "$ROOT/usr/lib" "$ROOT/usr/bin" "$ROOT/usr/share/applications" \
  "$ROOT/usr/share/icons/hicolor/scalable/apps" "$ROOT/usr/share/metainfo" \
  "$ROOT/usr/share/doc/$PKG" "$ROOT/usr/share/lintian/overrides" "$ROOT/usr/share/man/man1"
cp -a "$BUNDLE" "$ROOT/usr/lib/$PKG"
ln -s "../lib/$PKG/blobscope" "$ROOT/usr/bin/blobscope"
ln -s "../lib/$PKG/blobctl" "$ROOT/usr/bin/blobctl"
install -m 0644 "resources/$APP_ID.desktop" "$ROOT/usr/share/applications/$APP_ID.desktop"
install -m 0644 "resources/icons/$APP_ID.svg" "$ROOT/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
# The release entry is added here, so the version stays written only in store/_version.py.
sed "s|</component>|  <releases>\n    <release version=\"$VERSION\" date=\"$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)\"/>\n  </releases>\n</component>|" \
  "resources/$APP_ID.metainfo.xml" >"$ROOT/usr/share/metainfo/$APP_ID.metainfo.xml"
grep -q "<release version=\"$VERSION\"" "$ROOT/usr/share/metainfo/$APP_ID.metainfo.xml" || bs_die "could not add the release to the metainfo"
install -m 0644 packaging/debian/copyright "$ROOT/usr/share/doc/$PKG/copyright"
install -m 0644 packaging/debian/lintian-overrides "$ROOT/usr/share/lintian/overrides/$PKG"
# Manual pages from the programs' own --help, so they cannot drift from the argument parsers.
QT_QPA_PLATFORM=offscreen help2man --no-info --version-string="$VERSION" \
  --name="command line for containerd content stores" "$BUNDLE/blobctl" | gzip -9n >"$ROOT/usr/share/man/man1/blobctl.1.gz"
QT_QPA_PLATFORM=offscreen help2man --no-info --version-string="$VERSION" \
  --name="desktop browser for containerd content stores" "$BUNDLE/blobscope" | gzip -9n >"$ROOT/usr/share/man/man1/blobscope.1.gz"
# The Debian changelog is generated so the version stays written only in store/_version.py.
{
  printf '%s (%s) unstable; urgency=medium\n\n' "$PKG" "$VERSION"
  printf '  * Blobscope %s, built from git commit %s.\n' "$VERSION" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf '    The project history is in its git log.\n\n'
  printf ' -- %s  %s\n' "$MAINTAINER" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$ROOT/usr/share/doc/$PKG/changelog.gz"
# Debian policy modes: directories 755, files 644 (libraries are not executables), the two programs 755.
find "$ROOT/usr" -type d -exec chmod 0755 {} +
find "$ROOT/usr" -type f -exec chmod 0644 {} +
chmod 0755 "$ROOT/usr/lib/$PKG/blobscope" "$ROOT/usr/lib/$PKG/blobctl"

DEPENDS=$(grep -v '^#' packaging/debian/depends | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
RECOMMENDS=$(grep -v '^#' packaging/debian/recommends | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
INSTALLED_KB=$(du -sk --apparent-size "$ROOT/usr" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$INSTALLED_KB|" -e "s|@DEPENDS@|$DEPENDS|" -e "s|@RECOMMENDS@|$RECOMMENDS|" \
    packaging/debian/control.in >"$ROOT/DEBIAN/control"
chmod 0644 "$ROOT/DEBIAN/control"
# md5sums: dpkg --verify and lintian expect them
(cd "$ROOT" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/md5sums"
find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

step "validating desktop entry and AppStream metainfo"
desktop-file-validate "$ROOT/usr/share/applications/$APP_ID.desktop"
appstreamcli validate --no-net --pedantic "$ROOT/usr/share/metainfo/$APP_ID.metainfo.xml"

step "dpkg-deb ($COMPRESSION)"
mkdir -p dist
rm -f "$OUT"
# xz: the smallest download for operators (about 2/3 of gzip) and dpkg's default; gzip builds ~8x faster.
dpkg-deb --root-owner-group -Z"$COMPRESSION" -z6 --build "$ROOT" "$OUT"

step "lintian"
lintian --fail-on error,warning "$OUT"

step "done: $OUT ($(du -h "$OUT" | cut -f1), installed $((INSTALLED_KB / 1024)) MiB)"
