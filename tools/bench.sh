#!/usr/bin/env bash
# Performance figures: the stationary solve and fixed implicit
# steps of the linear model on 2-D and 3-D grids on 1 and 2 MPI ranks, against
# a STREAM triad measured here; the Krylov iterations on 1..16 oversubscribed
# ranks for the default multigrid and the previous preconditioners; the
# time to a mutual-information error of 1e-4 on the rotating 2-D linear model;
# then the Monte Carlo's particle-steps per second (`infotherm mc`).
# Prints markdown tables; asserts nothing (not part of the test suite).
#
#   tools/bench.sh                 2-D 512², 1024², 3-D 64³, 128³; scaling; time to solution; MC cases
#   tools/bench.sh --large         also 2-D 2048²
#   tools/bench.sh --quick         small grids, fewer steps and particles: a smoke test
#   tools/bench.sh --only mc       one part only: stationary|run|scaling|tts|mc (a list: "stationary run")
#
# Options:
#   --cases "2:512 3:64"     dimension:cells-per-axis pairs to run
#   --ranks "1 2"            MPI rank counts
#   --scaling-ranks "1 2 4 8 16"   rank counts of the iteration table (oversubscribed)
#   --steps N                time steps per transient run (default 10; dt = --dt)
#   --dt DT                  fixed step (default 0.01)
#   --beuler                 backward Euler instead of the default TS method
#   --mc-cases "..."         Monte Carlo cases (default: linear-euler linear-weak2 inference expr memory)
#   --mc-particles N         particles of the linear cases (default 1e6; the others 1e5)
#   --opts "..."             extra PETSc/infotherm options for every run
#   --stationary-opts "..."  extra options for the stationary solves
#   --run-opts "..."         extra options for the transient runs
#   --timeout S              kill a run after S seconds (default 480)
#   --idle-wait S            before each run, wait up to S seconds (default 60)
#                            for other processes to use less than 0.25 cores
#   --keep DIR               keep logs and outputs in DIR (default: a temp dir, removed)
#   --bin PATH               the infotherm binary (default build/infotherm)
#
# Time steps: by default the solver's own method (fully implicit ARK3(2)4L[2]SA,
# 3 implicit stage solves per step) with adaptivity off (-ts_adapt_type none)
# and a fixed dt, t_final = steps*dt.
#
# Columns of the solver table:
#   wall       summary.json (stationary: stationary_summary.json) wall_time (includes assembly and output)
#   solve      stationary: KSPSolve time; run: TSStep time / steps (seconds per step)
#   solves     number of KSPSolve calls (-log_view)
#   its/solve  Krylov iterations per solve (stationary: ksp_iterations; run: the sum of the
#              counts printed by -ksp_converged_reason), over the solves
#   MatMults   KSPSolve time per solve over the time of one fine-grid MatMult
#   B/unknown  summary.json memory.bytes_per_unknown: peak RSS (getrusage) summed over
#              ranks, per cell (all of the process: libraries and MPI included)
#   MatMult    the fine grid's MatMult: time per call of the outer Krylov method's MatMult
#              (-log_view with -pc_mg_log puts the levels' work in stages of their own, so the
#              main stage's MatMult event is the fine grid's), and GB/s assuming AIJ traffic of 12 bytes per
#              nonzero (8-byte value + 4-byte column index) plus 16 bytes per row (read x,
#              write y); "% STREAM": against the triad below on as many ranks
#   STREAM     a C triad a[i] = b[i] + s c[i] over 3 x 8M doubles per rank, compiled by this
#              script with mpicc -O3 -march=native, best of 20, 24 bytes per element, summed
#              over the ranks (each on its own core)
#   CPU%       mean over ranks of (user+sys)/elapsed; well under 100 means the
#              ranks shared their cores with other processes (timings suspect)
#   load       the 1-minute load average (uptime) just before the run
#   speedup    1-rank solve time / this row's solve time (same case and solve)
#
# Monte Carlo cases (mc_summary.json):
#   linear-euler, linear-weak2  2-D rotating linear model (M = -1,-1.5,2,-2, b = 0.3,0,
#              D = 1,0.2; the problem of doc/peer-comparison.md), 200 steps
#              of -mc_dt 0.001, one estimate at the end
#   inference  input/inference.opts at its own settings (1e5 particles, dt = 0.001,
#              an estimate every 0.1 = 100 steps) to t = 1
#   expr       the inference model written as formulas (-model expr, sigmoid in
#              muparser), 1e5 particles, 200 steps
#   memory     3-D linear model on 128^3 cells (32^3 with --quick), 1e5 particles,
#              16 batches, estimates at t = 0, 0.1, 0.2 (the grid-size arrays of
#              the density estimate dominate: see the RSS column)
# Columns: particle-steps/s (particle_steps_per_second: particles x steps / the
# slowest rank's stepping time), speedup over 1 rank, stepping and estimate
# seconds (stepping_time, estimate_time), and the cost of one estimate over the
# steps between two outputs (estimates / (outputs + 1) over stepping / outputs),
# and the peak resident memory of the largest rank (/usr/bin/time %M).
set -uo pipefail
cd "$(dirname "$0")/.."

