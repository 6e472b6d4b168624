"""The stationary solve converges by default, falling back to another method
when its first one fails (doc/numerics.md "Stationary solve"): GMRES(100)
with BoomerAMG, then LU on small grids. A fallback is one line on stderr
(`infotherm: note: the stationary solve fell back: ...`) and
`stationary_fallback` in stationary_summary.json; its density is the first
method's to the solve's tolerance. A method the user chose does not fall back.

The first method is made to fail by `-stationary_ksp_max_it 2` (it bounds
the first method only), with the geometric multigrid first (64^2) and with
BoomerAMG first (33^2: a grid that does not halve), on 1 and 2 ranks. The
stiff 3-variable chain v -> r -> w (time constants 1, 0.2, 5) on 48^3 at
+-8 standard deviations broke GMRES with the multigrid down
(DIVERGED_BREAKDOWN, exit 1); its x1 and x2 marginals are checked against
the Lyapunov covariance.

The residual that stationary reports (its line on stdout and `residual` in
stationary_summary.json) is the true relative residual |b - A x|/|b| of the
last pinned solve, not GMRES's recursive estimate: recomputed here with
numpy from the pinned system PETSc writes (-stationary_ksp_view_mat, _rhs,
_solution in PETSc's binary format) for the lif model (64 cells, a loose
-stationary_ksp_rtol so the residual stands above round-off) on 1 and 2
ranks; the written density is that solution normalised."""
import os
from common import *

NOTE = "infotherm: note: the stationary solve fell back: "


