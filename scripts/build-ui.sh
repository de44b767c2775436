#!/usr/bin/env bash
# Builds the web UI (ui/dist): type check, then Vite. The Rust build embeds
# ui/dist in the desktop app and the headless service, so run this first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cd ui
npm run --silent build