cases="2:512 2:1024 3:64 3:128"
scaling_ranks="1 2 4 8 16"
ranks="1 2"
steps=10
dt=0.01
beuler=0
only=""
opts=""
sopts=""
ropts=""
tmo=480
idle_wait=60
keep=""
bin=build/infotherm
quick=0
mc_cases="linear-euler linear-weak2 inference expr memory"
mc_particles=1000000

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; cases="2:64 2:128 3:16 3:32"; steps=3; mc_particles=100000; scaling_ranks="1 2 4" ;;
    --large) cases="$cases 2:2048" ;;
    --scaling-ranks) scaling_ranks="$2"; shift ;;
    --cases) cases="$2"; shift ;;
    --ranks) ranks="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --dt) dt="$2"; shift ;;
    --beuler) beuler=1 ;;
    --only) only="$2"; shift ;;
    --mc-cases) mc_cases="$2"; shift ;;
    --mc-particles) mc_particles="$2"; shift ;;
    --opts) opts="$2"; shift ;;
    --stationary-opts) sopts="$2"; shift ;;
    --run-opts) ropts="$2"; shift ;;
    --timeout) tmo="$2"; shift ;;
    --idle-wait) idle_wait="$2"; shift ;;
    --keep) keep="$2"; shift ;;
    --bin) bin="$2"; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ -x "$bin" ] || { echo "bench: $bin not found; build with ninja -C build" >&2; exit 2; }
bin=$(readlink -f "$bin")
export OMP_NUM_THREADS=1
if [ -n "$keep" ]; then
  work=$(readlink -m "$keep"); mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/infotherm-bench.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

mpirun_cmd() { # ranks, then the command
  local n=$1; shift
  mpiexec --allow-run-as-root --oversubscribe --bind-to core -n "$n" "$@"
}

# the field of the first -log_view event line named $2 (1-based field $3)
event_field() { awk -v e="$2" -v f="$3" '$1 == e { print $f; exit }' "$1"; }
json_field() { sed -n "s/.*\"$2\": *\([-0-9.eE+]*\).*/\1/p" "$1" | head -1; }

declare -A solve1

model_opts() { # dim
  if [ "$1" = 3 ]; then echo "-model linear -linear_M -1,0,0,0.5,-1,0,0,0.5,-1"; else echo "-model linear"; fi
}

# cores busy over one second, from /proc/stat
busy_cores() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  awk -v u="$(( b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7] ))" \
      -v t="$(( b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] - a[1] - a[2] - a[3] - a[4] - a[5] - a[6] - a[7] ))" \
      -v n="$(nproc --all)" 'BEGIN { printf "%.2f", (t > 0 ? n * u / t : 0) }'
}
wait_idle() {
  local waited=0 b
  b=$(busy_cores)
  while awk -v b="$b" 'BEGIN { exit !(b > 0.25) }' && [ "$waited" -lt "$idle_wait" ]; do
    sleep 4; waited=$((waited + 5)); b=$(busy_cores)
  done
  echo "$b"
}

