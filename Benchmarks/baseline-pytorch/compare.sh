#!/bin/sh
# RAMKit, PyTorch eager and ONNX Runtime on the same RAM++ Swin-L/384 forward (batch 1, two
# threads, random weights), in alternation, so that all three see the same state of this VM
# (its speed drifts by ±20 % over minutes). Prints each tool's median per round.
#
#   Benchmarks/baseline-pytorch/compare.sh [ROUNDS (3)] [RUNS per tool and round (3)]
#
# Run from anywhere; needs the Python setup in README.md and an exported model
# (python export_onnx.py, once). Not run by CI.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}; runs=${2:-3}
(cd "$root" && swift build -c release --product bench-model >/dev/null)
median() { sed -n 's/^median_s: //p'; }
for r in $(seq "$rounds"); do
    ours=$(cd "$root" && .build/release/bench-model --runs "$runs" | sed -n 's/^RAM++ swin_l\/384: median \([0-9.]*\) s wall.*/\1/p')
    torch=$(cd "$here" && python3 bench_torch.py "$runs" | median)
    onnx=$(cd "$here" && python3 bench_ort.py "$runs" | median)
    echo "round $r ($(date +%H:%M:%S)): RAMKit $ours s, PyTorch eager $torch s, ONNX Runtime $onnx s (medians of $runs)"
done
