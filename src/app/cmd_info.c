/* infotherm info: what a run would do, without solving. */
#include <infotherm/private/appimpl.h>

/* infotherm info: the model, its parameters, the grid and the decomposition. */
static PetscErrorCode ItAppInfo(ItApp *app, PetscInt nfile, char *files[]) {
  PetscMPIInt rank;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(ItModelView(app->model, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(ItGridView(app->grid, PETSC_VIEWER_STDOUT_WORLD));
  for (PetscInt i = 0; i < ItGridGetInfo(app->grid)->dim; i++)
    PetscCall(PetscSynchronizedPrintf(
        PETSC_COMM_WORLD, "%s  rank %d owns %s in cells [%" PetscInt_FMT ", %" PetscInt_FMT ")\n",
        i ? "" : "", rank, ItModelGetVariableName(app->model, i), ItGridGetInfo(app->grid)->xs[i],
        ItGridGetInfo(app->grid)->xs[i] + ItGridGetInfo(app->grid)->xm[i]));
  PetscCall(PetscSynchronizedFlush(PETSC_COMM_WORLD, PETSC_STDOUT));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "output directory: %s\n", app->output_dir));
  PetscCall(ItAppViewMemory(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItAppCommand ItAppCommand_info = {
    .name       = "info",
    .summary    = "the model, its parameters, the grid, the ranks and the memory per rank",
    .run        = ItAppInfo,
    .sizes_only = PETSC_TRUE,
};