# the STREAM triad (GB/s summed over ranks), compiled once
stream_gbs() { # ranks
  local src="$work/triad.c" exe="$work/triad"
  if [ ! -x "$exe" ]; then
    cat >"$src" <<'C'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#define N (1 << 23)
int main(int argc, char **argv) {
  double *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double)), *c = malloc(N * sizeof(double));
  double best = 1e30, s = 3.0, local, total;
  MPI_Init(&argc, &argv);
  for (long i = 0; i < N; i++) a[i] = 0, b[i] = 1, c[i] = 2;
  for (int k = 0; k < 20; k++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    for (long i = 0; i < N; i++) a[i] = b[i] + s * c[i];
    t = MPI_Wtime() - t;
    if (t < best) best = t;
  }
  local = 24.0 * N / best / 1e9;
  MPI_Reduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) printf("%.2f %g\n", total, a[N / 2]);
  MPI_Finalize();
  return 0;
}
C
    mpicc -O3 -march=native -o "$exe" "$src" || { echo "?"; return; }
  fi
  mpirun_cmd "$1" "$exe" | awk '{ print $1 }'
}
declare -A stream
load1() { awk '{ print $1 }' /proc/loadavg; }

rows=()
# the fine grid's MatMult time per call (s) from a -log_view with -pc_mg_log: its
# levels log in stages of their own, so the main stage's MatMult is the outer
# Krylov method's, on the fine grid only
fine_matmult() { # log
  awk '$1 == "MatMult" && NF > 4 { if ($2 > 0) printf "%.4g", $4 / $2; else print "?"; exit }' "$1"
}
# one measurement: kind (stationary|run), dim, n, ranks
measure() {
  local kind=$1 dim=$2 n=$3 r=$4
  local tag="${kind}_${dim}d_${n}_np${r}" d N nnz rc
  d="$work/$tag"; rm -rf "$d"; mkdir -p "$d"
  N=$(awk -v n="$n" -v d="$dim" 'BEGIN { printf "%d", n ^ d }')
  nnz=$(awk -v n="$n" -v d="$dim" 'BEGIN { printf "%d", n ^ d + 2 * d * (n - 1) * n ^ (d - 1) }')
  local args=($(model_opts "$dim") -grid_n "$n" -grid_lo -8 -grid_hi 8 -output_dir "$d/out" -quiet -log_view ":$d/log" $opts)
  if [ "$kind" = stationary ]; then
    args=(stationary "${args[@]}" -stationary_pc_mg_log $sopts)
  else
    local tf
    tf=$(awk -v s="$steps" -v dt="$dt" 'BEGIN { printf "%.10g", s * dt }')
    args=(run "${args[@]}" -ts_adapt_type none -ts_dt "$dt" -t_final "$tf" -output_every "$tf" -ksp_converged_reason -pc_mg_log $ropts)
    [ "$beuler" = 1 ] && args+=(-ts_type beuler)
  fi
  echo "$*: infotherm ${args[*]}" >"$d/cmd"
  local busy load
  busy=$(wait_idle)
  load=$(load1)
  printf 'bench: %-10s %dd %5d^%d on %d rank(s) ... ' "$kind" "$dim" "$n" "$dim" "$r" >&2
  timeout --signal=TERM --kill-after=10 "$tmo" \
    mpiexec --allow-run-as-root --oversubscribe --bind-to core -n "$r" \
    /usr/bin/time -a -o "$d/mem" -f "%M %e %U %S" "$bin" "${args[@]}" >"$d/stdout" 2>"$d/stderr"
  rc=$?
  local summary="$d/out/summary.json"
  [ "$kind" = stationary ] && summary="$d/out/stationary_summary.json"
  if [ $rc -ne 0 ] || [ ! -f "$summary" ] || [ ! -f "$d/log" ]; then
    local why="exit $rc"; [ $rc -eq 124 ] && why="timeout ${tmo}s"
    echo "FAILED ($why; see $d/stderr)" >&2
    rows+=("| ${dim}-D ${n}^${dim} | $kind | $r | FAILED ($why) | | | | | | | | | | | $load |")
    [ -n "$keep" ] || tail -3 "$d/stderr" >&2
    return
  fi
  local wall its solves solve ksp tmm mms gbs bpu speed cpu pct
  wall=$(json_field "$summary" wall_time)
  solves=$(event_field "$d/log" KSPSolve 2)
  ksp=$(event_field "$d/log" KSPSolve 4)
  if [ "$kind" = stationary ]; then
    its=$(json_field "$summary" ksp_iterations)
    solve=$ksp
  else
    its=$(awk '/Linear solve (converged|did not converge)/ { s += $NF } END { print s + 0 }' "$d/stdout")
    local nsteps tstep
    nsteps=$(json_field "$summary" steps)
    tstep=$(event_field "$d/log" TSStep 4)
    solve=$(awk -v t="$tstep" -v s="$nsteps" 'BEGIN { if (s > 0) printf "%.4g", t / s; else print "?" }')
  fi
  tmm=$(fine_matmult "$d/log")
  mms=$(awk -v k="$ksp" -v s="$solves" -v t="$tmm" 'BEGIN { if (t + 0 > 0 && s > 0) printf "%.0f", k / s / t; else print "?" }')
  gbs=$(awk -v t="$tmm" -v nz="$nnz" -v N="$N" 'BEGIN { if (t + 0 > 0) printf "%.1f", (12 * nz + 16 * N) / t / 1e9; else print "?" }')
  [ -n "${stream[$r]:-}" ] || stream[$r]=$(stream_gbs "$r")
  pct=$(awk -v g="$gbs" -v s="${stream[$r]}" 'BEGIN { if (s > 0 && g > 0) printf "%.0f%%", 100 * g / s; else print "?" }')
  bpu=$(sed -n 's/.*"bytes_per_unknown": *\([-0-9.eE+]*\).*/\1/p' "$summary" | head -1)
  cpu=$(awk '$2 > 0 { s += ($3 + $4) / $2; c++ } END { if (c) printf "%.0f", 100 * s / c; else print "?" }' "$d/mem")
  local key="$kind $dim $n"
  if [ "$r" = 1 ]; then solve1[$key]=$solve; fi
  speed=$(awk -v a="${solve1[$key]:-}" -v b="$solve" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else print "-" }')
  local ips
  ips=$(awk -v i="$its" -v s="$solves" 'BEGIN { if (s > 0) printf "%.1f", i / s; else print "?" }')
  echo "wall ${wall}s, solve ${solve}s, $ips its/solve, $mms MatMults/solve, CPU ${cpu}%, load $load" >&2
  rows+=("| ${dim}-D ${n}^${dim} | $kind | $r | $(printf '%.3g' "$wall") | $(printf '%.3g' "$solve") | $speed | $solves | $ips | $mms | $(printf '%.0f' "${bpu:-0}") | $tmm | $gbs | $pct | $cpu | $load |")
}

