#!/bin/bash
# Benchmark figures (not assertions) of a 5-D linear model, where the DMDA
# distributes three axes and carries two as each point's dof:
# on 1 and 2 ranks, the time per step of `run` (fixed steps), the stationary
# solve's time, the assembled operator's bytes per unknown and one MatMult's
# time (from -log_view), the peak memory per unknown of the whole run, and one
# diagnostics evaluation's time.
#
#   tools/bench_nd.sh [--n CELLS_PER_AXIS] [--ranks "1 2"] [--steps N] [--matfree]
#
# Prints one line per (command, ranks). Needs build/infotherm. --matfree
# instead compiles tools/bench_matfree.c against build/libinfotherm.a and
# compares one MatMult of the assembled operator with a matrix-free apply of
# the face coefficients (a MatShell) on 1 rank.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${INFOTHERM:-$here/build/infotherm}
n=16 ranks="1 2" steps=5 matfree=0
while [ $# -gt 0 ]; do
  case $1 in
    --matfree) matfree=1; shift ;;
    --n) n=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "bench_nd.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
M=-1,0.3,0,0,0.2,0.5,-1,0.2,0,0,0,0.4,-1,0.3,0,0,0,0.5,-1,0.3,0.3,0,0,0.4,-1
opts=(-model linear -linear_M $M -linear_D 0.5,0.4,0.3,0.4,0.3 -grid_n $n -grid_lo -3.6 -grid_hi 3.6 -quiet)
cells=$((n * n * n * n * n))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $matfree = 1 ]; then
  # shellcheck disable=SC2046
  cc -O3 -std=c17 -D_POSIX_C_SOURCE=200809L -fopenmp -I"$here/include" $(pkg-config --cflags PETSc hdf5-mpi) \
    "$here/tools/bench_matfree.c" -o "$tmp/matfree" -Wl,--start-group "$here/build/libinfotherm.a" \
    $(pkg-config --libs PETSc hdf5-mpi muparser jansson fftw3 lapack) -lfftw3_mpi -lm -Wl,--end-group \
    -Wl,-rpath,"$(pkg-config --variable=libdir PETSc)"
  "$tmp/matfree" "${opts[@]}"
  exit 0
fi
# the event's total time over its count, from -log_view
event() { awk -v e="$1" '$1 == e { printf "%.4g", $4 / $2 }' "$2"; }
mpirun() { if [ "$1" = 1 ]; then shift; "$@"; else local r=$1; shift; mpiexec --allow-run-as-root --oversubscribe --bind-to none -n "$r" "$@"; fi; }
echo "5-D linear model, $n^5 = $cells cells (three axes distributed, two as dof)"
printf "%-11s %5s %12s %12s %14s %12s %14s\n" command ranks "wall s" "per step s" "MatMult s" "diag eval s" "peak B/cell"
for r in $ranks; do
  for cmd in run stationary; do
    extra=()
    [ $cmd = run ] && extra=(-t_final $((steps))e-2 -ts_type beuler -ts_adapt_type none -ts_dt 1e-2 -output_every 1)
    /usr/bin/time -f "%M" -o "$tmp/rss" bash -c "$(declare -f mpirun); mpirun $r '$bin' $cmd ${opts[*]} ${extra[*]} -output_dir '$tmp/$cmd$r' -log_view :'$tmp/log'" > /dev/null
    rss=$(cat "$tmp/rss")
    wall=$(awk '/^Time \(sec\):/ { print $3 }' "$tmp/log")
    step=$(awk '$1 == "TSStep" { printf "%.4g", $4 / $2 }' "$tmp/log")
    printf "%-11s %5s %12s %12s %14s %12s %14.0f\n" $cmd $r "$wall" "${step:--}" "$(event MatMult "$tmp/log")" \
      "$(event ItDiagEvaluate "$tmp/log")" "$(echo "$rss * 1024 * $r / $cells" | bc -l)"
  done
done
# the operator alone: its nonzeros and bytes per unknown (AIJ: 12 bytes a nonzero, 4 a row)
nnz=$(( cells * 11 - 2 * 5 * n * n * n * n ))
echo "operator: $nnz nonzeros (11-point star less the walls), $(( (nnz * 12 + cells * 4) / cells )) bytes per unknown in AIJ"
echo "peak B/cell: the largest resident set of a rank times the ranks, over the cells (whole run, PETSc and MPI included)"
