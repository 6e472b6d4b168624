#!/usr/bin/env python3
"""Where post-processing ranks pay (doc/performance.md "Post-processing ranks").

For a 3-D case (input/hebbian.opts on 32^3) and a 5-D case
(input/population_plastic.opts on 10^5), fixed steps, each configuration runs
twice, a long and a short run, and the difference is taken (the set-up
cancels): rank 0's CPU seconds per step (user + system, /usr/bin/time, so
that the figure does not depend on the machine's load) and the wall steps/s.
Rank 0 is a solver rank in every configuration. Load-independent, from
-log_view: TSStep's flops per step (the long minus the short run, of the
busiest rank; the diagnostics are not counted in flops) and how often the
long run factored the multigrid's coarse level (MatLUFactorNum). With
-post_ranks the post group's line gives the solver ranks' bytes and messages
per state, the time they waited for the transfer, and the post group's work
per state.

    tools/bench_post_ranks.py [--binary build/infotherm] [--old OTHER_BINARY] [--only 3d|5d]

--old also runs -post_ranks 1 with another build (the previous transfer)."""
import argparse
import os
import re
import subprocess
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MPIEXEC = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--quiet"]
CASES = {
    "3d": (["-options_file", os.path.join(ROOT, "input", "hebbian.opts"), "-grid_n", "32,32,32",
            "-fp_order", "2", "-ts_adapt_type", "none", "-ts_dt", "0.01"], 0.01, 50, 10),
    "5d": (["-options_file", os.path.join(ROOT, "input", "population_plastic.opts"), "-grid_n", "10",
            "-fp_order", "2", "-ts_adapt_type", "none", "-ts_dt", "0.005"], 0.005, 30, 10),
}
EVERY = 5  # a row every 5 steps


def launch(binary, ranks, opts, folder):
    """Runs one configuration; returns (rank 0's CPU seconds, wall seconds, stdout)."""
    cpu = os.path.join(folder, "cpu")
    wrapped = ["sh", "-c", f'exec /usr/bin/time -f "%U %S" -o {cpu}.${{OMPI_COMM_WORLD_RANK:-0}} "$0" "$@"', binary]
    argv = wrapped + ["run"] + opts + ["-output_dir", os.path.join(folder, "out"), "-quiet", "-log_view"]
    if ranks > 1:
        argv = MPIEXEC + ["-n", str(ranks)] + argv
    start = time.time()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    wall = time.time() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr}")
    with open(f"{cpu}.0") as f:
        user, system = map(float, f.read().split()[-2:])
    return user + system, wall, proc.stdout


def measure(binary, ranks, K, base, dt, steps, every):
    out = {}
    for n in (steps[0], steps[1]):
        with tempfile.TemporaryDirectory() as folder:
            opts = base + ["-t_final", f"{n * dt:g}", "-output_every", f"{(every or n) * dt:g}", "-snapshot_every", "1e9"]
            if K:
                opts += ["-post_ranks", str(K)]
            out[n] = launch(binary, ranks, opts, folder)
    dn = steps[0] - steps[1]
    cpu = (out[steps[0]][0] - out[steps[1]][0]) / dn
    wall = dn / max(out[steps[0]][1] - out[steps[1]][1], 1e-9)
    line = re.search(r"post: .*", out[steps[0]][2])
    flops = (logged(out[steps[0]][2], "TSStep", 3) - logged(out[steps[1]][2], "TSStep", 3)) / dn
    return cpu, wall, flops, int(logged(out[steps[0]][2], "MatLUFactorNum", 1)), line.group(0) if line else ""


def logged(text, event, column):
    """-log_view's figure of an event: column 1 its count, 3 its flops (the largest over the ranks)."""
    m = re.search(r"^%s\s+(\S+)\s+\S+\s+\S+\s+\S+\s+(\S+)" % event, text, re.M)
    return float(m.group(1 if column == 1 else 2)) if m else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "infotherm"))
    ap.add_argument("--old", default=None)
    ap.add_argument("--only", choices=sorted(CASES), default=None)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, (base, dt, long_steps, short_steps) in CASES.items():
        if a.only and name != a.only:
            continue
        print(f"\n{name}: {' '.join(base[2:])}, {long_steps} - {short_steps} steps")
        print("| configuration | rank 0 CPU s/step | wall steps/s | TSStep flops/step | coarse LU factorisations |")
        print("|---|---|---|---|---|")
        configs = [("1 rank, last row only", a.binary, 1, 0, 0), ("1 rank, a row every 5 steps", a.binary, 1, 0, EVERY),
                   ("2 ranks, -post_ranks 0", a.binary, 2, 0, EVERY), ("2 ranks, -post_ranks 1", a.binary, 2, 1, EVERY),
                   ("3 ranks, -post_ranks 2", a.binary, 3, 2, EVERY)]
        if a.old:
            configs.append(("2 ranks, -post_ranks 1, previous transfer", a.old, 2, 1, EVERY))
        lines = []
        for label, binary, ranks, K, every in configs:
            cpu, wall, flops, lu, line = measure(binary, ranks, K, base, dt, (long_steps, short_steps), every)
            print(f"| {label} | {cpu:.4g} | {wall:.3g} | {flops:.3g} | {lu} |", flush=True)
            if line:
                lines.append(f"{label}: {line}")
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
