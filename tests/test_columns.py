"""The diagnostics' columns come from one table (ItDiagColumnTable, src/diag/diag.c),
which `infotherm help -columns` lists: every column of it is documented, by its
name, in doc/outputs.md's "Diagnostics columns" and, as a quantity (its name
without the _cum, _W, _ATP_per_s of an integral or a unit), in doc/physics.md;
every row has a unit and a meaning; and the header of a run's diagnostics.csv
is the table expanded for the run's variables and conditions (a threshold
model under -bits: the threshold and information columns). A new column is a
row of the table and its line in doc/outputs.md: this test then covers it."""
import os
import re
import tempfile

from common import check, column_table, diag_columns, finish, run

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def section(text, title):
    """The text of the section `## title` up to the next `## `."""
    start = text.index("## " + title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


def undocumented(names, outputs, physics):
    """The names missing from doc/outputs.md's section (as a whole word) or, stripped of the
    suffix of an integral or a unit, from doc/physics.md."""
    missing = []
    for name in names:
        quantity = re.sub(r"(_cum|_W|_ATP_per_s)$", "", name)
        word = r"(?<![\w<>])" + re.escape(name) + r"(?![\w<>])"
        if not re.search(word, outputs) or quantity not in physics:
            missing.append(name)
    return missing


table = column_table()
names = [row[0] for row in table]
check(len(table) >= 25 and len(set(names)) == len(names) and all(row[2] and row[3] for row in table),
      f"help -columns lists {len(table)} columns, each once, each with a unit and a meaning")
outputs = section(open(os.path.join(ROOT, "doc", "outputs.md"), encoding="utf-8").read(), "Diagnostics columns")
physics = open(os.path.join(ROOT, "doc", "physics.md"), encoding="utf-8").read()
missing = undocumented(names, outputs, physics)
check(not missing, f"every column is documented in doc/outputs.md (by name) and doc/physics.md: missing {missing}")
# the check finds a column that a page leaves out
check(undocumented(["cost_per_bit"], outputs.replace("cost_per_bit", "cost"), physics) == ["cost_per_bit"]
      and undocumented(["spike_count_cum"], outputs, physics.replace("spike_count", "spikes")) == ["spike_count_cum"],
      "the documentation check fails on a column left out of either page")

# a threshold model with information in bits: its header is the table expanded
with tempfile.TemporaryDirectory() as cwd:
    out = os.path.join(cwd, "lif")
    run("run", ["-options_file", os.path.join(ROOT, "input", "lif_inference.opts"), "-grid_n", "16,12",
                "-t_final", "0.01", "-output_every", "0.01", "-bits", "-output_dir", out])
    header = open(os.path.join(out, "diagnostics.csv")).readline().strip().split(",")
    want = diag_columns(["v", "V"], {"threshold", "decoder"}, bits=True)
    check(header == want and "info_per_spike_bits" in header and "spike_count_cum" in header,
          f"a threshold model's header under -bits is the table's columns for v, V: {header}")
finish()
