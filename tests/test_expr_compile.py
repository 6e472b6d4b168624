"""Compiled expr formulas end to end (doc/models.md "Compiled formulas"):
- `run` with compiled formulas equals the same run with muparser
  (-expr_compile false) to round-off (1e-12 of each column's scale: the
  kernels differ by an ulp where muparser's bytecode optimizer rewrites x*c + d),
  on 1 and 3 ranks (each against muparser on as many ranks); on 3 ranks with an empty cache folder rank 0 compiles
  once: one shared object, no temporary file left, nothing on stderr;
- `mc` (the structure-of-arrays kernel, same Philox streams) equals its
  muparser run to the same round-off, on 2 ranks;
- a compiler that cannot run (-expr_cc /nonexistent/cc) on 2 ranks: exit 0,
  exactly one line on stderr saying so, the muparser results.
(tests/test_unit_expr_compile.c compares the kernels point by point.)"""
import os

from common import *

OPTS = ["-model", "expr", "-vars", "v,r", "-expr_param", "tau_r=0.2,rmax=1,beta=2",
        "-expr_drift_v", "(-v)", "-expr_diffusion_v", "1",
        "-expr_drift_r", "(-r+rmax/(1+exp(-beta*v)))/tau_r", "-expr_diffusion_r", "0.04/tau_r",
        "-grid_n", "48", "-grid_lo", "-6,-1", "-grid_hi", "6,2", "-init_mean", "1,0.5", "-init_cov", "1,0.05",
        "-t_final", "0.2", "-output_every", "0.1"]
out = tmpdir("expr-compile")


def same(a, b, columns=None):
    """Largest difference over the columns, relative to each column's scale."""
    keys = columns or [k for k in a if k in b and k != "t"]
    return max(float(np.max(np.abs(a[k] - b[k])) / max(1e-300, float(np.max(np.abs(b[k]))))) for k in keys
               if np.all(np.isfinite(b[k])))


for ranks in (1, 3):
    ref = f"{out}/muparser{ranks}"
    run("run", OPTS + ["-expr_compile", "false", "-output_dir", ref], ranks=ranks)
    cache = f"{out}/cache{ranks}"
    p = run("run", OPTS + ["-expr_cache_dir", cache, "-output_dir", f"{out}/compiled{ranks}"], ranks=ranks)
    files = sorted(os.listdir(cache))
    check(len([f for f in files if f.endswith(".so")]) == 1 and len(files) == 2 and p.stderr == "",
          f"{ranks} rank(s), empty cache: one object compiled, its source kept, nothing else, stderr empty ({files})")
    d = same(read_csv(f"{out}/compiled{ranks}/diagnostics.csv"), read_csv(ref + "/diagnostics.csv"))
    check(d < 1e-12, f"run on {ranks} rank(s): compiled = muparser to {d:.1e} of each column's scale (< 1e-12)")

MC = OPTS + ["-mc_particles", "4000", "-t_final", "0.1", "-output_every", "0.05"]
run("mc", MC + ["-expr_compile", "false", "-output_dir", out + "/mc_muparser"], ranks=2)
run("mc", MC + ["-expr_cache_dir", out + "/cache1", "-output_dir", out + "/mc_compiled"], ranks=2)
a, b = read_csv(out + "/mc_compiled/mc.csv"), read_csv(out + "/mc_muparser/mc.csv")
d = same(a, b, [k for k in b if k.startswith("mean_") or k.startswith("var_")])
check(d < 1e-12, f"mc on 2 ranks: compiled = muparser to {d:.1e} (same trajectories)")

p = run("run", OPTS + ["-expr_cc", "/nonexistent/cc", "-expr_cache_dir", out + "/cache_none", "-output_dir", out + "/nocc"],
        ranks=2)
lines = p.stderr.strip().splitlines()
check(len(lines) == 1 and "not compiled" in lines[0] and "/nonexistent/cc" in lines[0],
      f"no compiler on 2 ranks: one line on stderr ({lines})")
run("run", OPTS + ["-expr_compile", "false", "-output_dir", out + "/muparser2"], ranks=2)
d = same(read_csv(out + "/nocc/diagnostics.csv"), read_csv(out + "/muparser2/diagnostics.csv"))
check(d < 1e-13, f"... and the muparser results ({d:.1e})")
finish()
