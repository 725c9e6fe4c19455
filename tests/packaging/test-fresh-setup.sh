#!/usr/bin/env bash
# The README's two commands on a machine that has nothing: a pristine
# `debootstrap --variant=minbase bookworm` root (no Python, no Qt libraries, no containerd),
# a clone of this repository's HEAD in /root/blobscope and ../shared beside it. Runs
# `./scripts/test` (the whole default suite) and `./scripts/run --demo --screenshot` offscreen.
# Not part of .ci/run (CI already starts from a fresh machine); run it by hand as root to check
# that the scripts install everything a newcomer needs. Extra arguments go to ./scripts/test.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/chroot.sh"
cd "$BS_ROOT"
t0=$SECONDS
lap() { bs_log "[$((SECONDS - t0))s] $*"; }

lap "minbase $SUITE chroot"
bs_apt_ensure git python3
chroot_setup
git clone -q "$BS_ROOT" "$ROOT/root/blobscope"
[ -d "$BS_ROOT/../shared" ] && cp -a "$BS_ROOT/../shared" "$ROOT/root/shared"
# A host whose PyPI traffic needs its own CA bundle (PIP_CERT, e.g. behind a TLS proxy) lends it.
pip_env=""
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
  cp "$PIP_CERT" "$ROOT/root/host-ca-bundle.crt"
  pip_env="PIP_CERT=/root/host-ca-bundle.crt"
fi

lap "./scripts/test $*"
t=$SECONDS
test_rc=0
in_chroot "cd /root/blobscope && $pip_env CI=true ./scripts/test $(printf '%q ' "$@") </dev/null" || test_rc=$?
test_s=$((SECONDS - t))

lap "./scripts/run --demo --screenshot (offscreen)"
t=$SECONDS
in_chroot "cd /root/blobscope && $pip_env QT_QPA_PLATFORM=offscreen timeout 120 ./scripts/run --demo --screenshot /tmp/run.png </dev/null"
run_s=$((SECONDS - t))
python3 tests/packaging/check_png.py "$ROOT/tmp/run.png"

lap "done: ./scripts/test ${test_s}s (set-up included, exit $test_rc), ./scripts/run ${run_s}s, $((SECONDS - t0))s in all"
exit "$test_rc"
