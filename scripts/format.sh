#!/usr/bin/env bash
# Formats the C++ and CUDA sources with clang-format (.clang-format), or with --check only
# reports the files that are not formatted and fails. The golden-number files that scripts
# generate (tests/*/golden_*.inc) keep their generators' layout.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh' '*.c' '*.inc' | grep -v '/golden_[a-z_]*\.inc$')
if [[ $mode == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'not formatted (run bash scripts/format.sh): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi
