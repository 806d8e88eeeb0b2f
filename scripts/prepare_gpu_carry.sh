#!/usr/bin/env bash
# Builds what scripts/gpu_check.sh runs and gathers it into one folder that can travel to a
# GPU machine which has an NVIDIA driver but maybe none of the libraries focal links
# (OpenBLAS, pugixml, libgomp, ...):
#
#   gpu-carry/bin/    focal, focal_tests_cuda, bench_train_step (Release, sm_90 only, no MPI)
#   gpu-carry/lib/    every shared library they need that is not glibc's or the driver's
#   gpu-carry/run     runs a carried binary with those libraries: gpu-carry/run focal eval ...
#
# Not carried: glibc and the C++ runtime (libstdc++, libgcc_s: the GPU machine's own, as new
# or newer, which its PyTorch and tools need as they are), the driver (libcuda.so.1) and
# cuBLAS: libcublasLt.so.13 alone is over 500 MB, far past what can travel. gpu-carry/run
# takes cuBLAS 13 from the GPU machine instead (the CUDA 13 toolkit, or the nvidia-cublas
# wheel beside PyTorch; FOCAL_CUBLAS_DIR names another folder), and gpu_check.sh's first
# step says so if it is not there.
#
#   bash scripts/prepare_gpu_carry.sh          # CARRY=gpu-carry BUILD=build-gpu LIMIT_MIB=60 JOBS=2
# The folder must stay under LIMIT_MIB (the repository travels beside it); the script
# prints its size and fails if it is over.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-gpu}
CARRY=${CARRY:-$ROOT/gpu-carry}
LIMIT_MIB=${LIMIT_MIB:-60}
JOBS=${JOBS:-2}
BINARIES="focal focal_tests_cuda bench_train_step"

NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [[ ! -x $NVCC ]]; then
    echo "prepare_gpu_carry: no nvcc (the CUDA toolkit): a carry without the CUDA backend would be useless" >&2
    exit 1
fi

launchers=()
if command -v ccache > /dev/null; then
    launchers=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
               -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
# No MPI: it would bring OpenMPI's runtime and NCCL (hundreds of MB) for a one-GPU check.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$NVCC" \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DFOCAL_CUDA=ON -DFOCAL_MPI=OFF -DFOCAL_BENCH=ON "${launchers[@]}" > /dev/null
grep -q 'FOCAL_WITH_CUDA' "$BUILD/engine/CMakeFiles/focal_engine.dir/flags.make" || {
    echo "prepare_gpu_carry: CMake did not enable the CUDA backend in $BUILD (see its CMakeCache.txt)" >&2
    exit 1
}
# shellcheck disable=SC2086
nice -n 19 cmake --build "$BUILD" -j "$JOBS" --target $BINARIES

rm -rf "$CARRY"
mkdir -p "$CARRY/bin" "$CARRY/lib"
for name in $BINARIES; do
    path=$(find "$BUILD" -type f -name "$name" -perm -u+x | head -n 1)
    [[ -n $path ]] || { echo "prepare_gpu_carry: $name was not built in $BUILD" >&2; exit 1; }
    cp "$path" "$CARRY/bin/$name"
    strip --strip-unneeded "$CARRY/bin/$name"
done

# The libraries the binaries load, as resolved here, less glibc, the C++ runtime, the driver
# and cuBLAS.
skip='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libutil|libresolv|libstdc\+\+|libgcc_s|libcuda|libnvidia|libcublas|libcublasLt)\.'
for bin in "$CARRY"/bin/*; do
    ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r soname path; do
    if [[ $soname =~ $skip ]]; then continue; fi
    cp -L "$path" "$CARRY/lib/$soname"
done

cat > "$CARRY/run" <<'EOF'
#!/usr/bin/env bash
# Runs a carried focal binary with the carried libraries and the GPU machine's cuBLAS 13:
#   gpu-carry/run focal train --device cuda ...      gpu-carry/run --cublas-dir (prints where)
here=$(cd "$(dirname "$0")" && pwd)
find_cublas() {
    local dir
    for dir in "${FOCAL_CUBLAS_DIR:-}" $(ldconfig -p 2> /dev/null | awk '/libcublasLt\.so\.13 /{print $NF}' | xargs -r -n1 dirname) \
        /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 \
        $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2> /dev/null | xargs -r -n1 | sed 's|$|/nvidia/cu13/lib|') \
        $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2> /dev/null | xargs -r -n1 | sed 's|$|/nvidia/cublas/lib|'); do
        if [[ -n $dir && -e $dir/libcublas.so.13 && -e $dir/libcublasLt.so.13 ]]; then
            echo "$dir"
            return
        fi
    done
}
cublas=$(find_cublas)
if [[ ${1:-} == --cublas-dir ]]; then
    [[ -n $cublas ]] && echo "$cublas" && exit 0
    echo "no cuBLAS 13 (libcublas.so.13 and libcublasLt.so.13) on this machine; set FOCAL_CUBLAS_DIR" >&2
    exit 1
fi
export LD_LIBRARY_PATH="$here/lib${cublas:+:$cublas}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/bin/$1" "${@:2}"
EOF
chmod +x "$CARRY/run"

size_kib=$(du -sk "$CARRY" | cut -f1)
echo "prepare_gpu_carry: $CARRY holds $(ls "$CARRY/bin" | wc -l) binaries and $(ls "$CARRY/lib" | wc -l) libraries:"
(cd "$CARRY" && du -k bin/* lib/* | sort -rn | awk '{printf "  %7.1f MiB  %s\n", $1 / 1024, $2}')
printf 'prepare_gpu_carry: %.1f MiB in all (limit %d MiB)\n' "$(echo "$size_kib / 1024" | bc -l)" "$LIMIT_MIB"
if (( size_kib > LIMIT_MIB * 1024 )); then
    echo "prepare_gpu_carry: $CARRY is over $LIMIT_MIB MiB: it cannot travel" >&2
    exit 1
fi
