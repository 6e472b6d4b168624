"""Every diagnostic of the linear model against its closed form (derived in
common.linear_diagnostics), through python/infotherm/convergence.py: 2-D and 3-D, a
stationary non-equilibrium steady state (non-symmetric M, feedback both ways,
so both information flows are non-zero) and a transient from an off-centre
correlated Gaussian. Checks: relative error <= 1e-3 on the 2-D steady state at
256^2; second-order convergence (observed order >= 1.8) of mutual_information,
entropy_production, info_flow_X and kl_to_stationary in every case; the
Richardson extrapolation of the two finest grids within the stated bounds."""
import math

from common import check, finish, read_json, run, tmpdir  # noqa: E402
from infotherm import convergence  # noqa: E402  (python/infotherm/convergence.py, on the path through common)

HEADLINE = convergence.HEADLINE
for label, grids, raw_bound, rich_bound in [
    ("2-D stationary", [64, 128, 256], 1e-3, 1e-4),
    ("2-D transient", [64, 128, 256], 2e-3, 1e-4),
    ("3-D stationary", [16, 24, 32], 5e-2, 3e-3),
    ("3-D transient", [16, 24, 32], 6e-2, 1.2e-2),
]:
    table = convergence.study(label, convergence.CASES[label], grids, 1)
    print(f"{label}, grids {grids}:")
    for k, row in table.items():
        orders = ", ".join("-" if math.isnan(o) else f"{o:.2f}" for o in row["orders"])
        print(f"  {k:<24} exact {row['exact']:>12.6g} computed {row['values'][-1]:>12.6g} rel {row['rel_error']:.2e} orders {orders} Richardson {row['richardson_rel_error']:.2e}")
    for k, row in table.items():
        if row["vanishes"]:
            check(row["rel_error"] < 1e-9, f"{label}: {k} vanishes as it should ({row['values'][-1]:.1e})")
            continue
        if k == "mass" or k.startswith("mean_") and abs(row["exact"]) < 0.1:
            continue  # the stationary means are exact up to the solver tolerance; no order to see
        check(row["rel_error"] <= raw_bound, f"{label}: {k} relative error {row['rel_error']:.2e} <= {raw_bound:g}")
        check(row["richardson_rel_error"] <= rich_bound, f"{label}: {k} Richardson-extrapolated error {row['richardson_rel_error']:.2e} <= {rich_bound:g}")
    for k in HEADLINE:
        if table[k]["vanishes"]:
            continue
        check(table[k]["orders"][-1] >= 1.8, f"{label}: {k} converges at order {table[k]['orders'][-1]:.2f} >= 1.8")

# -bits: information columns in bits, named so, and said so in summary.json
out = tmpdir("bits")
run("stationary", ["-model", "linear", "-linear_M", "-1,0.3,0.6,-0.8", "-grid_n", "48", "-grid_lo", "-5", "-grid_hi", "5", "-output_dir", out + "/nats"])
run("stationary", ["-model", "linear", "-linear_M", "-1,0.3,0.6,-0.8", "-grid_n", "48", "-grid_lo", "-5", "-grid_hi", "5", "-bits", "-output_dir", out + "/bits"])
nats, bits = read_json(out + "/nats/stationary_summary.json"), read_json(out + "/bits/stationary_summary.json")
check(bits["information_unit"] == "bits" and nats["information_unit"] == "nats", "summary.json says which unit")
check(abs(bits["final"]["mutual_information_bits"] * math.log(2) - nats["final"]["mutual_information"]) < 1e-12
      and abs(bits["final"]["info_flow_X_bits"] * math.log(2) - nats["final"]["info_flow_X"]) < 1e-12
      and bits["final"]["entropy_production"] == nats["final"]["entropy_production"], "-bits converts information (not dissipation) and renames the columns")
header = open(out + "/bits/stationary.csv").readline()
check("mutual_information_bits" in header and "entropy_production," in header, "diagnostics.csv header names the bits columns")
finish()
