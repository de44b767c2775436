#!/usr/bin/env bash
# The chaos soak (tests/chaos.rs): `postflow run` services on one filespace,
# each through its own FUSE mount (bindfs), renders arriving over time,
# SIGKILLs, one service killed for good, one mount unmounted and remounted,
# 5xx bursts, 429 storms, cut connections, expired upload URLs and access
# tokens; then the verdict against the Frame.io emulator and the fake
# Discord, and the figures as a markdown table.
#
#   scripts/chaos.sh           the full soak: 3 services, 300 renders, release build (10-30 min)
#   scripts/chaos.sh --short   2 services, 40 renders (about 2-3 min; CI, from scripts/test.sh)
#
# POSTFLOW_CHAOS_SEED=N replays the driver's choices; POSTFLOW_CHAOS_REPORT=FILE
# keeps the table. Needs root, /dev/fuse and bindfs (scripts/setup.sh). The
# services sign in through a private gnome-keyring (real token refreshes).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"

test_name=chaos_soak_full profile=(--release)
if [ "${1:-}" = "--short" ]; then
  # The debug build scripts/test.sh already made.
  test_name=chaos_soak_short profile=()
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/chaos.sh [--short]" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then echo "chaos.sh: needs root (FUSE mounts)" >&2; exit 1; fi
for tool in bindfs fusermount3 dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "chaos.sh: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done
[ -e /dev/fuse ] || { echo "chaos.sh: /dev/fuse is missing" >&2; exit 1; }

scratch=$(mktemp -d)
# Every exit path: the soak's mounts (under /var/tmp/postflow-chaos-PID) go.
cleanup() {
  awk '$2 ~ "^/var/tmp/postflow-chaos-[0-9]+/mnt-" { print $2 }' /proc/self/mounts |
    while read -r m; do fusermount3 -u -z "$m" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cargo build -q --locked "${profile[@]}" --bin postflow --test chaos
report="${POSTFLOW_CHAOS_REPORT:-$scratch/report.md}"
# A throwaway HOME gives gnome-keyring a new login keyring to unlock.
env HOME="$scratch/home" XDG_DATA_HOME="$scratch/home/.local/share" \
  XDG_CONFIG_HOME="$scratch/home/.config" XDG_CACHE_HOME="$scratch/cache" \
  POSTFLOW_CHAOS_REPORT="$report" NO_COLOR=1 \
  dbus-run-session -- bash -c '
    mkdir -p "$HOME"
    printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec cargo test -q --locked "$@" --test chaos -- --ignored --exact --nocapture "$0"
  ' "$test_name" "${profile[@]}"