def stationary(n, options, ranks=1):
    out = tmpdir(f"fallback-{n}-{ranks}-{len(options)}")
    proc = run("stationary", ["-model", "linear", "-grid_n", str(n), "-output_dir", out] + options, ranks=ranks,
               expect_ok=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    summary = read_json(out + "/stationary_summary.json") if proc.returncode == 0 else {}
    p = read_density(out + "/density_stationary.h5")[0] if proc.returncode == 0 else None
    return proc, lines, summary, p


for n, ranks, first in [(64, 1, "gmres(30)+mg"), (64, 2, "gmres(30)+mg"), (33, 1, "gmres(30)+hypre")]:
    proc, lines, ref, p_ref = stationary(n, [], ranks)
    check(proc.returncode == 0 and lines == [] and ref["stationary_method"] == first and ref["stationary_fallback"] is None,
          f"{n}^2 on {ranks} rank(s): the default converges with {first}, no note ({ref.get('stationary_method')}, {lines})")
    proc, lines, fb, p = stationary(n, ["-stationary_ksp_max_it", "2"], ranks)
    note = fb.get("stationary_fallback") or ""
    check(proc.returncode == 0 and len(lines) == 1 and lines[0].startswith(NOTE) and note == lines[0][len(NOTE):]
          and note.startswith(f"{first} ended DIVERGED_ITS after 2 iterations") and fb["stationary_method"] == "gmres(100)+hypre",
          f"{n}^2 on {ranks} rank(s), first method stopped after 2 iterations: one note, the same in the summary: {lines}, {note!r}")
    if p is not None and p_ref is not None:
        diff = float(np.max(np.abs(p - p_ref)) / np.max(p_ref))
        check(diff < 1e-9 and fb["residual"] < 1e-11,
              f"{n}^2 on {ranks} rank(s): the fallback's density is the first method's ({diff:.2g} of the peak apart, residual {fb['residual']:.2g})")

# a method the user chose is not replaced: one line naming the failure, status 1
proc, lines, _, _ = stationary(64, ["-stationary_ksp_type", "gmres", "-stationary_ksp_max_it", "2"])
check(proc.returncode == 1 and len(lines) == 1 and "did not converge: gmres(30)+mg ended DIVERGED_ITS" in lines[0],
      f"-stationary_ksp_type given: no fallback, one line: {lines}")



def petsc_binary(path):
    """The objects of a file in PETSc's binary format (big-endian): Vec as an
    array, AIJ Mat as a dense array, in the order written."""
    data, pos, out = open(path, "rb").read(), 0, []

    def take(kind, k):
        nonlocal pos
        v = np.frombuffer(data, kind, k, pos)
        pos += np.dtype(kind).itemsize * k
        return v
    while pos < len(data):
        cid = int(take(">i4", 1)[0])
        if cid == 1211214:  # VEC_FILE_CLASSID
            out.append(take(">f8", int(take(">i4", 1)[0])))
        elif cid == 1211216:  # MAT_FILE_CLASSID
            m, n, nz = (int(v) for v in take(">i4", 3))
            rows = np.repeat(np.arange(m), take(">i4", m))
            cols, vals = take(">i4", nz), take(">f8", nz)
            A = np.zeros((m, n))
            np.add.at(A, (rows, cols), vals)
            out.append(A)
        else:
            raise ValueError(f"{path}: class id {cid}")
    return out


for ranks in (1, 2):
    out, dump = tmpdir(f"residual-{ranks}"), tmpdir(f"residual-dump-{ranks}")
    os.makedirs(dump)
    views = [o for k in ("mat", "rhs", "solution") for o in (f"-stationary_ksp_view_{k}", f"binary:{dump}/{k}.bin")]
    proc = run("stationary", ["-model", "lif", "-grid_n", 64, "-stationary_ksp_rtol", 1e-6, "-output_dir", out] + views,
               ranks=ranks)
    # the last pinned solve's system: each solve appends its own
    A, b, x = (petsc_binary(f"{dump}/{k}.bin")[-1] for k in ("mat", "rhs", "solution"))
    true = float(np.linalg.norm(b - A @ x) / np.linalg.norm(b))
    reported = read_json(out + "/stationary_summary.json")["residual"]
    line = [l for l in proc.stdout.splitlines() if l.startswith("stationary: true relative residual")]
    p = read_density(out + "/density_stationary.h5")[0]
    shape = float(np.max(np.abs(p / np.sum(p) - x / np.sum(x))) / np.max(p / np.sum(p)))
    check(1e-13 < true and abs(reported - true) <= 1e-3 * true and len(line) == 1 and f"{reported:.3e}" in line[0]
          and shape < 1e-12,
          f"lif stationary on {ranks} rank(s): the residual reported ({reported:.4g}, {line}) is |b - A x|/|b| of the "
          f"pinned system recomputed ({true:.4g}); the density is its solution normalised ({shape:.1g} apart)")

# the stiff chain converges by default
M = np.array([[-1.0, 0, 0], [1.0, -5.0, 0], [0, 5.0, -0.2]])
D = np.array([1.0, 5.0, 0.2])
S = lyapunov(M, D)
sd = np.sqrt(np.diag(S))
out = tmpdir("stiff-chain")
proc = run("stationary", ["-model", "linear", "-linear_M", ",".join(f"{v:g}" for v in M.ravel()),
                          "-linear_D", ",".join(f"{v:g}" for v in D), "-grid_n", "48",
                          "-grid_lo", ",".join(f"{-8 * s:.9g}" for s in sd), "-grid_hi", ",".join(f"{8 * s:.9g}" for s in sd),
                          "-output_dir", out], expect_ok=False)
if proc.returncode == 0:
    s = read_json(out + "/stationary_summary.json")
    f = s["final"]
    e1, e2 = abs(f["var_x1"] / S[0, 0] - 1), abs(f["var_x2"] / S[1, 1] - 1)
    check(s["residual"] < 1e-11 and e1 < 1e-6 and e2 < 1e-3,
          f"the stiff chain on 48^3 converges by default ({s['stationary_method']}; fallback: {s['stationary_fallback']}); "
          f"var_x1, var_x2 within {e1:.2g}, {e2:.2g} of the closed form")
else:
    check(False, f"the stiff chain on 48^3 converges by default: status {proc.returncode}, {proc.stderr.strip()}")
finish()
