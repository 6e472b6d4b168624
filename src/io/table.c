/* CSV tables: a header of column names, then one row per output time at 17
   significant digits (doubles round-trip exactly), the format users' scripts
   read in diagnostics.csv and mc.csv. The diagnostics table grows row by row
   and is rewritten every 10 wall seconds and at the end. */
#include <infotherm/private/ioimpl.h>

/* DIR/name as CSV: the header (column names), then nrow rows of ncol values
   (row-major) at 17 significant digits (doubles round-trip exactly), the format users' scripts read
   in diagnostics.csv and mc.csv. Rank 0's values are written. Collective. */
PetscErrorCode ItIOWriteCSV(ItIO io, const char name[], PetscInt ncol, const char *const column[],
                            PetscInt nrow, const PetscReal values[]) {
  ItBuffer buf = {0};

  PetscFunctionBegin;
  if (io->rank == 0) {
    for (PetscInt k = 0; k < ncol; k++)
      PetscCall(ItBufferPrintf(&buf, "%s%s", k ? "," : "", column[k]));
    PetscCall(ItBufferPrintf(&buf, "\n"));
    for (PetscInt r = 0; r < nrow; r++) {
      for (PetscInt k = 0; k < ncol; k++)
        PetscCall(ItBufferPrintf(&buf, "%s%.17g", k ? "," : "", (double)values[r * ncol + k]));
      PetscCall(ItBufferPrintf(&buf, "\n"));
    }
  }
  PetscCall(ItIOWriteText(io, name, buf.text ? buf.text : ""));
  PetscCall(ItBufferFree(&buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItIOSetColumns(ItIO io, PetscInt ncol, const char (*names)[64]) {
  PetscFunctionBegin;
  io->ncol = ncol + 1;
  PetscCall(PetscMalloc1(io->ncol, &io->column));
  PetscCall(PetscStrncpy(io->column[0], "t", 64));
  for (PetscInt k = 0; k < ncol; k++) PetscCall(PetscStrncpy(io->column[k + 1], names[k], 64));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds one row; rewrites diagnostics.csv when 10 wall seconds have passed. Collective. */
PetscErrorCode ItIOAppendRow(ItIO io, PetscReal t, const PetscReal values[]) {
  PetscLogDouble now;

  PetscFunctionBegin;
  if (io->nrow == io->caprow) {
    io->caprow = PetscMax(64, 2 * io->caprow);
    PetscCall(PetscRealloc(sizeof(PetscReal) * io->caprow * io->ncol, &io->row));
  }
  io->row[io->nrow * io->ncol] = t;
  PetscCall(PetscArraycpy(&io->row[io->nrow * io->ncol + 1], values, io->ncol - 1));
  io->nrow++;
  PetscCall(PetscTime(&now));
  {
    /* rank 0's clock decides: every rank must take part in the write */
    int due = io->claimed && now - io->last_write > 10;
    PetscCallMPI(MPI_Bcast(&due, 1, MPI_INT, 0, io->comm));
    if (due) PetscCall(ItIOWriteTable(io));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Writes diagnostics.csv: a header of doc/physics.md names, one row per output time. Collective. */
PetscErrorCode ItIOWriteTable(ItIO io) {
  const char **column;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(io->ncol, &column));
  for (PetscInt k = 0; k < io->ncol; k++) column[k] = io->column[k];
  PetscCall(ItIOWriteCSV(io, "diagnostics.csv", io->ncol, column, io->nrow, io->row));
  PetscCall(PetscFree(column));
  PetscCall(PetscTime(&io->last_write));
  PetscFunctionReturn(PETSC_SUCCESS);
}
