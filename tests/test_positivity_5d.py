"""-fp_order 4 on the 5-D plastic population (input/population_plastic.opts at
10^5 on its former box, to t = 0.5, 1 rank): from an initial weight density one cell wide
(-init_cov of w: 0.01, the tests' and input file's choice) the negative
mass stays below 1e-4 of the mass (measured 1.6e-6; from the narrower
0.0025, half a cell, it reached 1.1e-3 and stopped the run: doc/numerics.md),
and the mass is exact to 1e-12 at every row."""
from common import *

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
out = tmpdir("pos5d")
# the file's former box (its grid's box is narrower than this initial weight density allows)
run("run", ["-options_file", os.path.join(ROOT, "input", "population_plastic.opts"), "-fp_order", 4, "-grid_n", 10,
            "-grid_lo", "-6,-1.2,-1.2,-0.3,-0.3", "-grid_hi", "6,2.2,2.2,1.4,1.4", "-init_cov", "1,0.04,0.04,0.01,0.01", "-t_final", 0.5, "-output_every", 0.25, "-snapshot_every", 0.5,
            "-output_dir", out])
pos = read_json(out + "/summary.json")["positivity"]
rows = read_csv(out + "/diagnostics.csv")
print(f"  10^5 to t = 0.5: {pos}")
check(pos["negative_mass_max"] < 1e-4, f"5-D order 4: negative mass {pos['negative_mass_max']:.2e} < 1e-4")
check(np.all(np.abs(rows["mass"] - 1) < 1e-12), f"5-D order 4: mass exact to 1e-12 ({np.abs(rows['mass'] - 1).max():.1e})")
finish()
