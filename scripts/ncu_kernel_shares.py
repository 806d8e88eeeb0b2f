#!/usr/bin/env python3
"""Each kernel's share of the GPU time in an Nsight Compute per-kernel summary: reads the
output of `ncu --metrics gpu__time_duration.sum --print-summary per-kernel ...` and prints
a markdown table, kernels merged by name (every cuBLAS gemm variant as one row), largest
first.

  ncu --clock-control none --metrics gpu__time_duration.sum --print-summary per-kernel \\
      --launch-skip 400 --launch-count 1500 gpu-carry/bin/bench_train_step 16 --device cuda \\
      --batch 32 --size 512 > ncu.txt
  python3 scripts/ncu_kernel_shares.py ncu.txt [--top 12]
"""
import argparse
import re
import sys

HEADER = re.compile(r"^  (\S.*?) \(\d+, \d+, \d+\)x\(\d+, \d+, \d+\), Device \d+, CC [\d.]+, Invocations (\d+)$")
TIME = re.compile(r"^\s+gpu__time_duration\.sum\s+(\w+)\s+[\d.,]+\s+[\d.,]+\s+([\d.,]+)")
MICROSECONDS = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def kernel_name(signature):
    name = re.sub(r"^void ", "", signature.split("(")[0])
    if "gemm" in name or "cutlass" in name or "splitKreduce" in name:
        return "cuBLAS sgemm (every variant)"
    return re.sub(r"<unnamed>::", "", name)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("summary", help="ncu's per-kernel summary, as printed")
    parser.add_argument("--top", type=int, default=12, help="rows to print")
    args = parser.parse_args()
    total, calls, name, invocations = {}, {}, None, 0
    with open(args.summary, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            header = HEADER.match(line)
            if header:
                name, invocations = kernel_name(header.group(1)), int(header.group(2))
                continue
            time = TIME.match(line)
            if time and name:
                unit, average = time.group(1), float(time.group(2).replace(",", ""))
                if unit not in MICROSECONDS:
                    sys.exit(f"ncu_kernel_shares: unknown time unit {unit!r} in {args.summary}")
                total[name] = total.get(name, 0.0) + invocations * average * MICROSECONDS[unit]
                calls[name] = calls.get(name, 0) + invocations
                name = None
    if not total:
        sys.exit(f"ncu_kernel_shares: no per-kernel gpu__time_duration.sum rows in {args.summary}")
    all_us = sum(total.values())
    print(f"{sum(calls.values())} launches, {all_us / 1000:.1f} ms of GPU time\n")
    print("| kernel | launches | ms | share |")
    print("|---|---:|---:|---:|")
    for kernel, us in sorted(total.items(), key=lambda item: -item[1])[: args.top]:
        print(f"| `{kernel}` | {calls[kernel]} | {us / 1000:.1f} | {100 * us / all_us:.1f} % |")


if __name__ == "__main__":
    main()
