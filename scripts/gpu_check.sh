#!/usr/bin/env bash
# Everything that needs a GPU, in one run of under 8 minutes, on a machine with an NVIDIA
# GPU and a build carried from elsewhere (bash scripts/prepare_gpu_carry.sh makes gpu-carry/):
#
#   1 ldd          every carried binary finds its libraries (else: what is missing, and stop)
#   2 nvidia-smi   the GPU and the driver
#   3 parity       the CPU-vs-CUDA kernel suite, FOCAL_REQUIRE_CUDA=1 (no GPU is a failure)
#   4 memcheck     compute-sanitizer --tool memcheck on the parity suite, where installed
#   5 training     the tiny RetinaNet CPU vs CUDA: gradients, 40 steps, bitwise, checkpoints
#   6 bench 256    bench_train_step --device cuda --batch 8 --size 256, against PyTorch on the GPU
#   7 bench 512    the same at --batch 32 --size 512 (the peer skipped if torch has no CUDA)
#   8 train        focal train --device cuda on a synthetic set for about a minute: images/s
#   9 eval         focal eval --device cuda on that run
#
# Each step runs under `timeout` and the script goes on past a failing one; a GPU step that
# could not run is a FAIL, never a PASS. Written to ${OUT:-gpu_check_out}: gpu_check.log
# (every step's output), figures.jsonl (the benchmarks' JSON lines, images/s) and
# summary.txt, the table printed at the end. The exit status is 1 if any step failed.
#   bash scripts/gpu_check.sh                   CARRY=gpu-carry OUT=gpu_check_out
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARRY=${CARRY:-$ROOT/gpu-carry}
OUT=${OUT:-gpu_check_out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/gpu_check.log
export FIGURES=$OUT/figures.jsonl
export WORK
WORK=$(mktemp -d /tmp/gpu_check.XXXXXX)
: > "$LOG"
: > "$FIGURES"
START=$SECONDS
rows=()
failed=0
export THREADS
THREADS=$(nproc)
export FOCAL_SOURCE_DIR=$ROOT  # where the benchmark finds bench/torch_peer.py (bench/peer.h)

# step NAME SECONDS NOTE COMMAND...: runs COMMAND under timeout, its output into the log.
# The status is PASS for exit 0, SKIP for 77 (what the CUDA suite says when it cannot run,
# never under FOCAL_REQUIRE_CUDA=1), FAIL otherwise.
step() {
    local name=$1 limit=$2 note=$3
    shift 3
    local t0=$SECONDS status
    printf '\n===== %s (limit %d s): %s\n' "$name" "$limit" "$*" >> "$LOG"
    timeout -k 5 "$limit" bash -c '"$@"' "$name" "$@" > "$WORK/step.out" 2>&1  # bash -c: COMMAND may be a function below
    local rc=$?
    cat "$WORK/step.out" >> "$LOG"
    local said  # the step's last line, which says why when it failed
    said=$(grep -v '^[[:space:]]*$' "$WORK/step.out" | tail -n 1 | cut -c 1-110)
    if ((rc == 0)); then status=PASS
    elif ((rc == 77)); then status=SKIP
    else
        status=FAIL
        failed=1
        if ((rc == 124 || rc == 137)); then note="timed out after $limit s${note:+ [$note]}"
        else note="exit $rc: $said${note:+ [$note]}"; fi
    fi
    printf '===== %s: %s (%d s)\n' "$name" "$status" $((SECONDS - t0)) >> "$LOG"
    printf '%-10s %s  %4d s  %s\n' "$name" "$status" $((SECONDS - t0)) "$note"
    rows+=("$(printf '%-10s %-4s %5d s  %s' "$name" "$status" $((SECONDS - t0)) "$note")")
}

skip() {  # skip NAME WHY
    printf '%-10s SKIP     0 s  %s\n' "$1" "$2"
    printf '\n===== %s: SKIP: %s\n' "$1" "$2" >> "$LOG"
    rows+=("$(printf '%-10s %-4s %5d s  %s' "$1" SKIP 0 "$2")")
}

finish() {
    {
        local gpu
        gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2> /dev/null | head -n 1)
        echo "gpu_check: $(date -u '+%Y-%m-%d %H:%M UTC'), $((SECONDS - START)) s in all, on $(hostname), GPU: ${gpu:-none found}"
        echo "step       status  time  note"
        printf '%s\n' "${rows[@]}"
    } > "$OUT/summary.txt"
    echo
    cat "$OUT/summary.txt"
    echo "logs: $LOG; figures: $FIGURES"
    rm -rf "$WORK"
    exit "$failed"
}


# 1. Libraries first: without them nothing else means anything.
if [[ ! -x $CARRY/run ]]; then
    echo "gpu_check: no carried build in $CARRY: run 'bash scripts/prepare_gpu_carry.sh' on the build machine and carry gpu-carry/" | tee -a "$LOG"
    rows+=("$(printf '%-10s %-4s %5d s  %s' ldd FAIL 0 "no $CARRY/run")")
    failed=1
    finish
