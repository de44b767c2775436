#!/usr/bin/env bash
# Rescan benchmark (issue 4), side by side in one run: the watcher's rescan
# of an unchanged BY_SHOT tree vs GNU find (and the walkdir crate) listing
# and stat'ing the same tree. Release build; trees of 10,000 and 100,000
# renders in 200 shot folders under /var/tmp (made once, then reused).
# Prints a Markdown table: median ms per rescan and find's time / ours.
# Usage: crates/watcher/bench/rescan.sh [FILES ...]   (default: 10000 100000)
# Env: ROUNDS (default 7), POSTFLOW_BENCH_DIR (default /var/tmp/postflow-bench/rescan).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export PATH="$HOME/.cargo/bin:$PATH"
if [ $# -eq 0 ]; then set -- 10000 100000; fi
rounds="${ROUNDS:-7}"
work="${POSTFLOW_BENCH_DIR:-/var/tmp/postflow-bench/rescan}"
mkdir -p "$work"
command -v find >/dev/null && find --version | head -1 >&2

bench() { cargo bench -q -p postflow-watcher --bench rescan -- "$@"; }
bench --help >/dev/null 2>&1 || true   # build first, quietly

rows=() notes=()
for files in "$@"; do
  tree="$work/tree-$files"
  if [ ! -e "$tree.complete" ]; then
    rm -rf "$tree" && mkdir -p "$tree"
    bench generate "$tree" "$files" >&2
    touch "$tree.complete"
  fi
  echo "measuring $tree ($rounds rounds)" >&2
  out=$(bench measure "$tree" "$rounds")
  while IFS= read -r line; do
    case "$line" in
      "|"*) rows+=("$line") ;;
      note:*) notes+=("${line#note: }") ;;
    esac
  done <<< "$out"
done

echo
echo "| candidate files | scanner | ms per rescan (median of $rounds) | speed vs find |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
printf -- '- %s\n' "${notes[@]}"
echo "- machine: $(nproc) cores, $(uname -sr), $(find --version | head -1)"
