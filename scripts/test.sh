#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, then
# rustfmt, clippy (-D warnings), a build, and every test with a real Secret
# Service (gnome-keyring in a private D-Bus session) and a real X display
# (Xvfb), then starts the app through the README's run command.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Tests change HOME; rustup and cargo must keep finding themselves.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# CI clones afresh each run: keep the build cache outside the clone, so
# unchanged dependencies are not rebuilt. Cargo's fingerprints make this
# safe; the cache is dropped when it grows past 25 GB.
if [ "${CI:-}" = "true" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="${POSTFLOW_CI_CACHE:-/var/tmp/postflow-ci-cache}/target"
  mkdir -p "$CARGO_TARGET_DIR"
  if [ "$(du -s --block-size=1G "$CARGO_TARGET_DIR" | cut -f1)" -gt 25 ]; then
    echo "build cache over 25 GB: starting afresh" >&2
    rm -rf "$CARGO_TARGET_DIR" && mkdir -p "$CARGO_TARGET_DIR"
  fi
fi
target="${CARGO_TARGET_DIR:-$root/target}"

step "format"
cargo fmt --all -- --check
step "clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "build"
cargo build --locked --workspace

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export POSTFLOW_SHARED_DIR="${POSTFLOW_SHARED_DIR:-$root/../shared}"

step "tests (real Secret Service, Xvfb display)"
# A throwaway HOME gives gnome-keyring a new login keyring to unlock.
env HOME="$scratch/home" XDG_CACHE_HOME="$scratch/cache" MESA_SHADER_CACHE_DIR="$scratch/cache/mesa" \
  XDG_DATA_HOME="$scratch/home/.local/share" XDG_CONFIG_HOME="$scratch/home/.config" \
  POSTFLOW_REQUIRE_KEYCHAIN=1 POSTFLOW_REQUIRE_DISPLAY=1 NO_COLOR=1 \
  xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- bash -c '
    mkdir -p "$HOME"
    printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    cargo test --locked --workspace
  ' 2>&1 | tee "$scratch/tests.out"
# Every test binary's counts, summed for the closing line.
read -r passed failed < <(awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { print p + 0, f + 0 }' "$scratch/tests.out")

step "the README's run command starts the app"
run_home="$scratch/run-home"
mkdir -p "$run_home"
printf '[ui]\nstart_minimized = false\nstart_at_login = false\n' > "$scratch/run-settings.toml"
set +e
env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS HOME="$run_home" \
  XDG_CACHE_HOME="$scratch/cache" POSTFLOW_CONFIG="$scratch/run-settings.toml" \
  POSTFLOW_LOG_DIR="$scratch/run-logs" POSTFLOW_DATA_DIR="$scratch/run-data" NO_COLOR=1 \
  timeout 120 ./scripts/run.sh > "$scratch/run.out" 2>&1 &
run_pid=$!
for _ in $(seq 1 110); do
  grep -q "PostFlow window opened" "$scratch/run.out" && break
  sleep 1
done
set -e
if grep -q "PostFlow is ready: tray icon set up" "$scratch/run.out" && grep -q "PostFlow window opened" "$scratch/run.out"; then
  echo "run command: app started with its tray icon and window" >&2
  pkill -f "$target/debug/postflow-app" || true
  wait "$run_pid" 2>/dev/null || true
else
  cat "$scratch/run.out" >&2
  kill "$run_pid" 2>/dev/null || true
  echo "run command: the app did not start" >&2
  exit 1
fi
step "all checks passed"
# The run-command check above counts as one more passing test.
echo "$((passed + 1)) passed, $failed failed"