fi
# From here on every carried binary runs directly, with the carried libraries and the
# machine's cuBLAS (gpu-carry/run does the same for one command; compute-sanitizer must see
# the binary itself). Python, which the benchmark starts for its PyTorch peer, keeps the
# machine's own libraries: $WORK/python3 restores them.
cublas=$("$CARRY/run" --cublas-dir 2> /dev/null)
python=$(command -v python3 || true)
if [[ -n $python ]]; then
    printf '#!/bin/bash\nLD_LIBRARY_PATH=%q exec %q "$@"\n' "${LD_LIBRARY_PATH:-}" "$python" > "$WORK/python3"
    chmod +x "$WORK/python3"
fi
export LD_LIBRARY_PATH="$CARRY/lib${cublas:+:$cublas}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export BIN=$CARRY/bin
check_libraries() {
    local missing=0 bin lost
    if [[ -z $cublas ]]; then
        echo "cuBLAS 13 (libcublas.so.13, libcublasLt.so.13) is not on this machine, and it is too large to carry:"
        echo "install the CUDA 13 toolkit or the nvidia-cublas wheel, or set FOCAL_CUBLAS_DIR to the folder holding it"
        missing=1
    fi
    for bin in "$BIN"/*; do
        lost=$(ldd "$bin" | grep 'not found')
        if [[ -n $lost ]]; then
            echo "$(basename "$bin") is missing:"
            echo "$lost"
            missing=1
        fi
    done
    ((missing == 0)) && echo "every library found (cuBLAS from $cublas)"
    return "$missing"
}
export cublas
export -f check_libraries
step ldd 15 "" check_libraries
if ((failed)); then
    echo "gpu_check: the carried binaries cannot load their libraries; stopping:"
    sed -n '/^===== ldd (/,/^===== ldd:/p' "$LOG" | grep -v '^=====' | head -20
    finish
fi

# 2. The GPU, as the driver sees it.
if command -v nvidia-smi > /dev/null; then
    step nvidia-smi 20 "" nvidia-smi
else
    step nvidia-smi 5 "" bash -c 'echo "nvidia-smi is not installed: no NVIDIA driver"; exit 1'
fi

# 3-5. The test suites, with a GPU required.
export FOCAL_REQUIRE_CUDA=1
step parity 75 "" "$BIN/focal_tests_cuda" -tse=training
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2> /dev/null)
if [[ -n $sanitizer ]]; then
    # Less the test that asks for more memory than the GPU has: its cudaMalloc failure is
    # what it checks, and memcheck would count it as an error.
    step memcheck 60 "a time-out is not a finding" \
        "$sanitizer" --tool memcheck --error-exitcode 1 "$BIN/focal_tests_cuda" -tse=training \
        "-tce=device errors are focal::Errors*"
else
    skip memcheck "compute-sanitizer is not installed"
fi
step training 90 "" "$BIN/focal_tests_cuda" -ts=training
unset FOCAL_REQUIRE_CUDA

# 6-7. The training step against PyTorch on the same GPU.
peer_note="peer: PyTorch on cuda"
if [[ -z $python ]] || ! "$WORK/python3" -c 'import torch, torchvision, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
    export FOCAL_BENCH_NO_PEER=1
    peer_note="peer skipped: no python3 whose torch (with torchvision) has CUDA"
fi
export FOCAL_BENCH_PYTHON=$WORK/python3
bench() {  # bench BATCH SIZE: the benchmark, its JSON line kept
    "$BIN/bench_train_step" "$THREADS" --device cuda --batch "$1" --size "$2" | tee "$WORK/bench.out"
    local rc=${PIPESTATUS[0]}
    tail -n 1 "$WORK/bench.out" | grep '^{' >> "$FIGURES"
    return "$rc"
}
export -f bench
step bench256 45 "$peer_note" bench 8 256
step bench512 55 "$peer_note" bench 32 512

# 8-9. focal train and eval on the GPU, on a small synthetic set.
export DATA=$WORK/shapes TRAIN_RUN=$WORK/run
train() {
    "$BIN/focal" make-shapes --out "$DATA" --images 2000 --size 128 --threads "$THREADS" > /dev/null || return 1
    # SIGTERM after 55 s: the trainer finishes its step, checkpoints and exits 143 (its
    # preemption path); that is this step's success.
    timeout --preserve-status -s TERM 55 "$BIN/focal" train --device cuda --data "$DATA" --preset demo \
        --batch 32 --workers 8 --epochs 50 --val-split '' --log-every 10 --quiet --out "$TRAIN_RUN"
    local rc=$?
    ((rc == 0 || rc == 143)) || return "$rc"
    local rate
    rate=$(grep '"type":"step"' "$TRAIN_RUN/log.jsonl" | tail -n 1 | sed 's/.*"images_per_s":\([0-9.e+-]*\).*/\1/')
    echo "focal train --device cuda: $rate images/s (demo preset, 128 px, batch 32)"
    echo "{\"bench\": \"focal_train\", \"device\": \"cuda\", \"preset\": \"demo\", \"batch\": 32, \"images_per_s\": $rate}" >> "$FIGURES"
    [[ -n $rate ]]
}
export -f train
step train 75 "images/s in figures.jsonl" train
if [[ -e $TRAIN_RUN/checkpoint.safetensors ]]; then
    step eval 40 "" "$BIN/focal" eval --device cuda --run "$TRAIN_RUN" --split test --batch 32
else
    skip eval "no checkpoint from the train step"
fi

finish
