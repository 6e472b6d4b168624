"""run -progress P: a line on stderr at every P % of the simulated interval
(time reached, steps, wall time, an estimate of the time left), also when
stderr is not a terminal (here a pipe), on rank 0 only; -quiet silences it;
0 is the default (no lines); a P outside [0, 100] is refused naming -progress (doc/options.md,
doc/clusters.md)."""
import os
import re
import subprocess

from common import BIN, MPIEXEC, check, expect_refused, finish, tmpdir

LINE = re.compile(r"^infotherm progress: +(\d+)% at t = (\S+) of (\S+), step (\d+), ([\d.]+) s elapsed, about ([\d.]+) s left$")


def progress(options, ranks=1):
    """The progress lines (percent, t, t_final, step, wall, left) and the other stderr lines of one run."""
    out = tmpdir(f"progress-{ranks}")
    argv = [BIN, "run", "-model", "brownian", "-t_final", "1", "-output_dir", out] + options
    if ranks > 1:
        argv = MPIEXEC + ["-n", str(ranks)] + argv
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    check(proc.returncode == 0, f"run {' '.join(options)} on {ranks} rank(s) exits 0 ({proc.stderr.strip()[-200:]})")
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    found = [LINE.match(l) for l in lines]
    rows = [(int(m[1]), float(m[2]), float(m[3]), int(m[4]), float(m[5]), float(m[6])) for m in found if m]
    return rows, [l for l, m in zip(lines, found) if not m]


for ranks in (1, 2, 3):
    rows, other = progress(["-progress", "10"], ranks)
    percents = [r[0] for r in rows]
    check(percents == list(range(10, 101, 10)), f"-progress 10 on {ranks} rank(s): one line per 10 % ({percents})")
    # TS lands on every row of diagnostics.csv (every 0.01): each line within one row of its mark
    check(all(k / 10 - 1e-9 <= t < k / 10 + 0.0101 and tf == 1 for (p, t, tf, *_), k in zip(rows, range(1, 11))),
          f"each line's t is the first time at or past its mark ({[r[1] for r in rows]})")
    steps, wall, left = [r[3] for r in rows], [r[4] for r in rows], [r[5] for r in rows]
    check(all(a < b for a, b in zip(steps, steps[1:])) and all(a <= b for a, b in zip(wall, wall[1:]))
          and left[-1] == 0 and all(x >= 0 for x in left), f"steps grow ({steps}), wall time does not fall, 0 s left at the end")
    check(len(other) == 2 and other[0].startswith("infotherm run: started") and other[1].startswith("infotherm run: finished"),
          f"the start and end lines frame them ({other})")

rows, other = progress(["-progress", "25"])
check([r[0] for r in rows] == [25, 50, 75, 100], f"-progress 25: 4 lines ({[r[0] for r in rows]})")
rows, other = progress([])
check(rows == [] and len(other) == 2, f"without -progress: only the start and end lines ({len(other)} lines)")
rows, other = progress(["-progress", "10", "-quiet"])
check(rows == [] and other == [], "-quiet silences -progress")
rows, other = progress(["-progress", "0"])
check(rows == [] and len(other) == 2, "-progress 0 (the default) prints no progress line")
for bad in ("150", "-5", "nan"):
    expect_refused(f"-progress {bad}", "run", ["-model", "brownian", "-t_final", "1", "-progress", bad], ["-progress"])
finish()
