#!/usr/bin/env bash
# Service benchmark (issue 4), in one run:
#  1. idle cost of `postflow run` (release) watching 100,000 already-uploaded
#     renders (rescan every 15 s), side by side with the least a polling
#     watcher can do: GNU find listing and stat'ing the same tree every 15 s;
#  2. time from a render's readiness window ending to its upload starting
#     (the placeholder's creation on the emulator), over a few renders.
# Usage: scripts/bench-service.sh   Env: FILES (100000), SECONDS_IDLE (60),
# WINDOW (5, readiness window in s), RENDERS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$HOME/.cargo/bin:$PATH"
files="${FILES:-100000}" idle="${SECONDS_IDLE:-60}" window="${WINDOW:-5}" renders="${RENDERS:-5}"
work="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench}/service"
tree="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench}/rescan/tree-$files"
target="${CARGO_TARGET_DIR:-target}/release"
rm -rf "$work" && mkdir -p "$work"

cargo build -q --release -p postflow --bin postflow
cargo build -q --release -p postflow-frameio-emulator --bin postflow-frameio-emulator
cargo build -q --release -p postflow-service --example seed_settled
if [ ! -e "$tree.complete" ]; then
  mkdir -p "$tree"
  cargo bench -q -p postflow-watcher --bench rescan -- generate "$tree" "$files" >&2
  touch "$tree.complete"
fi
# Renders written by this benchmark go in their own folder, removed each run.
rm -rf "$tree/BENCH_LATENCY"

"$target/postflow-frameio-emulator" --port 0 --no-rate-limits > "$work/emulator.json" 2>/dev/null &
emu=$!
cleanup() { kill "$emu" "${svc:-}" "${peer:-}" 2>/dev/null || true; rm -rf "$tree/BENCH_LATENCY"; }
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$work/emulator.json" ] && break; sleep 0.1; done
field() { python3 -c "import json; print(json.load(open('$work/emulator.json'))['$1'])"; }

"$target/examples/seed_settled" "$work/data" "$tree"
cat > "$work/settings.toml" <<TOML
[watch]
root = "$tree"
readiness_window_secs = $window
rescan_interval_secs = 15
[frameio]
api_base_url = "$(field base_url)"
ims_base_url = "$(field base_url)"
account_id = "$(field account_id)"
project_id = "$(field project_id)"
TOML

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk -v self="$2" '{ print (self ? $14 + $15 : $16 + $17) }' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

POSTFLOW_FRAMEIO_TOKEN="$(field token)" POSTFLOW_DATA_DIR="$work/data" POSTFLOW_LOG_DIR="$work/logs" \
  POSTFLOW_KEYCHAIN_SERVICE=io.postflow.bench "$target/postflow" --config "$work/settings.toml" run 2> "$work/service.log" &
svc=$!
sleep 25   # start-up: first scan of the settled tree
a=$(cpu_ticks $svc 1); sleep "$idle"; b=$(cpu_ticks $svc 1)
ours_cpu=$(python3 -c "print(($b - $a) / $ticks / $idle * 100)")
ours_rss=$(status_kib $svc VmRSS); ours_hwm=$(status_kib $svc VmHWM)

# The peer: find every 15 s over the same tree (its CPU is its children's).
( while :; do find "$tree" -type f -printf '%s %T@ %P\n' > /dev/null; sleep 15; done ) &
peer=$!
sleep 1; a=$(cpu_ticks $peer 0); sleep "$idle"; b=$(cpu_ticks $peer 0)
kill $peer; peer=""
peer_cpu=$(python3 -c "print(($b - $a) / $ticks / $idle * 100)")

# Latency: a render written, then the window, then the placeholder.
python3 - "$work/emulator.json" "$tree" "$window" "$renders" > "$work/latency.txt" <<'PY'
import json, os, sys, time, urllib.request, datetime
emu = json.load(open(sys.argv[1])); tree, window, renders = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
def get(path):
    req = urllib.request.Request(emu["base_url"] + path, headers={"Authorization": "Bearer " + emu["token"]})
    return json.load(urllib.request.urlopen(req))["data"]
def child(folder, name):
    for a in get(f"/v4/accounts/{emu['account_id']}/folders/{folder}/children?page_size=100"):
        if a["name"] == name: return a
os.makedirs(os.path.join(tree, "BENCH_LATENCY"), exist_ok=True)
out = []
for i in range(renders):
    name = f"SC9{i:02d}_LAT_V001.mov"
    with open(os.path.join(tree, "BENCH_LATENCY", name), "wb") as f:
        f.write(os.urandom(1 << 20))
    written = time.time()
    deadline = written + window + 60
    found = None
    while time.time() < deadline and not found:
        time.sleep(0.05)
        try:
            folder = emu["root_folder_id"]
            for part in ("SCENES", f"SC9{i:02d}", "LAT"):
                folder = child(folder, part)["id"]
            found = child(folder, name)
        except (TypeError, KeyError):
            pass
    created = datetime.datetime.fromisoformat(found["created_at"].replace("Z", "+00:00")).timestamp()
    out.append(created - (written + window))
for x in out: print(f"{x:.3f}")
PY
lat=$(sort -n "$work/latency.txt" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
max=$(sort -n "$work/latency.txt" | tail -1)

cat <<EOF2

| measure | postflow run | peer: find every 15 s | ratio |
| --- | --- | --- | --- |
| idle CPU over $files settled files (% of one core, ${idle} s) | $(printf %.2f "$ours_cpu") | $(printf %.2f "$peer_cpu") | $(python3 -c "print(f'{$ours_cpu / max($peer_cpu, 1e-9):.2f}×')") |
| resident memory (MiB, now / peak) | $((ours_rss / 1024)) / $((ours_hwm / 1024)) | | |
| readiness window end → upload start (s, median / max of $renders) | $lat / $max | | |
EOF2
