#!/usr/bin/env bash
# Upload cost against the physical limit (docs/benchmarks.md): PostFlow's
# uploader, curl and raw sendfile(2) push the same file, in the same parts
# (32 MiB) with the same parallelism (5 parts at once), to one sink on
# 127.0.0.1 that only counts bytes. Reports throughput and CPU seconds per
# GiB of each contestant's processes and of the sink, medians over ROUNDS,
# the order rotating between rounds. Every upload is checked byte-complete
# on the sink (part by part).
# Usage: scripts/bench-upload-cost.sh [SIZE_GIB ...]   (default: 1 8)
# Env: ROUNDS (3), PARALLEL (5), PART_MIB (32), POSTFLOW_BENCH_DIR
# (/var/tmp/postflow-bench: the files are shared with bench-upload.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/postflow-ci-cache/target}"
if [ $# -eq 0 ]; then set -- 1 8; fi
rounds="${ROUNDS:-3}"
parallel="${PARALLEL:-5}"
part_mib="${PART_MIB:-32}"
work="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench}"
for tool in curl dd xargs bash python3; do
  command -v "$tool" >/dev/null || { echo "bench-upload-cost: $tool is needed" >&2; exit 1; }
done
mkdir -p "$work/cost"

cargo build -q --release -p postflow-frameio --example bench_upload_cost
bin="$CARGO_TARGET_DIR/release/examples/bench_upload_cost"

files=()
for gib in "$@"; do
  file="$work/bench_${gib}GiB.mov"
  if [ "$(stat -c %s "$file" 2>/dev/null || echo 0)" != "$((gib * 1024 * 1024 * 1024))" ]; then
    echo "generating $file" >&2
    dd if=/dev/urandom of="$file" bs=1M count=$((gib * 1024)) status=none
  fi
  files+=("$file")
done

"$bin" sink > "$work/cost/sink.json" &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$work/cost/sink.json" ] && break; sleep 0.1; done

echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$bin" "$work/cost" "$rounds" "$parallel" "$part_mib" "${files[@]}" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, time, urllib.request

bin_, work, rounds, parallel, part_mib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
files = sys.argv[6:]
part_size = part_mib << 20
sink = json.load(open(os.path.join(work, "sink.json")))
sink_addr = f"127.0.0.1:{sink['port']}"
tick = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30

def sink_cpu():
    # utime, stime of every thread of the sink (fields 14, 15), in ticks.
    fields = open(f"/proc/{sink['pid']}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) / tick, int(fields[12]) / tick

def sink_stats():
    return json.load(urllib.request.urlopen(f"http://{sink_addr}/stats"))

def parts(size):
    return [(o, min(part_size, size - o)) for o in range(0, size, part_size)]

# One curl per part, `parallel` at a time: the `bash -c` script is
# `CURL_PART` in crates/frameio/examples/bench_upload_cost/cost.rs (dd into
# `curl -T -`; its `times` gives curl's own CPU, wait4 on xargs the whole
# pipeline's).
CURL_PART = subprocess.run([bin_, "curl-part-script"], capture_output=True, text=True, check=True).stdout

def curl_times(d):
    user = sys_ = 0.0
    for name in os.listdir(d):
        lines = open(os.path.join(d, name)).read().splitlines()
        # Line 2: the children of the subshell, i.e. curl.
        u, s = [int(m) * 60 + float(x) for m, x in re.findall(r"(\d+)m([\d.]+)s", lines[1])]
        user, sys_ = user + u, sys_ + s
    return user, sys_

def run(who, file, run_id):
    size = os.path.getsize(file)
    extra = {}
    if who in ("postflow", "sendfile"):
        cmd = [bin_, who, "--sink", sink_addr, "--run", run_id, "--part-size", str(part_size), "--parallel", str(parallel), file]
        stdin = subprocess.DEVNULL
    else:
        tdir = os.path.join(work, "curl-times", run_id)
        shutil.rmtree(tdir, ignore_errors=True)
        os.makedirs(tdir)
        listing = os.path.join(work, f"curl-parts-{run_id}.txt")
        with open(listing, "w") as f:
            for i, (o, n) in enumerate(parts(size)):
                f.write(f"{file} {o} {n} http://{sink_addr}/upload/curl/{run_id}/{i} {tdir}/{i}\n")
        cmd = ["xargs", "-P", str(parallel), "-n", "5", "bash", "-c", CURL_PART, "_"]
        stdin = open(listing)
    before_stats, before_cpu = sink_stats(), sink_cpu()
    started = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - started
    after_cpu, after_stats = sink_cpu(), sink_stats()
    assert os.waitstatus_to_exitcode(status) == 0, f"{who} failed: {out!r}"
    # Byte-complete on the sink: every part of this run, at its size.
    got = after_stats["paths"]
    for i, (_, n) in enumerate(parts(size)):
        path = f"/upload/{who}/{run_id}/{i}"
        assert got.get(path) == n, f"{who}: {path} received {got.get(path)} of {n} bytes"
    assert after_stats["bytes"] - before_stats["bytes"] == size, f"{who}: sink byte count"
    assert after_stats["puts"] - before_stats["puts"] == len(parts(size)), f"{who}: sink PUT count"
    assert after_stats["chunked"] == before_stats["chunked"], f"{who}: chunked bodies"
    row = dict(who=who, gib=size / GIB, seconds=seconds, user=ru.ru_utime, sys=ru.ru_stime,
               sink_user=after_cpu[0] - before_cpu[0], sink_sys=after_cpu[1] - before_cpu[1])
    if who == "curl":
        row["curl_user"], row["curl_sys"] = curl_times(tdir)
    return row

rows = []
contestants = ["postflow", "curl", "sendfile"]
for file in files:
    subprocess.run(["cat", file], stdout=subprocess.DEVNULL, check=True)  # into the page cache
    for r in range(rounds):
        order = contestants[r % 3:] + contestants[:r % 3]  # rotate who goes first
        for who in order:
            row = run(who, file, f"{os.path.basename(file)}-r{r}")
            row["round"] = r
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
with open(os.path.join(work, "results.jsonl"), "w") as f:
    for row in rows:
        f.write(json.dumps(row) + "\n")

curl_version = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[1]
GBE10 = 10e9 / 8 / GIB  # 10 GbE = 1.164 GiB/s
print(f"\nverified: all {len(rows)} uploads byte-complete on the sink, part by part")
print(f"\n| file | contestant | throughput (GiB/s) | client CPU (s/GiB, user + sys) | client vs sendfile | sink CPU (s/GiB) | client at 10 GbE (% of a core) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for gib in sorted({r["gib"] for r in rows}):
    def med(who, f):
        return statistics.median(f(r) for r in rows if r["gib"] == gib and r["who"] == who)
    cpu = lambda u, s: (lambda r: (r[u] + r[s]) / r["gib"])
    base = med("sendfile", cpu("user", "sys"))
    lines = [
        ("PostFlow `upload_parts`", "postflow", "user", "sys"),
        (f"curl {curl_version} (curl processes only)", "curl", "curl_user", "curl_sys"),
        ("curl pipeline (xargs + bash + dd + curl)", "curl", "user", "sys"),
        ("raw `sendfile` (the physical limit)", "sendfile", "user", "sys"),
    ]
    for label, who, u, s in lines:
        speed = med(who, lambda r: r["gib"] / r["seconds"])
        c = med(who, cpu(u, s))
        split = f"{med(who, lambda r: r[u] / r['gib']):.3f} + {med(who, lambda r: r[s] / r['gib']):.3f}"
        sink_cpu_ = med(who, cpu("sink_user", "sink_sys"))
        print(f"| {gib:g} GiB | {label} | {speed:.2f} | {c:.3f} ({split}) | {c / base:.1f}× | {sink_cpu_:.3f} | {c * GBE10 * 100:.0f} % |")
print(f"\nmedians of {rounds} rounds; {parallel} parts at once, {part_mib} MiB parts, for all; "
      f"sink CPU from /proc ({tick} ticks/s), client CPU from wait4")
PY
