/* run's start and end lines. On a terminal the solver shows a progress line;
   elsewhere (a batch job's log, a pipe) stderr gets one line when the run
   starts (model, grid, ranks, times, folder) and one when it ends (where, how
   many steps, how long), so that a Slurm log says what ran. -quiet silences
   both. Rank 0 prints. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <infotherm/private/appimpl.h>

static PetscBool ItAppReporting(ItApp *app) {
  return (PetscBool)(!app->settings.quiet && !isatty(STDERR_FILENO));
}

PetscErrorCode ItAppReportStart(ItApp *app) {
  char        cells[128] = "", stamp[32], line[PETSC_MAX_PATH_LEN + 512];
  time_t      now        = time(NULL);
  PetscMPIInt size;

  PetscFunctionBegin;
  if (!ItAppReporting(app)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  for (PetscInt i = 0; i < ItGridGetInfo(app->grid)->dim; i++) {
    char axis[32];
    PetscCall(PetscSNPrintf(axis, sizeof(axis), "%s%" PetscInt_FMT, i ? "x" : "",
                            ItGridGetInfo(app->grid)->n[i]));
    PetscCall(PetscStrlcat(cells, axis, sizeof(cells)));
  }
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  /* C's %g (PETSc's printf writes 0 as "0.") */
  snprintf(
      line, sizeof(line),
      "infotherm run: started %s: model %s, %s cells, %d rank(s), t = %g to %g, output in %s\n",
      stamp, ItModelGetTypeName(app->model), cells, size,
      (double)(app->settings.restarted ? app->settings.t0 : 0), (double)app->settings.t_final,
      app->output_dir);
  PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR, "%s", line));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItAppReportEnd(ItApp *app) {
  PetscLogDouble now;
  char           line[256];

  PetscFunctionBegin;
  if (!ItAppReporting(app)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscTime(&now));
  snprintf(line, sizeof(line), "infotherm run: %s at t = %g after %lld steps, %.1f s\n",
           app->result.interrupted ? "stopped (checkpoint written)" : "finished",
           (double)app->result.t_end, (long long)app->result.steps, (double)(now - app->start));
  PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR, "%s", line));
  PetscFunctionReturn(PETSC_SUCCESS);
}
