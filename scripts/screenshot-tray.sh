#!/usr/bin/env bash
# Takes the README's screenshots of the tray menu (docs/screenshots/
# tray-menu-{en,fr}.png) from the real app: under Xvfb, with an X11 system
# tray (trayer) where the app's icon lands, the Frame.io emulator on
# loopback, two renders uploaded (so that "Recent uploads" has something to
# show); the icon is clicked with
# xdotool and the screen captured with ImageMagick. Look at them before you
# commit them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh >/dev/null
. scripts/env.sh
# What only this script needs.
need=()
for p in trayer xdotool imagemagick; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/build-ui.sh >/dev/null
cargo build -q -p postflow-app -p postflow-frameio-emulator
target="${CARGO_TARGET_DIR:-target}/debug"

shoot() {
  local lang=$1 work
  work=$(mktemp -d)
  cat > "$work/session.sh" <<'SESSION'
set -eu
trayer --edge top --align right --widthtype request --height 32 --tint 0x2b2b2b --transparent false --SetDockType true &
sleep 1
"$TARGET/postflow-frameio-emulator" --port 0 --no-rate-limits > "$WORK/emulator.json" 2>/dev/null &
for _ in $(seq 50); do [ -s "$WORK/emulator.json" ] && break; sleep 0.1; done
field() { python3 -c "import json; print(json.load(open('$WORK/emulator.json'))['$1'])"; }
mkdir -p "$WORK/BY_SHOT"
cat > "$WORK/settings.toml" <<TOML
[watch]
root = "$WORK/BY_SHOT"
readiness_window_secs = 1
rescan_interval_secs = 1
[frameio]
api_base_url = "$(field base_url)"
ims_base_url = "$(field base_url)"
account_id = "$(field account_id)"
project_id = "$(field project_id)"
[ui]
start_minimized = true
start_at_login = false
language = "$LANG_UI"
TOML
head -c 300000 /dev/urandom > "$WORK/BY_SHOT/SC01_UNDLM_00412_V002.mov"
head -c 300000 /dev/urandom > "$WORK/BY_SHOT/SC01_UNDLM_00413_V001.mov"
env HOME="$WORK/home" XDG_CACHE_HOME="$WORK/cache" POSTFLOW_CONFIG="$WORK/settings.toml" \
  POSTFLOW_DATA_DIR="$WORK/data" POSTFLOW_LOG_DIR="$WORK/logs" POSTFLOW_FRAMEIO_TOKEN="$(field token)" \
  "$TARGET/postflow-app" > "$WORK/app.log" 2>&1 &
sleep 12
# The icon sits at the screen's top right corner, in trayer's strip.
xdotool mousemove 1007 16
sleep 0.5
xdotool click 1
sleep 2
# The top right corner: the tray and its open menu.
import -window root -crop 460x400+564+0 +repage "$WORK/screen.png"
SESSION
  WORK="$work" TARGET="$target" LANG_UI="$lang" \
    xvfb-run -a -s '-screen 0 1024x640x24' dbus-run-session -- bash "$work/session.sh" 2>/dev/null || true
  if [ -s "$work/screen.png" ]; then
    cp "$work/screen.png" "$root/docs/screenshots/tray-menu-$lang.png"
    echo "docs/screenshots/tray-menu-$lang.png" >&2
  else
    echo "no screenshot for $lang (see $work)" >&2
  fi
}
shoot en
shoot fr
