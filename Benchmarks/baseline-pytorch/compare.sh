#!/bin/bash
# RAMKit, PyTorch eager and ONNX Runtime on the same RAM++ Swin-L/384 forward (batch 1, two
# threads, random weights), in alternation, so that all three see the same state of this VM
# (its speed drifts by ±20 % over minutes). The order of the three rotates from round to round.
# Prints each tool's median and peak RSS per round; stops at the first tool that fails.
#
#   Benchmarks/baseline-pytorch/compare.sh [ROUNDS (3)] [RUNS per tool and round (3)]
#
# Run from anywhere; needs the Python setup in README.md and an exported model
# (python3 export_onnx.py, once; both use $RAMKIT_BASELINE_DIR). Not run by CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}; runs=${2:-3}
(cd "$root" && swift build -c release --product bench-model >/dev/null)

# Each prints "NAME MEDIAN_S RSS_MIB", or fails.
ramkit() {
    local out
    out=$(cd "$root" && .build/release/bench-model --runs "$runs")
    echo "RAMKit $(sed -n 's/^RAM++ swin_l\/384: median \([0-9.]*\) s wall.*/\1/p' <<<"$out") $(sed -n 's/.*peak RSS (VmHWM) \([0-9]*\) MiB.*/\1/p' <<<"$out")"
}
python_tool() {   # NAME SCRIPT
    local out
    out=$(cd "$here" && python3 "$2" "$runs")
    echo "$1 $(sed -n 's/^median_s: //p' <<<"$out") $(sed -n 's/^peak_rss_mib: //p' <<<"$out")"
}
tools=("ramkit" "python_tool PyTorch-eager bench_torch.py" "python_tool ONNX-Runtime bench_ort.py")
for r in $(seq "$rounds"); do
    line="round $r ($(date +%H:%M:%S)):"
    for i in 0 1 2; do
        t=${tools[$(( (i + r - 1) % 3 ))]}
        read -r name med rss <<<"$($t)"
        [ -n "${med:-}" ] || { echo "compare.sh: $name printed no median" >&2; exit 1; }
        line="$line $name ${med} s (${rss:-?} MiB),"
    done
    echo "${line%,} — medians of $runs"
done
