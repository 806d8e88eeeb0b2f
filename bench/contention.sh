#!/usr/bin/env bash
# The training step and one-image inference of bench_train_step on 2 threads, quiet and while
# another process keeps one core busy, under several OpenMP wait policies, all in one run (a
# noisy machine shifts every figure alike; compare the ratios). Each policy is set in the
# environment, which tools/runtime_env.h leaves as it is; the PyTorch peer, a child of the
# benchmark, inherits it.
#   bash bench/contention.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
bench="$build/bench/bench_train_step"
[[ -x $bench ]] || { echo "contention.sh: build $bench first (cmake --build $build --target bench_train_step)" >&2; exit 2; }
# FOCAL_CONTENTION=auto sets nothing: tools/runtime_env.h probes the load and picks the spin.
# FOCAL_NO_REEXEC=1: libgomp's own default, which is also what PyTorch gets on its own.
policies=("FOCAL_CONTENTION=auto" "FOCAL_NO_REEXEC=1" "GOMP_SPINCOUNT=100000" "GOMP_SPINCOUNT=1000"
          "OMP_WAIT_POLICY=passive")
busy_pid=""
stop_load() { [[ -n $busy_pid ]] && kill "$busy_pid" 2> /dev/null; busy_pid=""; }
trap stop_load EXIT
printf '%-24s %-6s %9s %9s %11s %11s\n' policy load ours_ms torch_ms ours_inf_ms torch_inf_ms
for policy in "${policies[@]}"; do
  for load in quiet loaded; do
    if [[ $load == loaded ]]; then
      sh -c 'while :; do :; done' &  # one core kept busy
      busy_pid=$!
    fi
    json=$(env "$policy" "$bench" 2 | tail -1)
    stop_load
    python3 -c 'import json, sys
j = json.loads(sys.argv[3])
print("%-24s %-6s %9.0f %9.0f %11.1f %11.1f" % (sys.argv[1], sys.argv[2], j["ours_ms"], j.get("torch_ms", float("nan")),
      j["ours_inference_ms"], j.get("torch_inference_ms", float("nan"))))' "$policy" "$load" "$json"
  done
done
