#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, then
# rustfmt, clippy (-D warnings), a build, and every test with a real Secret
# Service (gnome-keyring in a private D-Bus session) and a real X display
# (Xvfb), then starts the app through the README's run command.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh
. scripts/env.sh
# Tests change HOME; rustup and cargo must keep finding themselves.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# CI clones afresh each run: keep the build cache outside the clone, so
# unchanged dependencies are not rebuilt. Cargo's fingerprints make this
# safe; the cache is dropped when it grows past 25 GB.
if [ "${CI:-}" = "true" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="${POSTFLOW_CI_CACHE:-/var/tmp/postflow-ci-cache}/target"
  mkdir -p "$CARGO_TARGET_DIR"
  # Incremental caches grow fastest and matter least: pruned first.
  if [ "$(du -s --block-size=1G "$CARGO_TARGET_DIR" | cut -f1)" -gt 18 ]; then
    rm -rf "$CARGO_TARGET_DIR"/debug/incremental
  fi
  if [ "$(du -s --block-size=1G "$CARGO_TARGET_DIR" | cut -f1)" -gt 25 ]; then
    echo "build cache over 25 GB: starting afresh" >&2
    rm -rf "$CARGO_TARGET_DIR" && mkdir -p "$CARGO_TARGET_DIR"
  fi
fi
target="${CARGO_TARGET_DIR:-$root/target}"

step "format"
cargo fmt --all -- --check
step "web UI: type check, lint, build"
(cd ui && npm run --silent check)
bash scripts/build-ui.sh
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
if [ "$failed" -ne 0 ] || ! grep -q '^test result:' "$scratch/tests.out"; then
  echo "cargo test failed" >&2
  exit 1
fi

step "chaos soak, short: 2 services on FUSE mounts, SIGKILLs, faults (scripts/chaos.sh)"; bash scripts/chaos.sh --short; passed=$((passed + 1))

step "TypeScript bindings: committed, and up to date with the Rust view types"
# The bindings test (crates/api/tests/bindings.rs) just rewrote them.
if ! git diff --exit-code --stat -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard -- ui/src/bindings)" ]; then
  git status --short -- ui/src/bindings >&2
  echo "ui/src/bindings is stale: a Rust view type changed; run \`cargo test -p postflow-api --test bindings\` and commit ui/src/bindings" >&2
  exit 1
fi
(cd ui && npx tsc --noEmit)

step "web UI in Chromium (playwright-core) against postflow demo"
shots="${POSTFLOW_SCREENSHOTS:-$scratch/screenshots}"
mkdir -p "$shots"
env POSTFLOW_SCREENSHOTS="$shots" CARGO_TARGET_DIR="$target" XDG_CONFIG_HOME="$scratch/e2e-config" \
  POSTFLOW_KEYCHAIN_SERVICE="io.postflow.test.e2e.$$" \
  bash -c 'cd ui && npm run --silent e2e' 2>&1 | tee "$scratch/e2e.out"
read -r e2e_passed e2e_failed < <(awk '/^# pass/ { p = $3 } /^# fail/ { f = $3 } END { print p + 0, f + 0 }' "$scratch/e2e.out")
if [ "$e2e_failed" -ne 0 ] || [ "$e2e_passed" -eq 0 ]; then
  echo "browser tests failed" >&2
  exit 1
fi
passed=$((passed + e2e_passed))

step "the .deb: built with the Tauri CLI, installed with apt-get, starts to the tray"
bash scripts/test-deb.sh --debug
passed=$((passed + 1))

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
# The run-command check above counts as one more passing test (the .deb's
# install check is counted where it runs).
echo "$((passed + 1)) passed, $failed failed"
