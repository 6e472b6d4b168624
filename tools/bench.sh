#!/usr/bin/env bash
# Performance figures for the linear model: the stationary solve and a fixed
# number of implicit time steps, on 2-D and 3-D grids, on 1 and 2 MPI ranks;
# then the Monte Carlo's particle-steps per second (`infotherm mc`).
# Prints markdown tables; asserts nothing (not part of the test suite).
#
#   tools/bench.sh                 2-D 512² and 1024², 3-D 96³ and 128³, 100 steps; MC cases
#   tools/bench.sh --quick         small grids and 10 steps, 10x fewer particles: a smoke test
#   tools/bench.sh --only mc       the Monte Carlo table only
#
# Options:
#   --cases "2:512 3:96"     dimension:cells-per-axis pairs to run
#   --ranks "1 2"            MPI rank counts
#   --steps N                time steps per transient run (default 100; dt = --dt)
#   --dt DT                  fixed step (default 0.01)
#   --beuler                 backward Euler instead of the default TS method
#   --only stationary|run|mc one kind of run only
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
# Columns:
#   wall       summary.json (stationary: stationary_summary.json) wall_time (includes assembly and output)
#   solve      stationary: KSPSolve time; run: TSStep time / steps (seconds per step)
#   solves     number of KSPSolve calls (-log_view)
#   Krylov its stationary: stationary_summary.json ksp_iterations; run: sum of the
#              iteration counts printed by -ksp_converged_reason
#   RSS        peak resident memory (/usr/bin/time %M) summed over ranks
#   B/unk      RSS bytes per unknown; in brackets, net of the RSS of a tiny run
#              (libraries, MPI), times the rank count
#   MatMult    the Mflop/s column of -log_view's MatMult line (aggregate over
#              ranks), and GB/s converted assuming AIJ traffic of 12 bytes per
#              nonzero (8-byte value + 4-byte column index) plus 16 bytes per row
#              (read x, write y) for 2*nnz - rows flops
#   CPU%       mean over ranks of (user+sys)/elapsed; well under 100 means the
#              ranks shared their cores with other processes (timings suspect)
#   busy       cores used by other processes just before the run
#   speedup    1-rank solve time / this row's solve time (same case and solve)
#
# Monte Carlo cases (mc_summary.json):
#   linear-euler, linear-weak2  2-D rotating linear model (M = -1,-1.5,2,-2, b = 0.3,0,
#              D = 1,0.2; the problem of shared/notes/peer-comparison.md), 200 steps
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

cases="2:512 2:1024 3:96 3:128"
ranks="1 2"
steps=100
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
    --quick) quick=1; cases="2:64 2:128 3:16 3:24"; steps=10; mc_particles=100000 ;;
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

# the RSS of a tiny run, per rank (KB): libraries, MPI, PETSc
baseline_kb() {
  local n=$1 d="$work/baseline.$1"
  rm -rf "$d"; mkdir -p "$d"
  mpirun_cmd "$n" /usr/bin/time -a -o "$d/mem" -f %M "$bin" stationary -model linear -grid_n 8 \
    -output_dir "$d/out" -quiet >/dev/null 2>&1
  awk '{ s += $1; c++ } END { if (c) printf "%d", s / c; else print 0 }' "$d/mem" 2>/dev/null || echo 0
}

declare -A base solve1
for r in $ranks; do base[$r]=$(baseline_kb "$r"); done

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

