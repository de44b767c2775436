#!/usr/bin/env bash
# Installs what PostFlow needs to build, run and test on Debian 12 (or Ubuntu),
# and nothing that is already there. Safe to run again: every step is a no-op
# when its work is done. Used by `scripts/run.sh`, `scripts/test.sh` and CI.
#
# Package list measured in ../shared/reference/linux-desktop-notes.md:
#   build:      build-essential pkg-config libwebkit2gtk-4.1-dev libdbus-1-dev
#   tray:       libayatana-appindicator3-1 (the app panics at start without it)
#   headless:   xvfb xauth
#   keychain:   gnome-keyring dbus (a real Secret Service for the secrets tests)
set -euo pipefail

PACKAGES=(
  build-essential pkg-config curl ca-certificates
  libwebkit2gtk-4.1-dev libdbus-1-dev
  libayatana-appindicator3-1
  xvfb xauth
  gnome-keyring dbus
)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    log "missing system packages: ${missing[*]}; install them with your package manager" && exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  log "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "system packages: all present"
fi

if ! command -v cargo >/dev/null; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    log "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
cargo clippy --version >/dev/null 2>&1 || { log "adding clippy"; rustup component add clippy; }
cargo fmt --version >/dev/null 2>&1 || { log "adding rustfmt"; rustup component add rustfmt; }
log "ready: $(cargo --version)"
