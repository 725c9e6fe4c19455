# A pristine `debootstrap --variant=minbase bookworm` root for the packaging tests. Sourced.
# chroot_setup: makes $WORK and $ROOT, unpacks (or debootstraps and caches) the root, mounts
# /proc, /sys, /dev/pts and /dev/shm, and installs an EXIT trap that always unmounts them.
# in_chroot 'shell code': runs it as root in the chroot with a clean environment.
# Environment: BLOBSCOPE_DEBIAN_MIRROR, BLOBSCOPE_CHROOT_CACHE, BLOBSCOPE_KEEP_CHROOT=1 (see test-deb.sh).

SUITE=bookworm
MIRROR=${BLOBSCOPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${BLOBSCOPE_CHROOT_CACHE:-/var/cache/blobscope-test}
MOUNTS=()

chroot_cleanup() {
  local rc=$? m i
  # Unmount in reverse order; lazily if something still holds a mount (a stray daemon).
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${MOUNTS[$i]}
    mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m" || true; }
  done
  # Never delete a tree that still has something mounted in it (a bound /dev would be emptied).
  if findmnt -rn -o TARGET | grep -q "^$WORK/"; then
    echo "warning: mounts remain under $WORK; not deleting it:" >&2
    findmnt -rn -o TARGET | grep "^$WORK/" >&2
  elif [ "${BLOBSCOPE_KEEP_CHROOT:-0}" = 1 ]; then
    echo "chroot kept in $ROOT" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}

chroot_setup() {
  [ "$(id -u)" -eq 0 ] || bs_die "debootstrap and chroot need root; run this as root (CI does)"
  bs_apt_ensure debootstrap debian-archive-keyring util-linux
  WORK=$(mktemp -d /var/tmp/blobscope-chroot.XXXXXX)
  ROOT="$WORK/root"
  trap chroot_cleanup EXIT
  trap 'exit 130' INT TERM
  local tarball
  tarball="$CACHE/$SUITE-minbase-$(printf '%s' "$MIRROR" | sha256sum | cut -c1-12).tar"
  mkdir -p "$ROOT"
  if [ -f "$tarball" ]; then
    echo "unpacking the cached pristine chroot $tarball"
    tar -C "$ROOT" -xpf "$tarball"
  else
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
      || { tail -n 30 "$WORK/debootstrap.log" >&2; bs_die "debootstrap of $SUITE from $MIRROR failed"; }
    # Cache the pristine root: the next run on this machine skips the ~30-50 s download.
    mkdir -p "$CACHE"
    tar -C "$ROOT" -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  fi
  mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
  mount -t sysfs sysfs "$ROOT/sys" && MOUNTS+=("$ROOT/sys")
  mkdir -p "$ROOT/dev/pts" "$ROOT/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts" && MOUNTS+=("$ROOT/dev/pts")
  mount -t tmpfs tmpfs "$ROOT/dev/shm" && MOUNTS+=("$ROOT/dev/shm")
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  # No service may start inside the chroot (containerd's and dbus's postinst try to).
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" && chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
}

in_chroot() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive /bin/bash -ec "$1"
}
