#!/usr/bin/env bash
# One entry point for the README's quick start:
#   bash scripts/run.sh demo   install what is missing, build, run `focal demo`
#   bash scripts/run.sh test   install what is missing, build, run the test suite
#   bash scripts/run.sh build  install what is missing and build only
# Environment: BUILD_DIR (default build), JOBS (default nproc), FOCAL_CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-demo}
shift || true
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

# Debian 12 packages needed to build and run (the demo's plots use matplotlib).
packages=(build-essential cmake pkg-config libopenblas-openmp-dev libstb-dev libpugixml-dev
          doctest-dev libcli11-dev nlohmann-json3-dev python3 python3-matplotlib)
[[ $what == test ]] && packages+=(clang libomp-dev clang-format)  # .ci/run's fuzz and format steps
# Data-parallel training over MPI (optional for a build; tests/dist runs mpirun -np 2).
[[ $what == test ]] && packages+=(openmpi-bin libopenmpi-dev)
# The PyTorch references: torchvision's ResNet (tests/tools/test_backbone_weights.cpp,
# scripts/import_torchvision.py) and ONNX export (tests/tools/test_export.cpp).
[[ $what == test ]] && packages+=(python3-torch python3-torchvision python3-onnx)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== building in $BUILD_DIR"
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${FOCAL_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

# ONNX Runtime for tests/tools/test_export.cpp, from npm (not packaged in Debian 12): its CPU
# binaries are in the package, the CUDA download of its install script is not wanted. The test
# skips when node or npm is missing or the install fails.
if [[ $what == test && ! -d $BUILD_DIR/onnxruntime/node_modules/onnxruntime-node ]] && command -v npm >/dev/null; then
  echo "== installing onnxruntime-node into $BUILD_DIR/onnxruntime (for the ONNX export test)"
  ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --prefix "$BUILD_DIR/onnxruntime" --no-audit --no-fund \
    --loglevel=error onnxruntime-node@1.30.0 || echo "   (failed: the ONNX export test will skip)"
fi

case "$what" in
  build) ;;
  test)  ctest --test-dir "$BUILD_DIR" --output-on-failure "$@" ;;
  demo)  "$BUILD_DIR/focal" demo "$@" ;;
  *)     echo "usage: scripts/run.sh demo|test|build" >&2; exit 2 ;;
esac
