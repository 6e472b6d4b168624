#!/usr/bin/env bash
# Sets up and builds infotherm, runs the default scenario (2-variable neural
# inference, input/inference.opts) on 2 MPI ranks into results/inference/, and
# plots it there (diagnostics.png, density.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
ranks=${RANKS:-2}
# -overwrite: a second `bash tools/main.sh` replaces the first one's results (only infotherm's files)
mpiexec --allow-run-as-root --oversubscribe -n "$ranks" build/infotherm run -options_file input/inference.opts -overwrite "$@"
/usr/bin/python3 tools/plot.py results/inference
