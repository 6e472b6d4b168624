"""errorband(ax, result, column): a quantity against time with its error
band, whichever side computed it: the solver's `<q>_uncertainty` (run with
-error_estimate; the band is q ± uncertainty, the line the plain value;
q ± |err| where only `<q>_err` is there) or the
Monte Carlo's `<q>_stderr` (q ± k standard errors, at the interval
midpoints for the interval means entropy_flow_<var> and heat_rate_<var>)."""
import numpy as np


def _pick(result, column):
    """(table, kind) of the first table holding column: the solver's, then the Monte Carlo's."""
    if hasattr(result, "columns"):  # a table itself
        return result, "table"
    for name in ("diagnostics", "crosscheck_diagnostics", "stationary", "mc", "crosscheck_mc"):
        table = getattr(result, name, None)
        if table is not None and column in table.columns:
            return table, name
    raise KeyError(f"no table of {getattr(result, 'folder', result)} has the column {column!r}")


def errorband(ax, result, column, x="t", k=1.0, label=None, **style):
    """Draws column against x on the matplotlib axes ax, with its error band;
    returns (line, band). result is a Result (or one of its tables)."""
    table, kind = _pick(result, column)
    columns = list(table.columns)
    q = np.asarray(table[column], dtype=float)
    if column + "_uncertainty" in columns:  # the error bar -error_estimate gives (a half-width)
        half = np.asarray(table[column + "_uncertainty"], dtype=float)
    elif column + "_err" in columns:
        half = np.abs(np.asarray(table[column + "_err"], dtype=float))
    elif column + "_stderr" in columns:
        half = k * np.asarray(table[column + "_stderr"], dtype=float)
        if column.startswith(("entropy_flow_", "heat_rate_")) and not column.endswith("_cum") and "t_mid" in columns \
                and x == "t":
            x = "t_mid"
    else:
        raise KeyError(f"{column} has no error column ({column}_err: run with -error_estimate; "
                       f"{column}_stderr: the Monte Carlo's)")
    t = np.asarray(table[x], dtype=float)
    (line,) = ax.plot(t, q, label=label or column, **style)
    band = ax.fill_between(t, q - half, q + half, color=line.get_color(), alpha=0.25, linewidth=0)
    return line, band
