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
(cd src-tauri && "$root/ui/node_modules/.bin/tauri" build --ci --bundles deb "${args[@]}" >&2)
deb=$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb | head -1)
echo "$deb"
