#!/usr/bin/env bash
# Web UI server benchmark (issue 10): the headless service idle over
# 100,000 already-uploaded renders, with the web UI server on (and a page's
# event stream open) against without it, alternating, in one run.
# Goal: at most 0.1 % of a core and 5 MiB more.
# Usage: scripts/bench-gui.sh   Env: FILES (100000), SECONDS_IDLE (60),
# ROUNDS (2: each contestant measured ROUNDS times, alternating).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/env.sh
files="${FILES:-100000}" idle="${SECONDS_IDLE:-60}" rounds="${ROUNDS:-2}"
work="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench}/gui"
tree="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench}/rescan/tree-$files"
target="${CARGO_TARGET_DIR:-target}/release"
rm -rf "$work" && mkdir -p "$work"

bash scripts/build-ui.sh
cargo build -q --release -p postflow --bin postflow
cargo build -q --release -p postflow-frameio-emulator --bin postflow-frameio-emulator
cargo build -q --release -p postflow-service --example seed_settled
if [ ! -e "$tree.complete" ]; then
  mkdir -p "$tree"
  cargo bench -q -p postflow-watcher --bench rescan -- generate "$tree" "$files" >&2
  touch "$tree.complete"
fi

"$target/postflow-frameio-emulator" --port 0 --no-rate-limits > "$work/emulator.json" 2>/dev/null &
emu=$!
cleanup() { kill "$emu" "${svc:-}" "${sse:-}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$work/emulator.json" ] && break; sleep 0.1; done
field() { python3 -c "import json; print(json.load(open('$work/emulator.json'))['$1'])"; }

"$target/examples/seed_settled" "$work/data" "$tree"
cat > "$work/settings.toml" <<TOML
[watch]
root = "$tree"
rescan_interval_secs = 15
[frameio]
api_base_url = "$(field base_url)"
ims_base_url = "$(field base_url)"
account_id = "$(field account_id)"
project_id = "$(field project_id)"
TOML

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
key=0123456789abcdef0123456789abcdef

# One measure: CPU % of a core over the idle window, resident KiB at its end.
measure() {
  local gui=$1
  local args=(run)
  [ "$gui" = 1 ] && args+=(--gui --listen 127.0.0.1:0)
  POSTFLOW_FRAMEIO_TOKEN="$(field token)" POSTFLOW_GUI_KEY=$key POSTFLOW_DATA_DIR="$work/data" \
    POSTFLOW_LOG_DIR="$work/logs" POSTFLOW_KEYCHAIN_SERVICE=io.postflow.bench \
    "$target/postflow" --config "$work/settings.toml" "${args[@]}" > "$work/out.txt" 2> "$work/service.log" &
  svc=$!
  sleep 25   # start-up: the first scan of the settled tree
  if [ "$gui" = 1 ]; then
    url=$(grep -o 'http://[^ ]*' "$work/out.txt" | head -1)
    origin=${url%%/?key=*}
    # A page is open: its event stream stays connected.
    curl -sN "$origin/api/events?key=$key" > /dev/null &
    sse=$!
    sleep 1
  fi
  local a b
  a=$(cpu_ticks $svc); sleep "$idle"; b=$(cpu_ticks $svc)
  python3 -c "print(($b - $a) / $ticks / $idle * 100, $(status_kib $svc VmRSS))"
  kill "${sse:-}" 2>/dev/null || true; sse=""
  kill $svc; wait $svc 2>/dev/null || true; svc=""
}

: > "$work/results.txt"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order="0 1"; else order="1 0"; fi
  for gui in $order; do
    echo "$gui $(measure $gui)" >> "$work/results.txt"
  done
done
python3 - "$work/results.txt" "$files" "$idle" "$rounds" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
files, idle, rounds = sys.argv[2:]
def med(gui, col): return statistics.median(float(r[col]) for r in rows if r[0] == gui)
cpu0, rss0 = med("0", 1), med("0", 2) / 1024
cpu1, rss1 = med("1", 1), med("1", 2) / 1024
print(f"\n| idle over {files} settled files ({idle} s, median of {rounds}) | CPU (% of a core) | resident (MiB) |")
print("| --- | --- | --- |")
print(f"| `postflow run` | {cpu0:.2f} | {rss0:.1f} |")
print(f"| `postflow run --gui`, a page's event stream open | {cpu1:.2f} | {rss1:.1f} |")
print(f"| **difference** (goal ≤ 0.1 and ≤ 5) | **{cpu1 - cpu0:+.2f}** | **{rss1 - rss0:+.1f}** |")
PY