rows=()
# one measurement: kind (stationary|run), dim, n, ranks
measure() {
  local kind=$1 dim=$2 n=$3 r=$4
  local tag="${kind}_${dim}d_${n}_np${r}" d N nnz rc
  d="$work/$tag"; rm -rf "$d"; mkdir -p "$d"
  N=$(awk -v n="$n" -v d="$dim" 'BEGIN { printf "%d", n ^ d }')
  nnz=$(awk -v n="$n" -v d="$dim" 'BEGIN { printf "%d", n ^ d + 2 * d * (n - 1) * n ^ (d - 1) }')
  local args=($(model_opts "$dim") -grid_n "$n" -grid_lo -8 -grid_hi 8 -output_dir "$d/out" -quiet -log_view ":$d/log" $opts)
  if [ "$kind" = stationary ]; then
    args=(stationary "${args[@]}" $sopts)
  else
    local tf
    tf=$(awk -v s="$steps" -v dt="$dt" 'BEGIN { printf "%.10g", s * dt }')
    args=(run "${args[@]}" -ts_adapt_type none -ts_dt "$dt" -t_final "$tf" -output_every "$tf" -ksp_converged_reason $ropts)
    [ "$beuler" = 1 ] && args+=(-ts_type beuler)
  fi
  echo "$*: infotherm ${args[*]}" >"$d/cmd"
  local busy
  busy=$(wait_idle)
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
    rows+=("| ${dim}-D ${n}^${dim} | $kind | $r | $N | FAILED ($why) | | | | | | | | | $busy |")
    [ -n "$keep" ] || tail -3 "$d/stderr" >&2
    return
  fi
  local wall its solves solve mflops gbs kb bpu bnet speed cpu
  wall=$(json_field "$summary" wall_time)
  solves=$(event_field "$d/log" KSPSolve 2)
  if [ "$kind" = stationary ]; then
    its=$(json_field "$summary" ksp_iterations)
    solve=$(event_field "$d/log" KSPSolve 4)
  else
    its=$(awk '/Linear solve (converged|did not converge)/ { s += $NF } END { print s + 0 }' "$d/stdout")
    local nsteps tstep
    nsteps=$(json_field "$summary" steps)
    tstep=$(event_field "$d/log" TSStep 4)
    solve=$(awk -v t="$tstep" -v s="$nsteps" 'BEGIN { if (s > 0) printf "%.4g", t / s; else print "?" }')
  fi
  mflops=$(awk '$1 == "MatMult" { print $NF; exit }' "$d/log")
  gbs=$(awk -v f="${mflops:-0}" -v nz="$nnz" -v N="$N" 'BEGIN { printf "%.1f", f * 1e6 * (12 * nz + 16 * N) / (2 * nz - N) / 1e9 }')
  kb=$(awk '{ s += $1 } END { print s + 0 }' "$d/mem")
  cpu=$(awk '$2 > 0 { s += ($3 + $4) / $2; c++ } END { if (c) printf "%.0f", 100 * s / c; else print "?" }' "$d/mem")
  bpu=$(awk -v k="$kb" -v N="$N" 'BEGIN { printf "%.0f", k * 1024 / N }')
  bnet=$(awk -v k="$kb" -v b="${base[$r]:-0}" -v r="$r" -v N="$N" 'BEGIN { printf "%.0f", (k - b * r) * 1024 / N }')
  local key="$kind $dim $n"
  if [ "$r" = 1 ]; then solve1[$key]=$solve; fi
  speed=$(awk -v a="${solve1[$key]:-}" -v b="$solve" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else print "-" }')
  echo "wall ${wall}s, solve ${solve}s, $its its, CPU ${cpu}%, others busy $busy" >&2
  rows+=("| ${dim}-D ${n}^${dim} | $kind | $r | $N | $(printf '%.3g' "$wall") | $(printf '%.3g' "$solve") | $speed | $solves | $its | $(awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }') | $bpu ($bnet) | ${mflops:-?} | $gbs | $cpu | $busy |")
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

kinds="stationary run mc"
[ -n "$only" ] && kinds="$only"
opts_extra=$opts
start=$(date +%s)
for c in $cases; do
  dim=${c%%:*} n=${c##*:}
  for kind in $kinds; do
    [ "$kind" = mc ] && continue
    for r in $ranks; do measure "$kind" "$dim" "$n" "$r"; done
  done
done
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
echo "baseline RSS per rank (tiny run): $(for r in $ranks; do printf '%s ranks %s MB; ' "$r" "$(( ${base[$r]:-0} / 1024 ))"; done)"
echo
if [ ${#rows[@]} -gt 0 ]; then
  echo "| case | solve | ranks | unknowns | wall (s) | solve (s) | speedup | KSPSolves | Krylov its | RSS (MB) | B/unknown (net) | MatMult Mflop/s | MatMult GB/s | CPU% | busy |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do echo "$row"; done
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
