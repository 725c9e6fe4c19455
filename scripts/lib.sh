# Shared set-up steps for scripts/run, scripts/test and packaging/build-deb.sh.
# Sourced, not executed. Every step is idempotent: it only does what is missing.

BS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BS_VENV="$BS_ROOT/.venv"
BS_PY="$BS_VENV/bin/python"
BS_APT_UPDATED=0

# Debian packages the GUI needs at run time from a pip-installed PySide6 (the wheel ships Qt,
# not the system libraries Qt links to; the xcb ones are for a real X display).
BS_APT_GUI_RUNTIME=(
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libgssapi-krb5-2
  fonts-dejavu-core
)

bs_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
bs_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
bs_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    bs_die "this step needs root and sudo is not installed; run as root: $*"
  fi
}

bs_apt_missing() {
  local p st
  for p in "$@"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || printf '%s\n' "$p"
  done
}

bs_apt_update_once() {
  [ "$BS_APT_UPDATED" -eq 1 ] && return 0
  bs_log "apt-get update"
  # An unreachable third-party source only warns; the Debian mirror is what we need.
  bs_as_root apt-get update -qq || bs_log "apt-get update reported errors; trying to install anyway"
  BS_APT_UPDATED=1
}

# bs_apt_ensure PKG...: install the Debian packages that are not installed yet.
bs_apt_ensure() {
  command -v dpkg-query >/dev/null 2>&1 || bs_die "this script needs a Debian-based system (dpkg/apt)"
  local missing
  mapfile -t missing < <(bs_apt_missing "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  bs_log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No package lists at all (a fresh image): update first; otherwise only when install fails.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    bs_apt_update_once
  fi
  local opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
  bs_services_held
  if ! bs_as_root apt-get install "${opts[@]}" "${missing[@]}" </dev/null; then
    if [ "$BS_APT_UPDATED" -eq 1 ]; then bs_services_released; bs_die "apt-get could not install: ${missing[*]}"; fi
    bs_apt_update_once
    bs_as_root apt-get install "${opts[@]}" "${missing[@]}" </dev/null \
      || { bs_services_released; bs_die "apt-get could not install: ${missing[*]}"; }
  fi
  bs_services_released
}

# The tests install containerd and openssh-server only for the private daemons they start
# themselves: the machine's own containerd and sshd must not be started (or enabled) by the
# install. invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d; exit code 101 means
# "no service actions". An existing policy of the machine's is left as it is.
BS_POLICY_RC=/usr/sbin/policy-rc.d
BS_POLICY_OURS=0
bs_services_held() {
  [ -e "$BS_POLICY_RC" ] && return 0
  printf '#!/bin/sh\n# written by Blobscope scripts/lib.sh for the length of one apt-get install\nexit 101\n' \
    | bs_as_root tee "$BS_POLICY_RC" >/dev/null && bs_as_root chmod 0755 "$BS_POLICY_RC" && BS_POLICY_OURS=1
}
bs_services_released() {
  [ "$BS_POLICY_OURS" -eq 1 ] || return 0
  bs_as_root rm -f "$BS_POLICY_RC"
  BS_POLICY_OURS=0
}

# Print a Python >= 3.11 that can create venvs; install Debian's python3 if there is none.
bs_find_python() {
  local c
  for c in "${BLOBSCOPE_PYTHON:-}" python3.11 python3.12 python3.13 python3 /usr/bin/python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  # Debian 12's python3 is 3.11; venv needs python3-venv (ensurepip) on Debian.
  bs_apt_ensure python3 python3-venv >&2
  /usr/bin/python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
    || bs_die "no Python >= 3.11 with venv support found (set BLOBSCOPE_PYTHON=/path/to/python3.11)"
  echo /usr/bin/python3
}

# bs_venv EXTRAS: make .venv if missing (or broken) and install the project editable with the
# pinned constraints. Skips pip when pyproject.toml, constraints.txt and the extras are unchanged.
bs_venv() {
  local extras=$1 stamp="$BS_VENV/.blobscope-install-${1//,/-}" want
  if [ ! -x "$BS_PY" ] || ! "$BS_PY" -c 'import sys' >/dev/null 2>&1; then
    local py; py=$(bs_find_python)
    bs_log "creating $BS_VENV with $py ($("$py" -V 2>&1))"
    rm -rf "$BS_VENV"
    "$py" -m venv "$BS_VENV"
  fi
  want="$extras $(cat "$BS_ROOT/pyproject.toml" "$BS_ROOT/constraints.txt" | sha256sum | cut -c1-64)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$BS_PY" -c 'import importlib.metadata as m; m.version("blobscope"); m.version("PySide6-Essentials")' >/dev/null 2>&1; then
    return 0
  fi
  bs_log "installing blobscope[$extras] into $BS_VENV (constraints.txt pins PySide6-Essentials)"
  (cd "$BS_ROOT" && "$BS_PY" -m pip install -q --disable-pip-version-check \
      -c constraints.txt -e ".[$extras]") || bs_die "pip install failed (see above)"
  "$BS_PY" - <<'EOF' || bs_die "the venv has the wrong PySide6 (see above)"
import sys
from importlib.metadata import version
v = version("PySide6-Essentials")
if v == "6.12.0" and sys.version_info[:2] == (3, 11):
    sys.exit(f"PySide6-Essentials {v} crashes on CPython 3.11 (bool_dealloc); constraints.txt must pin 6.11.3")
EOF
  echo "$want" >"$stamp"
}
