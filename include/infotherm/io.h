/* I/O: the output directory and its files — diagnostics.csv, summary.json,
   density snapshots in HDF5 with an XDMF index — each written under a
   temporary name and renamed, so no reader ever sees half a file. */
#pragma once
#include <infotherm/grid.h>

typedef struct _p_ItIO *ItIO;

/* A growing text buffer, for JSON and CSV. */
typedef struct {
  char  *text;
  size_t len, cap;
} ItBuffer;

/* What a restart needs besides the density, the table and the snapshot index;
   all reals, stored as one array. */
#define IT_CHECKPOINT_VERSION 2
typedef struct {
  PetscReal t, dt, step; /* time-stepping state */
  PetscReal boundary_mass;
  PetscReal diag[2 + 2 * (IT_MAX_DIM + 2)]; /* ItDiagGetState */
} ItCheckpoint;

struct _p_ItIO {
  MPI_Comm    comm;
  PetscMPIInt rank;
  char        dir[PETSC_MAX_PATH_LEN];
  /* diagnostics table: column names and rows (t first) */
  PetscInt ncol, nrow, caprow;
  char (*column)[64];
  PetscReal     *row;
  PetscLogDouble last_write;
  /* snapshots indexed by the XDMF file */
  PetscInt nsnap;
  char (*snap_file)[64];
  PetscReal *snap_t;
};

PetscErrorCode ItIOCreate(MPI_Comm comm, const char dir[], ItIO *io);
PetscErrorCode ItIODestroy(ItIO *io);
PetscErrorCode ItIOSetColumns(ItIO io, PetscInt ncol, const char (*names)[64]);
PetscErrorCode ItIOAppendRow(ItIO io, PetscReal t, const PetscReal values[]);
PetscErrorCode ItIOWriteTable(ItIO io);
PetscErrorCode ItIOWriteText(ItIO io, const char name[], const char text[]);
PetscErrorCode ItIOWriteSnapshot(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                                 const char name[]);
PetscErrorCode ItIOReadSnapshot(ItGrid grid, ItModel model, const char file[], Vec p, PetscReal *t);
PetscErrorCode ItIOSnapshotOptions(MPI_Comm comm, const char file[]);
PetscErrorCode ItIOWriteCheckpoint(ItIO io, ItGrid grid, ItModel model, Vec p,
                                   const ItCheckpoint *state, const char physics[]);
PetscErrorCode ItIOReadCheckpoint(ItIO io, ItGrid grid, ItModel model, const char file[], Vec p,
                                  ItCheckpoint *state, const char physics[]);
PetscErrorCode ItIOSignalsInstall(void);
PetscInt       ItIOSignalsReceived(void);

PetscErrorCode ItBufferPrintf(ItBuffer *buf, const char format[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
PetscErrorCode ItBufferReal(ItBuffer *buf, PetscReal value);
PetscErrorCode ItBufferFree(ItBuffer *buf);
