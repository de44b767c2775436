#!/usr/bin/env bash
# Builds PostFlow's Debian package with the Tauri CLI from the lockfile
# (ui/node_modules/.bin/tauri; no AppImage, whose bundler downloads tools at
# build time) and prints the .deb's path on its last line.
#
#   scripts/deb.sh            a release build (what is shipped; ~10 min cold
#                             on 2 cores)
#   scripts/deb.sh --debug    a debug build of the same package (CI's install
#                             test: minutes cold, seconds warm)
#
# The bundle is built in its own target directory: `tauri build` turns on
# `tauri/custom-protocol`, and sharing `target/` with `cargo build` would
# rebuild tauri back and forth.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh
. scripts/env.sh
profile=release
args=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  args+=(--debug)
fi
bash scripts/build-ui.sh
export CARGO_TARGET_DIR="${POSTFLOW_DEB_TARGET:-${CARGO_TARGET_DIR:-$root/target}-deb}"
# Debian wants a lowercase package name: Tauri makes it from productName
# ("PostFlow" would give "post-flow"), so the bundle is built as "postflow"
# and its desktop entry (src-tauri/postflow.desktop) still says PostFlow.
linux='{"productName": "postflow", "bundle": {"linux": {"deb": {"desktopTemplate": "postflow.desktop"}}}}'
(cd src-tauri && "$root/ui/node_modules/.bin/tauri" build --ci --bundles deb --config "$linux" "${args[@]}" >&2)
deb=$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb | head -1)
echo "$deb"
