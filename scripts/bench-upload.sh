#!/usr/bin/env bash
# Upload benchmark, side by side in one run: PostFlow's uploader and the
# official Frame.io Python SDK's FrameioUploader (PyPI `frameio`) push the
# same files to the same local Frame.io emulator (release builds, loopback).
# Reports throughput and peak resident memory of each uploader process, and
# the ratio. Usage: scripts/bench-upload.sh [SIZE_GIB ...]   (default: 1 8)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$HOME/.cargo/bin:$PATH"
if [ $# -eq 0 ]; then set -- 1 8; fi
sizes=("$@")
rounds="${ROUNDS:-3}"
parallel="${PARALLEL:-5}"   # the SDK's default max_workers
work="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench}"
venv="$work/venv"
mkdir -p "$work"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "frameio==4.0.0"
cargo build -q --release -p postflow-frameio-emulator --bin postflow-frameio-emulator
cargo build -q --release -p postflow-frameio --example bench_upload
target="${CARGO_TARGET_DIR:-target}/release"

"$target/postflow-frameio-emulator" --port 0 --part-size 32MiB --no-rate-limits > "$work/emulator.json" &
emu=$!
trap 'kill $emu 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$work/emulator.json" ] && break; sleep 0.1; done
field() { python3 -c "import json,sys; print(json.load(open('$work/emulator.json'))['$1'])"; }
args=(--base-url "$(field base_url)" --token "$(field token)" --account "$(field account_id)" --folder "$(field root_folder_id)" --parallel "$parallel")

results="$work/results.jsonl"
: > "$results"
for gib in "${sizes[@]}"; do
  file="$work/bench_${gib}GiB.mov"
  if [ "$(stat -c %s "$file" 2>/dev/null || echo 0)" != "$((gib * 1024 * 1024 * 1024))" ]; then
    echo "generating $file" >&2
    dd if=/dev/urandom of="$file" bs=1M count=$((gib * 1024)) status=none
  fi
  for round in $(seq "$rounds"); do
    # Alternate who goes first, so page-cache warmth favours neither.
    if [ $((round % 2)) = 1 ]; then order="postflow sdk"; else order="sdk postflow"; fi
    for who in $order; do
      if [ "$who" = postflow ]; then
        line=$("$target/examples/bench_upload" "${args[@]}" "$file")
      else
        line=$("$venv/bin/python" scripts/bench/sdk_upload.py "${args[@]}" "$file")
      fi
      echo "$line" | python3 -c "import json,sys; d=json.load(sys.stdin); d['gib']=$gib; d['round']=$round; print(json.dumps(d))" | tee -a "$results" >&2
    done
  done
done

python3 - "$results" "$parallel" "$work/emulator.json" <<'PY'
import json, statistics, sys, urllib.request
rows = [json.loads(l) for l in open(sys.argv[1])]
emu = json.load(open(sys.argv[3]))
# Every upload, from either uploader, must have arrived whole.
for r in rows:
    url = f"{emu['base_url']}/v4/accounts/{emu['account_id']}/files/{r['file_id']}/status"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {emu['token']}"})
    status = json.load(urllib.request.urlopen(req))["data"]
    assert status["upload_complete"], f"{r['uploader']} upload {r['file_id']} is incomplete"
print(f"verified: all {len(rows)} uploads complete on the emulator")
print(f"\n| file | uploader | throughput (MiB/s, median of {max(r['round'] for r in rows)}) | peak RSS (MiB, max) |")
print("| --- | --- | --- | --- |")
for gib in sorted({r["gib"] for r in rows}):
    speed = {}
    for who in ("postflow", "frameio-python-sdk"):
        runs = [r for r in rows if r["gib"] == gib and r["uploader"] == who]
        speed[who] = statistics.median(r["bytes"] / r["seconds"] / 2**20 for r in runs)
        rss = max(r["max_rss_kib"] for r in runs) / 1024
        print(f"| {gib} GiB | {who} | {speed[who]:.0f} | {rss:.1f} |")
    print(f"| {gib} GiB | **ratio** | **{speed['postflow'] / speed['frameio-python-sdk']:.2f}×** | |")
print(f"\nparallel parts: {sys.argv[2]} for both; part size 32 MiB chosen by the emulator")
PY