# Krylov iterations per solve on many (oversubscribed) ranks: kind, case, flavour (mg|previous), ranks
scaling_rows=()
declare -A scaling
measure_its() {
  local kind=$1 dim=$2 n=$3 flavour=$4 r=$5 d extra="" its solves
  d="$work/its_${kind}_${dim}_${n}_${flavour}_np$r"; rm -rf "$d"; mkdir -p "$d"
  if [ "$flavour" = previous ]; then
    extra="-stationary_ksp_type bcgs -stationary_pc_type hypre -pc_type bjacobi"
  fi
  local args=($(model_opts "$dim") -grid_n "$n" -grid_lo -8 -grid_hi 8 -output_dir "$d/out" -quiet -log_view ":$d/log" $extra)
  if [ "$kind" = stationary ]; then
    args=(stationary "${args[@]}")
  else
    args=(run "${args[@]}" -ts_adapt_type none -ts_dt "$dt" -t_final "$(awk -v dt="$dt" 'BEGIN { print 3 * dt }')" -output_every 1 -ksp_converged_reason)
  fi
  timeout --signal=TERM --kill-after=10 "$tmo" mpiexec --allow-run-as-root --oversubscribe --bind-to none -n "$r" \
    "$bin" "${args[@]}" >"$d/stdout" 2>"$d/stderr" || { scaling["$kind $dim $n $flavour $r"]="failed"; return; }
  solves=$(event_field "$d/log" KSPSolve 2)
  if [ "$kind" = stationary ]; then
    its=$(json_field "$d/out/stationary_summary.json" ksp_iterations)
  else
    its=$(awk '/Linear solve (converged|did not converge)/ { s += $NF } END { print s + 0 }' "$d/stdout")
  fi
  scaling["$kind $dim $n $flavour $r"]=$(awk -v i="$its" -v s="$solves" 'BEGIN { if (s > 0) printf "%.1f", i / s; else print "?" }')
  echo "bench: its $kind ${dim}d $n^$dim $flavour on $r rank(s): ${scaling["$kind $dim $n $flavour $r"]} per solve" >&2
}
scaling_table() {
  local head="| case | solve | preconditioner |" sep="|---|---|---|"
  for r in $scaling_ranks; do head="$head $r |"; sep="$sep---|"; done
  echo "$head"; echo "$sep"
  for c in $scaling_cases; do
    local dim=${c%%:*} n=${c##*:}
    for kind in stationary run; do
      for flavour in mg previous; do
        local name row
        if [ "$flavour" = mg ]; then name="multigrid (default)"
        elif [ "$kind" = stationary ]; then name="BiCGStab + BoomerAMG (before)"
        else name="GMRES + block-Jacobi ILU(0) (before)"; fi
        row="| ${dim}-D ${n}^${dim} | $kind | $name |"
        for r in $scaling_ranks; do row="$row ${scaling["$kind $dim $n $flavour $r"]:-} |"; done
        echo "$row"
      done
    done
  done
}

# time to a mutual-information error of 1e-4: the rotating 2-D linear model from
# N((-1,1), diag(0.05,0.1)) to t = 1, its closed form from the moment ODEs
tts_rows=()
tts_exact() { # prints: lo1 lo2 hi1 hi2 MI(1)
  /usr/bin/python3 - <<'PY'
import numpy as np
M = np.array([[-1.0, -1.5], [2.0, -2.0]]); b = np.array([0.3, 0.0]); D = np.diag([1.0, 0.2])
def rhs(y):  # mean and covariance of dx = (M x + b) dt + sqrt(2D) dW
    m, S = y[:2], y[2:].reshape(2, 2)
    return np.concatenate([M @ m + b, (M @ S + S @ M.T + 2 * D).ravel()])
y = np.concatenate([[-1.0, 1.0], np.diag([0.05, 0.1]).ravel()]); h = 1e-4
for _ in range(10000):  # classical RK4 to t = 1 (error ~1e-16 at this step)
    k1 = rhs(y); k2 = rhs(y + h / 2 * k1); k3 = rhs(y + h / 2 * k2); k4 = rhs(y + h * k3)
    y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
m, S = y[:2], y[2:].reshape(2, 2)
sd = np.sqrt(np.diag(S)); lo, hi = m - 9 * sd, m + 9 * sd
print(f"{lo[0]:.6f} {lo[1]:.6f} {hi[0]:.6f} {hi[1]:.6f} {0.5 * np.log(S[0, 0] * S[1, 1] / np.linalg.det(S)):.17g}")
PY
}
measure_tts() { # n, ts_rtol, ranks
  local n=$1 rtol=$2 r=$3 d mi err wall
  d="$work/tts_${n}_${rtol}_np$r"; rm -rf "$d"; mkdir -p "$d"
  local atol
  atol=$(awk -v t="$rtol" 'BEGIN { print t / 100 }')
  local args=(run -model linear -linear_M -1,-1.5,2,-2 -linear_b 0.3,0 -linear_D 1,0.2 -grid_n "$n"
    -grid_lo "$tts_lo1,$tts_lo2" -grid_hi "$tts_hi1,$tts_hi2" -init_mean -1,1 -init_cov 0.05,0,0,0.1
    -t_final 1 -output_every 1 -snapshot_every 1 -ts_rtol "$rtol" -ts_atol "$atol" -output_dir "$d/out" -quiet $opts)
  local load; load=$(load1)
  /usr/bin/time -o "$d/time" -f "%e" mpiexec --allow-run-as-root --oversubscribe --bind-to core -n "$r" \
    "$bin" "${args[@]}" >"$d/stdout" 2>"$d/stderr" || { tts_rows+=("| $n^2 | $rtol | $r | FAILED | | | | $load |"); return; }
  mi=$(sed -n 's/.*"mutual_information": *\([-0-9.eE+]*\).*/\1/p' "$d/out/summary.json" | head -1)
  err=$(awk -v a="$mi" -v b="$tts_mi" 'BEGIN { printf "%.2e", a - b }')
  wall=$(cat "$d/time")
  local steps; steps=$(json_field "$d/out/summary.json" steps)
  echo "bench: tts $n^2 rtol $rtol on $r rank(s): MI error $err, ${wall}s" >&2
  tts_rows+=("| $n^2 | $rtol | $r | $steps | $mi | $err | $wall | $load |")
}

mc_rows=()
declare -A mc_rate1
# the options of one Monte Carlo case
mc_case_opts() {
  local small=$(( quick ? 10000 : 100000 ))
  local lin="-model linear -linear_M -1,-1.5,2,-2 -linear_b 0.3,0 -linear_D 1,0.2 -grid_n 128
    -grid_lo -7.023529,-5.179057 -grid_hi 7.263529,5.419057 -init_mean -1,1 -init_cov 0.05,0,0,0.1
    -t_final 0.2 -output_every 0.2 -snapshot_every 0.2 -mc_dt 0.001 -mc_particles $mc_particles"
  case "$1" in
    linear-euler) echo "$lin -mc_scheme euler" ;;
    linear-weak2) echo "$lin -mc_scheme weak2" ;;
    inference) echo "-options_file input/inference.opts -t_final 1 -snapshot_every 1 -mc_particles $small" ;;
    expr) echo "-model expr -vars v,r -expr_param tau_v=1,sigma_v=1,v0=0,tau_r=0.1,sigma_r=0.2,rmax=1,beta=2,theta=0
      -expr_drift_v (-(v-v0)/tau_v) -expr_diffusion_v sigma_v^2/tau_v
      -expr_drift_r (-r+rmax/(1+exp(-beta*(v-theta))))/tau_r -expr_diffusion_r sigma_r^2/tau_r
      -grid_n 128,128 -grid_lo -6,-1 -grid_hi 6,2 -init_mean 2.5,0 -init_cov 0.25,0.01
      -t_final 0.2 -output_every 0.1 -snapshot_every 1 -mc_particles $small" ;;
    memory) local g=$(( quick ? 32 : 128 ))
      echo "-model linear -linear_M -1,0,0,0.5,-1,0,0,0.5,-1 -grid_n $g -grid_lo -8 -grid_hi 8
      -t_final 0.2 -output_every 0.1 -snapshot_every 1 -mc_particles $small -mc_batches 16" ;;
    *) echo "bench: unknown Monte Carlo case $1" >&2; return 1 ;;
  esac
}
# one Monte Carlo measurement: case, ranks
measure_mc() {
  local name=$1 r=$2 d opts busy rc
  d="$work/mc_${name}_np${r}"; rm -rf "$d"; mkdir -p "$d"
  opts=$(mc_case_opts "$name") || return
  echo "mc $name on $r rank(s): infotherm mc $opts" >"$d/cmd"
  busy=$(wait_idle)
  printf 'bench: mc %-13s on %d rank(s) ... ' "$name" "$r" >&2
  # shellcheck disable=SC2086
  timeout --signal=TERM --kill-after=10 "$tmo" \
    mpiexec --allow-run-as-root --oversubscribe --bind-to core -n "$r" \
    /usr/bin/time -a -o "$d/mem" -f "%M %e %U %S" "$bin" mc $opts -output_dir "$d/out" -quiet $opts_extra >"$d/stdout" 2>"$d/stderr"
  rc=$?
  if [ $rc -ne 0 ] || [ ! -f "$d/out/mc_summary.json" ]; then
    echo "FAILED (exit $rc; see $d/stderr)" >&2
    mc_rows+=("| $name | | $r | | FAILED (exit $rc) | | | | | | | $busy |")
    return
  fi
  local line
  line=$(python3 - "$d/out" <<'PY'
import json, sys, os
out = sys.argv[1]
s = json.load(open(os.path.join(out, "mc_summary.json")))
rows = sum(1 for _ in open(os.path.join(out, "mc.csv"))) - 1  # estimates: t = 0 and every output
outputs = max(rows - 1, 1)
step, est = s.get("stepping_time", float("nan")), s.get("estimate_time", float("nan"))  # older builds lack them
share = (est / rows) / (step / outputs) if step > 0 else float("nan")
print(s["scheme"], f'{s["particles"]:.0e} x {s["steps"]}', f'{s["particle_steps_per_second"]:.3g}',
      f'{step:.3g}', f'{est:.3g}', f'{100 * share:.1f}%')
PY
)
  local scheme ps rate step est share cpu speed rss
  read -r scheme ps_a ps_x ps_b rate step est share <<<"$line"
  rss=$(awk '$1 > m { m = $1 } END { printf "%.0f", m / 1024 }' "$d/mem")
  ps="$ps_a $ps_x $ps_b"
  cpu=$(awk '$2 > 0 { s += ($3 + $4) / $2; c++ } END { if (c) printf "%.0f", 100 * s / c; else print "?" }' "$d/mem")
  if [ "$r" = 1 ]; then mc_rate1[$name]=$rate; fi
  speed=$(awk -v a="${mc_rate1[$name]:-}" -v b="$rate" 'BEGIN { if (a != "" && a > 0) printf "%.2fx", b / a; else print "-" }')
  echo "$rate particle-steps/s, estimates $share of an interval, CPU ${cpu}%, others busy $busy" >&2
  mc_rows+=("| $name | $scheme | $r | $ps | $rate | $speed | $step | $est | $share | $rss | $cpu | $busy |")
}

