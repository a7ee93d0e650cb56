"""PyTorch eager timing of the RAM++ Swin-L/384 forward, batch 1, 2 threads.

usage: python bench_torch.py [N]   (N timed runs after one warm-up; default 5)
"""
import resource
import statistics
import sys
import time

import torch

import ramplus


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(2)
    model = ramplus.build()
    x = ramplus.example_input()
    times = []
    with torch.inference_mode():
        y = model(x)  # warm-up
        for _ in range(n):
            t0 = time.perf_counter()
            y = model(x)
            times.append(time.perf_counter() - t0)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux
    print(f"pytorch {torch.__version__} eager, threads={torch.get_num_threads()}, batch 1, logits {tuple(y.shape)}")
    print(f"median_s: {statistics.median(times):.3f}")
    print("runs_s: " + " ".join(f"{t:.3f}" for t in times))
    print(f"peak_rss_mib: {rss_mib:.0f}")


if __name__ == "__main__":
    main()
