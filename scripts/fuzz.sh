#!/usr/bin/env bash
# Builds every libFuzzer target (fuzz/, clang with ASan + UBSan) in build-fuzz (or FUZZ_BUILD_DIR) and runs each
# from its committed seeds, fuzz/corpus/<name>/, with its dictionary fuzz/<name>.dict:
#   bash scripts/fuzz.sh                 # 15 s per target (CI: about 2 minutes in all)
#   bash scripts/fuzz.sh 600             # 10 minutes per target
#   RUNS=1000000 bash scripts/fuzz.sh    # a number of executions per target instead of a time
#   TARGETS="safetensors image" bash scripts/fuzz.sh 60
#   FUZZ_BUILD_DIR=build-asan bash scripts/fuzz.sh   # a clang tree configured already (.ci/run's)
# Paths below are in build-fuzz. New inputs go to build-fuzz/corpus/<name>/ (kept between calls), never into the seeds. A
# finding stops the script with status 1 and leaves build-fuzz/<name>-crash-* (or -leak-,
# -oom-, -timeout-); reproduce it with build-fuzz/fuzz/fuzz_<name> FILE, fix it, and commit
# the file to fuzz/corpus/<name>/ as a regression seed. Each target's last lines, with
# libFuzzer's final stats (execs, cov, ft), go to build-fuzz/<name>.log.
# Memory: -rss_limit_mb caps the process, -malloc_limit_mb any single allocation, and each
# target checks its parser's own bound per input (fuzz/alloc_bound.h; docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-15}
runs=${RUNS:-}
targets=${TARGETS:-"voc_annotation coco yolo safetensors image run_config split_list class_list shapes_marker"}
build=${FUZZ_BUILD_DIR:-build-fuzz}

# name -> "max_len malloc_limit_mb": inputs up to max_len bytes; an image may declare up to
# kMaxImagePixels (data/image.h), so its decoder gets the larger limit.
declare -A limits=(
  [voc_annotation]="16384 64" [safetensors]="65536 64" [image]="65536 1024" [run_config]="16384 64"
  [split_list]="16384 64" [class_list]="16384 64" [shapes_marker]="4096 16" [coco]="65536 64"
  [yolo]="16384 64"
)

echo "== building the fuzz targets in $build (clang, ASan + UBSan + libFuzzer)"
cmake -S . -B "$build" -DFOCAL_FUZZ=ON -DFOCAL_CUDA=OFF -DFOCAL_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
for name in $targets; do
  cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "fuzz_$name"
done

status=0
for name in $targets; do
  read -r max_len malloc_mb <<<"${limits[$name]}"
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  args=(-seed=1 -max_len="$max_len" -rss_limit_mb=2048 -malloc_limit_mb="$malloc_mb" -timeout=25
        -print_final_stats=1 -artifact_prefix="$build/$name-")
  [[ -f fuzz/$name.dict ]] && args+=(-dict="fuzz/$name.dict")
  if [[ -n $runs ]]; then args+=(-runs="$runs"); else args+=(-max_total_time="$seconds"); fi
  echo "== fuzz_$name (${runs:+$runs runs}${runs:-$seconds s}, inputs up to $max_len bytes)"
  if "$build/fuzz/fuzz_$name" "${args[@]}" "$corpus" "fuzz/corpus/$name" >"$build/$name.log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::peak_rss_mb' "$build/$name.log" | tr -s '\n\t ' ' '
    echo
  else
    status=1
    tail -n 40 "$build/$name.log"
    echo "!! fuzz_$name found a problem: see $build/$name.log and $build/$name-*"
  fi
done
exit $status