kinds="stationary run scaling tts mc"
[ -n "$only" ] && kinds="$only"
scaling_cases="2:512 3:64"
[ "$quick" = 1 ] && scaling_cases="2:64"
opts_extra=$opts
start=$(date +%s)
for c in $cases; do
  dim=${c%%:*} n=${c##*:}
  for kind in stationary run; do
    [[ " $kinds " == *" $kind "* ]] || continue
    for r in $ranks; do measure "$kind" "$dim" "$n" "$r"; done
  done
done
if [[ " $kinds " == *" scaling "* ]]; then
  for c in $scaling_cases; do
    for kind in stationary run; do
      for flavour in mg previous; do
        for r in $scaling_ranks; do measure_its "$kind" "${c%%:*}" "${c##*:}" "$flavour" "$r"; done
      done
    done
  done
fi
if [[ " $kinds " == *" tts "* ]]; then
  read -r tts_lo1 tts_lo2 tts_hi1 tts_hi2 tts_mi <<<"$(tts_exact)"
  tts_grid="640 768"; tts_tol="1e-5"
  [ "$quick" = 1 ] && { tts_grid="64"; tts_tol="1e-4"; }
  for n in $tts_grid; do for tol in $tts_tol; do for r in $ranks; do measure_tts "$n" "$tol" "$r"; done; done; done
fi
if [[ " $kinds " == *" mc "* ]]; then
  for name in $mc_cases; do
    for r in $ranks; do measure_mc "$name" "$r"; done
  done
fi

echo
echo "infotherm benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc --all) cores, $(basename "$bin")$([ "$quick" = 1 ] && echo ', quick mode')"
echo
method="default TS method (ARKIMEX 3, fully implicit)"; [ "$beuler" = 1 ] && method="backward Euler"
echo "run: $steps steps of $method, fixed dt = $dt (-ts_adapt_type none); solve column = seconds per step"
echo "stationary: solve column = KSPSolve seconds (all pinned solves)"
[ -n "$opts$sopts$ropts" ] && echo "extra options: all [$opts] stationary [$sopts] run [$ropts]"
echo "STREAM triad (this script's, GB/s summed over ranks): $(for r in $ranks; do printf '%s rank(s) %s; ' "$r" "${stream[$r]:-not measured}"; done)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
if [ ${#rows[@]} -gt 0 ]; then
  echo "| case | solve | ranks | wall (s) | solve (s) | speedup | KSPSolves | its/solve | MatMults/solve | B/unknown | fine MatMult (s) | MatMult GB/s | % STREAM | CPU% | load |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do echo "$row"; done
  echo
fi
if [[ " $kinds " == *" scaling "* ]]; then
  echo "Krylov iterations per solve on oversubscribed ranks (stationary: all pinned solves; run: 3 steps of dt $dt, per stage solve), default stage tolerance:"
  echo
  scaling_table
  echo
fi
if [ ${#tts_rows[@]} -gt 0 ]; then
  echo "Time to solution: rotating 2-D linear model to t = 1 (box mean +- 9 sd of the final state: [$tts_lo1, $tts_hi1] x [$tts_lo2, $tts_hi2]),"
  echo "closed-form I(1) = $tts_mi (moment ODEs by RK4 in python); -ts_atol = -ts_rtol/100; wall = whole mpiexec:"
  echo
  echo "| grid | -ts_rtol | ranks | steps | mutual_information | error | wall (s) | load |"
  echo "|---|---|---|---|---|---|---|---|"
  for row in "${tts_rows[@]}"; do echo "$row"; done
  echo
fi
if [ ${#mc_rows[@]} -gt 0 ]; then
  echo "Monte Carlo (infotherm mc):"
  echo
  echo "| case | scheme | ranks | particles x steps | particle-steps/s | speedup | stepping (s) | estimates (s) | estimate / interval | RSS/rank (MB) | CPU% | busy |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${mc_rows[@]}"; do echo "$row"; done
  echo
fi
echo "($(( $(date +%s) - start )) s; logs in $work$([ -z "$keep" ] && echo ', removed on exit'))"
