#!/usr/bin/env bash
# Takes the README's screenshots (docs/screenshots/): the shot board and the
# settings, light and dark, English and French, from `postflow demo` in
# Chromium. Look at them before you commit them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/env.sh
bash scripts/build-ui.sh
cargo build --locked -p postflow
mkdir -p docs/screenshots
cd ui
POSTFLOW_SCREENSHOTS="$(cd .. && pwd)/docs/screenshots" node --test e2e/screenshots.test.mjs
