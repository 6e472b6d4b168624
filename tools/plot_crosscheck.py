#!/usr/bin/python3
"""Plots a Fokker–Planck vs Monte Carlo cross-check side by side.

    tools/plot_crosscheck.py RESULTS_DIR [--dpi N]

Reads RESULTS_DIR/crosscheck.json (written by `infotherm crosscheck`) and
writes into RESULTS_DIR

  crosscheck.png  top row: the marginal density of every variable at the last
                  output time, the solver's as a line and the Monte Carlo's
                  (smoothed, binned kernel estimate) as dots; then one panel per
                  group of quantities (means, variances and covariances,
                  information, entropy flows) as time series, the solver's as
                  lines and the Monte Carlo's as points with 2-standard-error
                  bars (under -error_estimate the solver's as a band of its
                  fp_uncertainty, untrusted points marked x); last panel:
                  z = (FP - MC)/stderr of every judged quantity over time,
                  with the +-limit band, titled with the verdict.

Needs Debian's python3 with numpy and matplotlib (/usr/bin/python3). Prints
the path of the file it writes.
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# the reader is the package's (python/infotherm of this source tree, else the installed one)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_ROOT, "python", "infotherm")):
    sys.path.insert(0, os.path.join(_ROOT, "python"))
import infotherm  # noqa: E402

GROUPS = [
    ("means", lambda n: n.startswith("mean_")),
    ("variances and covariances", lambda n: n.startswith("var_") or n.startswith("cov_")),
    ("information (nats)", lambda n: n.startswith("mutual_information")),
    ("entropy flow (interval means)", lambda n: n.startswith("entropy_flow_") and not n.endswith("_cum")),
]


def finite(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args(argv)
    path = os.path.join(args.directory, "crosscheck.json")
    try:
        cc = infotherm.read_json(path)
    except (OSError, ValueError) as err:
        sys.exit(f"plot_crosscheck.py: error: cannot read {path}: {err}")
    t = finite(cc["t"])
    q = cc["quantities"]
    marg = cc.get("marginals", {})
    ncols = max(len(marg), 2)
    nrows = 1 + math.ceil((len(GROUPS) + 1) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.7 * nrows), squeeze=False)
    for k, (var, m) in enumerate(marg.items()):
        ax = axes[0, k]
        ax.plot(m["x"], m["fp"], "-", color="C0", label="Fokker–Planck")
        ax.plot(m["x"], m["mc"], ".", color="C3", ms=3, label="Monte Carlo (KDE)")
        ax.set_xlabel(var)
        ax.set_ylabel(f"p({var})")
        ax.set_title(f"marginal of {var} at t = {cc.get('marginals_t', float('nan')):g}")
        ax.legend(fontsize=8)
    for k in range(len(marg), ncols):
        axes[0, k].axis("off")
    panels = [axes[1 + k // ncols, k % ncols] for k in range((nrows - 1) * ncols)]
    for ax, (title, keep) in zip(panels, GROUPS):
        for j, name in enumerate(n for n in q if keep(n)):
            fp, mc, se = finite(q[name]["fp"]), finite(q[name]["mc"]), finite(q[name]["stderr"])
            ax.plot(t, fp, "-", color=f"C{j}", label=f"{name} (FP)")
            if "fp_uncertainty" in q[name]:  # -error_estimate: the solver's error bar (doc/physics.md §5)
                u = finite(q[name]["fp_uncertainty"])
                ax.fill_between(t, fp - u, fp + u, color=f"C{j}", alpha=0.25, lw=0)
                bad = np.array(q[name]["fp_trusted"]) == 0
                if bad.any():
                    ax.plot(t[bad], fp[bad], "x", color=f"C{j}", ms=5, label=f"{name}: FP bar not trusted")
            ax.errorbar(t, mc, yerr=2 * se, fmt="o", ms=3, color=f"C{j}", capsize=2, label=f"{name} (MC ± 2 se)")
        ax.set_title(title)
        ax.set_xlabel("t")
        ax.legend(fontsize=7)
    zax = panels[len(GROUPS)]
    limit = cc.get("z_limit", 4)
    for j, (name, v) in enumerate((n, v) for n, v in q.items() if v["judged"]):
        zax.plot(t, finite(v["z"]), ".-", color=f"C{j % 10}", label=name, lw=0.8)
    zax.axhspan(-limit, limit, color="0.9", zorder=0)
    verdict = cc.get("verdict", "passed" if cc["passed"] else "failed")
    zax.set_title(f"z = (FP − MC)/stderr, judged ({verdict}, max |z| {cc['max_abs_z']:.2f})")
    zax.set_xlabel("t")
    zax.legend(fontsize=6, ncol=2)
    for ax in panels[len(GROUPS) + 1:]:
        ax.axis("off")
    fig.suptitle(f"{cc['model']}: {cc['particles']} particles ({cc['scheme']}, dt {cc['dt']:g}) vs the Fokker–Planck solver")
    fig.tight_layout()
    out = os.path.join(args.directory, "crosscheck.png")
    fig.savefig(out, dpi=args.dpi)
    print(out)
    return 0 if math.isfinite(cc["max_abs_z"]) else 1


if __name__ == "__main__":
    sys.exit(main())
