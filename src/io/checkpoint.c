/* checkpoint.h5: a density file (hdf5.c) with what a restart needs besides
   the density: the time-stepping state as one array of reals of the
   caller's making (its length is checked on reading), the rows of
   diagnostics.csv and the snapshot index, the format's version, and a
   refractory compartment's history when the run has one (/refractory_history,
   of its own length: src/fp/refractory.c packs it). */
#include <petscviewerhdf5.h>
#include <infotherm/private/ioimpl.h>

/* Checkpoint format: the density, the table, the snapshot index, and the
   caller's state (3: the diagnostics' state holds the flows' slopes). */
#define IT_CHECKPOINT_VERSION 3

/* A small array held whole by rank 0, written as the dataset /name. Collective. */
static PetscErrorCode ItIOWriteArray(ItIO io, PetscViewer viewer, const char name[], PetscInt n,
                                     const PetscReal values[]) {
  Vec          v;
  PetscScalar *va;

  PetscFunctionBegin;
  PetscCall(VecCreateMPI(io->comm, io->rank == 0 ? n : 0, n, &v));
  PetscCall(PetscObjectSetName((PetscObject)v, name));
  PetscCall(VecGetArray(v, &va));
  if (io->rank == 0)
    for (PetscInt k = 0; k < n; k++) va[k] = values[k];
  PetscCall(VecRestoreArray(v, &va));
  PetscCall(VecView(v, viewer));
  PetscCall(VecDestroy(&v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads the dataset /name, of whatever length, onto every rank: *n values
   in *values (allocated; free with PetscFree). Collective. */
static PetscErrorCode ItIOReadVector(ItIO io, PetscViewer viewer, const char name[], PetscInt *n,
                                     PetscReal **values) {
  Vec                v, all;
  VecScatter         scatter;
  const PetscScalar *va;

  PetscFunctionBegin;
  PetscCall(VecCreate(io->comm, &v));
  PetscCall(PetscObjectSetName((PetscObject)v, name));
  PetscCall(VecLoad(v, viewer));
  PetscCall(VecGetSize(v, n));
  PetscCall(PetscMalloc1(PetscMax(*n, 1), values));
  PetscCall(VecScatterCreateToAll(v, &scatter, &all));
  PetscCall(VecScatterBegin(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(all, &va));
  for (PetscInt k = 0; k < *n; k++) (*values)[k] = PetscRealPart(va[k]);
  PetscCall(VecRestoreArrayRead(all, &va));
  PetscCall(VecScatterDestroy(&scatter));
  PetscCall(VecDestroy(&all));
  PetscCall(VecDestroy(&v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads the dataset /name, which must hold n values, onto every rank.
   Collective. */
static PetscErrorCode ItIOReadArray(ItIO io, PetscViewer viewer, const char name[], PetscInt n,
                                    PetscReal values[]) {
  PetscInt   size;
  PetscReal *read;

  PetscFunctionBegin;
  PetscCall(ItIOReadVector(io, viewer, name, &size, &read));
  if (size == n) PetscCall(PetscArraycpy(values, read, n));
  PetscCall(PetscFree(read));
  PetscCheck(size == n, io->comm, PETSC_ERR_FILE_UNEXPECTED,
             "the checkpoint's /%s holds %" PetscInt_FMT " values, expected %" PetscInt_FMT, name,
             size, n);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Frees the refractory history io keeps, and its share of the memory ledger. Not collective. */
static PetscErrorCode ItIOFreeHistory(ItIO io) {
  PetscFunctionBegin;
  if (io->history) ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)io->nhistory * sizeof(PetscReal));
  PetscCall(PetscFree(io->history));
  io->nhistory = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* /refractory_history, of its own length, into io->history on every rank.
   Collective. */
static PetscErrorCode ItIOReadHistory(ItIO io, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscCall(ItIOReadVector(io, viewer, "refractory_history", &io->nhistory, &io->history));
  ItMemoryAdd(IT_MEMORY_IO, (PetscReal)io->nhistory * sizeof(PetscReal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The checkpoint's contents, written into tmp (the viewer left open). */
static PetscErrorCode ItIOCheckpointContents(ItIO io, ItGrid grid, ItModel model, Vec p,
                                             PetscReal t, PetscInt nstate, const PetscReal state[],
                                             const char physics[], const char tmp[],
                                             PetscViewer *out) {
  PetscViewer viewer;
  char        columns[4096] = "";
  PetscInt    version       = IT_CHECKPOINT_VERSION;

  PetscFunctionBegin;
  PetscCall(ItIODensityOpen(io, grid, model, p, t, tmp, out));
  viewer = *out;
  PetscCall(
      PetscViewerHDF5WriteAttribute(viewer, "/density", "checkpoint_version", PETSC_INT, &version));
  PetscCall(PetscViewerHDF5WriteAttribute(viewer, "/density", "nrow", PETSC_INT, &io->nrow));
  PetscCall(PetscViewerHDF5WriteAttribute(viewer, "/density", "nsnap", PETSC_INT, &io->nsnap));
  for (PetscInt k = 0; k < io->ncol; k++) {
    PetscCall(PetscStrlcat(columns, k ? "," : "", sizeof(columns)));
    PetscCall(PetscStrlcat(columns, io->column[k], sizeof(columns)));
  }
  PetscCall(PetscViewerHDF5WriteAttribute(viewer, "/density", "columns", PETSC_STRING, columns));
  PetscCall(PetscViewerHDF5WriteAttribute(viewer, "/density", "physics", PETSC_STRING, physics));
  PetscCall(ItIOWriteArray(io, viewer, "state", nstate, state));
  PetscCall(ItIOWriteArray(io, viewer, "diagnostics", io->nrow * io->ncol, io->row));
  PetscCall(ItIOWriteArray(io, viewer, "snapshot_times", io->nsnap, io->snap_t));
  if (io->nhistory > 0)
    PetscCall(ItIOWriteArray(io, viewer, "refractory_history", io->nhistory, io->history));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The refractory history the next checkpoint holds (n = 0: none), copied
   (in the memory ledger's io_buffers while io keeps it). Not collective. */
PetscErrorCode ItIOSetCheckpointHistory(ItIO io, PetscInt n, const PetscReal history[]) {
  PetscFunctionBegin;
  PetscCall(ItIOFreeHistory(io));
  io->nhistory = n;
  if (n > 0) {
    PetscCall(PetscMalloc1(n, &io->history));
    ItMemoryAdd(IT_MEMORY_IO, (PetscReal)n * sizeof(PetscReal));
    PetscCall(PetscArraycpy(io->history, history, n));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The refractory history of the checkpoint read last (n = 0: it has none);
   io keeps it. Not collective. */
PetscErrorCode ItIOGetCheckpointHistory(ItIO io, PetscInt *n, const PetscReal **history) {
  PetscFunctionBegin;
  *n       = io->nhistory;
  *history = io->history;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* DIR/checkpoint.h5: the density, the time-stepping state, the cumulative
   diagnostics, the rows of diagnostics.csv and the snapshot index, written to
   a temporary file that replaces the previous checkpoint only once complete
   (so a kill at any moment leaves the last complete checkpoint). Collective. */
PetscErrorCode ItIOWriteCheckpoint(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                                   PetscInt nstate, const PetscReal state[], const char physics[]) {
  PetscViewer    viewer = NULL;
  char           path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(io->claimed, PETSC_COMM_SELF, PETSC_ERR_PLIB, "checkpoint written before ItIOClaim");
  PetscCall(ItIOFilePath(io, "checkpoint.h5", path, sizeof(path)));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  PetscCall(
      ItIOWriteBegin(io, tmp, path, ItIODensityBytes(p, nstate + io->nrow * io->ncol + io->nsnap)));
  ierr = ItIOCheckpointContents(io, grid, model, p, t, nstate, state, physics, tmp, &viewer);
  PetscCall(ItIOCommit(io, ierr, &viewer, tmp, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Restores what ItIOWriteCheckpoint wrote: p, the state, the table rows and the
   snapshot index; refuses a checkpoint of another model, grid, column set or
   format. Collective. */
PetscErrorCode ItIOReadCheckpoint(ItIO io, ItGrid grid, ItModel model, const char file[], Vec p,
                                  PetscInt nstate, PetscReal state[], const char physics[]) {
  PetscViewer viewer;
  PetscInt    version, nrow, nsnap;
  PetscBool   has, same;
  char       *columns = NULL, *stored_model = NULL, expected[4096] = "";
  PetscReal   t;

  PetscFunctionBegin;
  PetscCall(ItIOReadSnapshot(grid, model, file, p, &t));
  PetscCall(ItIOViewerOpen(io->comm, file, FILE_MODE_READ, &viewer));
  PetscCall(PetscViewerHDF5HasAttribute(viewer, "/density", "checkpoint_version", &has));
  PetscCheck(has, io->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is a density snapshot, not a checkpoint",
             file);
  PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "checkpoint_version", PETSC_INT, NULL,
                                         &version));
  PetscCheck(version == IT_CHECKPOINT_VERSION, io->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s has checkpoint format %" PetscInt_FMT "; this infotherm reads format %d", file,
             version, IT_CHECKPOINT_VERSION);
  PetscCall(
      PetscViewerHDF5ReadAttribute(viewer, "/density", "model", PETSC_STRING, NULL, &stored_model));
  PetscCall(PetscStrcmp(stored_model, ItModelGetTypeName(model), &same));
  PetscCheck(same, io->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s was written by model %s; this run is model %s", file, stored_model,
             ItModelGetTypeName(model));
  PetscCall(PetscFree(stored_model));
  for (PetscInt k = 0; k < io->ncol; k++) {
    PetscCall(PetscStrlcat(expected, k ? "," : "", sizeof(expected)));
    PetscCall(PetscStrlcat(expected, io->column[k], sizeof(expected)));
  }
  PetscCall(
      PetscViewerHDF5ReadAttribute(viewer, "/density", "columns", PETSC_STRING, NULL, &columns));
  PetscCall(PetscStrcmp(columns, expected, &same));
  /* -error_estimate adds <q>_err columns: a restart that adds or drops it is named as such */
  PetscCheck(same || !strstr(columns, "_err,") == !strstr(expected, "_err,"), io->comm,
             PETSC_ERR_FILE_UNEXPECTED, "%s was written %s: restart %s, as before, or start afresh",
             file,
             strstr(columns, "_err,") ? "with -error_estimate and this run has none"
                                      : "without -error_estimate and this run asks for it",
             strstr(columns, "_err,") ? "with -error_estimate" : "without -error_estimate");
  PetscCheck(same, io->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s has other diagnostics columns than this run (were -bits, -kl_reference or "
             "-temperature changed?)",
             file);
  PetscCall(PetscFree(columns));
  PetscCall(
      PetscViewerHDF5ReadAttribute(viewer, "/density", "physics", PETSC_STRING, NULL, &columns));
  PetscCall(PetscStrcmp(columns, physics, &same));
  PetscCheck(
      same, io->comm, PETSC_ERR_FILE_UNEXPECTED,
      "%s was written with other model parameters, parity, sensor, -temperature, -time_unit, "
      "-atp_kT, -bits, -kl_reference or -error_estimate method than this run (it has: %s)",
      file, columns);
  PetscCall(PetscFree(columns));
  PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "nrow", PETSC_INT, NULL, &nrow));
  PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "nsnap", PETSC_INT, NULL, &nsnap));
  PetscCall(ItIOReadArray(io, viewer, "state", nstate, state));
  io->nrow = io->caprow = nrow;
  PetscCall(PetscRealloc(sizeof(PetscReal) * PetscMax(1, nrow * io->ncol), &io->row));
  PetscCall(ItIOReadArray(io, viewer, "diagnostics", nrow * io->ncol, io->row));
  io->nsnap = nsnap;
  PetscCall(PetscRealloc(sizeof(*io->snap_file) * PetscMax(1, nsnap), &io->snap_file));
  PetscCall(PetscRealloc(sizeof(*io->snap_t) * PetscMax(1, nsnap), &io->snap_t));
  PetscCall(ItIOReadArray(io, viewer, "snapshot_times", nsnap, io->snap_t));
  PetscCall(PetscViewerHDF5HasDataset(viewer, "/refractory_history", &has));
  PetscCall(ItIOFreeHistory(io));
  if (has) PetscCall(ItIOReadHistory(io, viewer));
  for (PetscInt k = 0; k < nsnap; k++) {
    char name[64];
    PetscCall(PetscSNPrintf(name, sizeof(name), "density_%04" PetscInt_FMT ".h5", k));
    PetscCall(ItIOFileName(io, name, io->snap_file[k], sizeof(io->snap_file[0])));
  }
  PetscCall(PetscViewerDestroy(&viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}
