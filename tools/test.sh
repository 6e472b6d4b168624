#!/usr/bin/env bash
# Sets up and builds infotherm, runs the whole test suite (meson test: every tier,
# unit, conformance, mpi, convergence, system; doc/design.md "Tests") and
# ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --tests || { echo "0 passed, 1 failed"; exit 1; }
# three tests at a time on two cores: most of a test's wall time is process and MPI start-up
# (a whole run used 1.1 cores on average with two at a time)
meson test -C build --print-errorlogs --num-processes 3 "$@"
status=$?
log=build/meson-logs/testlog.json
passed=$(grep -c '"result": "OK"' "$log")
failed=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
echo "$passed passed, $failed failed"
exit $status
