/* The output directory's implementation, for src/io/ only
   (include/infotherm/io.h is the interface): the struct behind ItIO and the
   HDF5 helpers that the snapshot, checkpoint and XDMF writers share. */
#pragma once
#include <infotherm/io.h>

struct _p_ItIO {
  MPI_Comm    comm;
  PetscMPIInt rank;
  char        dir[PETSC_MAX_PATH_LEN];
  /* the files of the command (its layout), -overwrite, and whether the
     folder is claimed (created, locked, free of another run's files) */
  const ItIOLayout *layout;
  PetscBool         overwrite, claimed;
  /* diagnostics table: column names and rows (t first) */
  PetscInt ncol, nrow, caprow;
  char (*column)[64];
  PetscReal     *row;
  PetscLogDouble last_write;
  /* snapshots indexed by the XDMF file */
  PetscInt nsnap;
  char (*snap_file)[64];
  PetscReal *snap_t;
  /* a refractory compartment's history in the checkpoint (src/io/checkpoint.c) */
  PetscInt   nhistory;
  PetscReal *history;
};

/* Writing an HDF5 density file (src/io/hdf5.c): WriteBegin checks for room
   (about `bytes`, DensityBytes' estimate for p and n further reals) and
   routes errors to Commit; DensityOpen opens tmp and writes p at time t with
   the grid, the model and the options; Commit closes the file and renames
   tmp to path when every rank succeeded (ierr: this rank's result). */
PetscErrorCode ItIOWriteBegin(ItIO io, const char tmp[], const char path[], double bytes);
double         ItIODensityBytes(Vec p, PetscInt n);
PetscErrorCode ItIODensityOpen(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                               const char tmp[], PetscViewer *viewer);
PetscErrorCode ItIOCommit(ItIO io, PetscErrorCode ierr, PetscViewer *viewer, const char tmp[],
                          const char path[]);
PetscErrorCode ItIOReadDensity(ItGrid grid, Vec p, PetscViewer viewer);

/* density.xmf over the snapshots written so far (src/io/xdmf.c). */
PetscErrorCode ItIOWriteXDMF(ItIO io, ItGrid grid, ItModel model);
