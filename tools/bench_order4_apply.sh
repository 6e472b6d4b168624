#!/bin/bash
# Compiles tools/bench_order4_apply.c against build/libinfotherm.a and runs it
# with the given options (infotherm's, plus -reps N) on T4_RANKS ranks
# (default 1): the fourth-order product's and the faces' CPU seconds, and the
# product's bits (compare two builds). Example, the 4-variable transient's
# model at 24^4:
#   tools/bench_order4_apply.sh -model linear -linear_M -1,0,0,0.2,1.5,-2,0,0,0,0.8,-1.2,0,0.3,0,0.5,-1 \
#     -linear_D 1,0.3,0.2,0.4 -linear_b 0.1,0,0,0.2 -grid_n 24 -grid_lo -8 -grid_hi 8 -fp_order 4
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc -O3 -std=c17 -D_POSIX_C_SOURCE=200809L -fopenmp -I"$here/include" $(pkg-config --cflags PETSc hdf5-mpi) \
  "$here/tools/bench_order4_apply.c" -o "$tmp/bench" -Wl,--start-group "$build/libinfotherm.a" \
  $(pkg-config --libs PETSc hdf5-mpi muparser jansson fftw3 lapack) -lfftw3_mpi -ldl -lm -Wl,--end-group \
  -Wl,-rpath,"$(pkg-config --variable=libdir PETSc)"
ranks=${T4_RANKS:-1}
if [ "$ranks" = 1 ]; then "$tmp/bench" "$@"; else
  mpiexec --allow-run-as-root --oversubscribe --bind-to none -n "$ranks" "$tmp/bench" "$@"; fi
