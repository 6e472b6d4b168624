"""Read, run and plot infotherm from Python (doc/python.md).

    import infotherm
    r = infotherm.load("results/inference")      # every output of the folder
    r.diagnostics["mutual_information"]          # pandas DataFrame (numpy Table without pandas)
    r.summary["final"]                           # summary.json as a dict
    s = infotherm.snapshots("results/inference") # the density snapshots, read lazily
    s[-1]                                        # the last density, indexed [v, r]
    r = infotherm.run("stationary", options_file="input/inference.opts", grid_n=64)
    infotherm.errorband(ax, r, "mutual_information")

Conventions (doc/outputs.md): `<q>_err` is the correction to add to `q`
(so `q + <q>_err` is the extrapolated value `<q>_extrap`); `<q>_stderr`
is a Monte Carlo standard error (one standard deviation). Information in
nats unless the run used -bits; rates per unit of the model's time.

The one-file readers (read_columns, read_table, read_json, read_density) are
what load() and snapshots() use, and what tools/ and the tests read with."""
from .results import (InfothermWarning, Result, Snapshots, Table, load, read_columns, read_density, read_json,
                      read_table, snapshots)
from .runner import InfothermError, binary, run
from .plot import errorband

__all__ = ["load", "snapshots", "run", "errorband", "binary", "Result", "Snapshots", "Table",
           "InfothermError", "InfothermWarning", "read_columns", "read_table", "read_json", "read_density"]
