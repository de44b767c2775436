#!/usr/bin/env bash
# Sets up what is missing, builds PostFlow and starts the desktop app.
# On a machine without a display (a server, CI) it starts under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh

# The window's web UI first: the app embeds it.
bash scripts/build-ui.sh
cargo build --locked -p postflow-app
app="${CARGO_TARGET_DIR:-$(pwd)/target}/debug/postflow-app"

launch=("$app")
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-run-session >/dev/null; then
  launch=(dbus-run-session -- "${launch[@]}")
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "[run] no display: starting PostFlow under Xvfb" >&2
  launch=(xvfb-run -a -s '-screen 0 1280x800x24' "${launch[@]}")
fi
echo "[run] starting PostFlow (look for its icon in the tray; Ctrl-C stops it)" >&2
exec "${launch[@]}"
