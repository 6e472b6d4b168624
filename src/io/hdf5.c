/* HDF5 density files, written collectively through PETSc's HDF5 viewer: the
   dataset /density in natural cell ordering with the time, the grid and the
   model as attributes (a grid that carries axes as the DMDA's dof, or
   distributes them in another order, writes and reads /density as each
   rank's hyperslab; coordinates, dimension scales and /marginal:
   describe.c), the program's version, and every option of the run in the
   group /options: one string attribute per option, named as the option
   without its leading '-', whose value is the option's value ("" for a
   flag), so `analyze` rebuilds the run without re-parsing a command line.
   A file is written to a temporary name, checked for room first, and renamed
   by rank 0 only when every rank wrote its part. */
#include <errno.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <petscviewerhdf5.h>
#include <infotherm/private/ioimpl.h>

/* The value of the option name (no leading '-') without marking it used (so
   -options_left still reports the options nobody read): a used option from
   the database, an unused one from left[] (PetscOptionsLeftGet). */
static PetscErrorCode ItIOOptionValue(const char name[], PetscInt nleft, char *left[],
                                      char *left_value[], const char **value, PetscBool *set) {
  char key[512];

  PetscFunctionBegin;
  *set = PETSC_FALSE;
  PetscCall(PetscOptionsUsed(NULL, name, set));
  if (*set) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", name));
    PetscCall(PetscOptionsFindPair(NULL, NULL, key, value, set));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt k = 0; k < nleft && !*set; k++) {
    PetscCall(PetscStrcasecmp(left[k], name, set));
    if (*set) *value = left_value[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every option of the run as /options/<name> = value (a flag: ""), so that
   analyze can rebuild the run. PetscOptionsGetAll joins names and values with
   spaces, and values may hold spaces too; but a name never does, so every
   name is one of its words, and the database gives its value (a word inside
   a value that names a set option only repeats that option). Collective. */
static PetscErrorCode ItIOWriteOptions(PetscViewer viewer) {
  char    *all, *word, *save = NULL, **left, **left_value;
  PetscInt nleft;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscOptionsLeftGet(NULL, &nleft, &left, &left_value));
  for (word = strtok_r(all, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
    const char *value = NULL;
    PetscBool   key, set, seen;
    PetscCall(PetscOptionsValidKey(word, &key));
    if (!key) continue;
    PetscCall(ItIOOptionValue(word + 1, nleft, left, left_value, &value, &set));
    if (!set) continue;
    PetscCall(PetscViewerHDF5HasAttribute(viewer, "/options", word + 1, &seen));
    if (!seen)
      PetscCall(PetscViewerHDF5WriteAttribute(viewer, "/options", word + 1, PETSC_STRING,
                                              value ? value : ""));
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &left, &left_value));
  PetscCall(PetscFree(all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the DMDA's own order is the natural one (every axis distributed, in
   order, one cell per point): PETSc's VecView/VecLoad then write and read
   /density as it is. */
static PetscBool ItIOGridIsNatural(ItGrid grid) {
  const ItGridInfo *info    = ItGridGetInfo(grid);
  PetscBool         natural = (PetscBool)(info->dof == 1 && info->ndist == info->dim);

  for (PetscInt j = 0; j < info->ndist; j++) natural = (PetscBool)(natural && info->dist[j] == j);
  return natural;
}

/* The owned cells' part of a dataset over the axes in mask (the slowest axis
   first, as HDF5 lists them): its shape, this rank's hyperslab, and the offset
   of owned cell c in a buffer over that hyperslab (the first masked axis fastest). */
typedef struct {
  int      rank;
  hsize_t  dims[IT_MAX_DIM], start[IT_MAX_DIM], count[IT_MAX_DIM];
  PetscInt xs[IT_MAX_DIM], xm[IT_MAX_DIM], size;
} ItIOSlab;

static void ItIOSlabSetUp(ItGrid grid, const PetscBool mask[], ItIOSlab *slab) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  slab->rank             = 0;
  slab->size             = 1;
  for (PetscInt a = IT_MAX_DIM - 1; a >= 0; a--) {
    const PetscBool in = (PetscBool)(a < info->dim && mask[a]);
    slab->xs[a]        = in ? info->xs[a] : 0;
    slab->xm[a]        = in ? info->xm[a] : 1;
    slab->size *= slab->xm[a];
    if (!in) continue;
    slab->dims[slab->rank]  = (hsize_t)info->n[a];
    slab->start[slab->rank] = (hsize_t)info->xs[a];
    slab->count[slab->rank] = (hsize_t)info->xm[a];
    slab->rank++;
  }
}

static inline PetscInt ItIOSlabOffset(const ItIOSlab *slab, const PetscInt c[]) {
  PetscInt cc[IT_MAX_DIM];

  for (PetscInt a = 0; a < IT_MAX_DIM; a++) cc[a] = slab->xm[a] == 1 ? slab->xs[a] : c[a];
  return ItGridBoxOffset(slab->xs, slab->xm, cc);
}

/* Writes (or reads) this rank's hyperslab of the dataset `name` of the file
   behind viewer, collectively; the dataset is created when writing. */
static PetscErrorCode ItIOSlabTransfer(PetscViewer viewer, const char name[], const ItIOSlab *slab,
                                       PetscBool write, PetscReal buf[]) {
  hid_t  file, dset, filespace, memspace, xfer;
  herr_t status;

  PetscFunctionBegin;
  PetscCall(PetscViewerHDF5GetFileId(viewer, &file));
  if (write) {
    filespace = H5Screate_simple(slab->rank, slab->dims, NULL);
    PetscCheck(filespace >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5: no dataspace for /%s", name);
    dset =
        H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, filespace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  } else {
    dset      = H5Dopen2(file, name, H5P_DEFAULT);
    filespace = dset >= 0 ? H5Dget_space(dset) : -1;
  }
  PetscCheck(dset >= 0 && filespace >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "HDF5 cannot %s the dataset /%s", write ? "create" : "open", name);
  PetscCheck(write || H5Sget_simple_extent_ndims(filespace) == slab->rank, PETSC_COMM_SELF,
             PETSC_ERR_FILE_UNEXPECTED, "the dataset /%s has %d axes, expected %d", name,
             H5Sget_simple_extent_ndims(filespace), slab->rank);
  memspace = H5Screate_simple(1, (hsize_t[]){(hsize_t)PetscMax(slab->size, 1)}, NULL);
  if (slab->size > 0) {
    status = H5Sselect_hyperslab(filespace, H5S_SELECT_SET, slab->start, NULL, slab->count, NULL);
  } else {
    status = H5Sselect_none(filespace);
    if (status >= 0) status = H5Sselect_none(memspace);
  }
  xfer = H5Pcreate(H5P_DATASET_XFER);
  if (status >= 0 && xfer >= 0) status = H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
  if (status >= 0 && write)
    status = H5Dwrite(dset, H5T_NATIVE_DOUBLE, memspace, filespace, xfer, buf);
  else if (status >= 0)
    status = H5Dread(dset, H5T_NATIVE_DOUBLE, memspace, filespace, xfer, buf);
  H5Pclose(xfer);
  H5Sclose(memspace);
  H5Sclose(filespace);
  H5Dclose(dset);
  PetscCheck(status >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 failed to %s /%s",
             write ? "write" : "read", name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* /density: the whole N-D array in natural order (shape n_{d-1} x .. x n_0).
   When the grid is not stored naturally (axes carried as dof, or distributed
   in another order), each rank writes its owned box as a hyperslab
   (/marginal: src/io/describe.c). */
static PetscErrorCode ItIOWriteDensity(ItGrid grid, Vec p, PetscViewer viewer) {
  PetscBool          all[IT_MAX_DIM];
  ItIOSlab           slab;
  PetscReal         *buf;
  const PetscScalar *pa;

  PetscFunctionBegin;
  if (ItIOGridIsNatural(grid)) {
    PetscCall(VecView(p, viewer));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) all[a] = PETSC_TRUE;
  ItIOSlabSetUp(grid, all, &slab);
  PetscCall(PetscMalloc1(slab.size, &buf));
  /* added to what the other buffers hold (a post rank's receive buffer, src/app/post.c) */
  ItMemoryAdd(IT_MEMORY_IO, (PetscReal)slab.size * sizeof(PetscReal));
  PetscCall(VecGetArrayRead(p, &pa));
  ItGridForOwned(grid, c, l) buf[ItIOSlabOffset(&slab, c)] = PetscRealPart(pa[l]);
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItIOSlabTransfer(viewer, "/density", &slab, PETSC_TRUE, buf));
  PetscCall(PetscFree(buf));
  ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)slab.size * sizeof(PetscReal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads /density (natural order) into p. Collective. */
PetscErrorCode ItIOReadDensity(ItGrid grid, Vec p, PetscViewer viewer) {
  PetscBool    all[IT_MAX_DIM];
  ItIOSlab     slab;
  PetscReal   *buf;
  PetscScalar *pa;

  PetscFunctionBegin;
  if (ItIOGridIsNatural(grid)) {
    PetscCall(VecLoad(p, viewer));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) all[a] = PETSC_TRUE;
  ItIOSlabSetUp(grid, all, &slab);
  PetscCall(PetscMalloc1(slab.size, &buf));
  PetscCall(ItIOSlabTransfer(viewer, "/density", &slab, PETSC_FALSE, buf));
  PetscCall(VecGetArray(p, &pa));
  ItGridForOwned(grid, c, l) pa[l] = buf[ItIOSlabOffset(&slab, c)];
  PetscCall(VecRestoreArray(p, &pa));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Opens DIR/name.tmp and writes p at time t as /density, with the grid and
   the model as attributes, every option of the run in /options, and the
   program's version and commit as root attributes. Collective. */
PetscErrorCode ItIODensityOpen(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                               const char tmp[], PetscViewer *viewer) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  char              attr[32], *text;
  PetscInt          dim = info->dim;
  json_t           *fingerprint;

  PetscFunctionBegin;
  PetscCall(PetscObjectSetName((PetscObject)p, "density"));
  PetscCall(ItIOViewerOpen(io->comm, tmp, FILE_MODE_WRITE, viewer));
  PetscCall(ItIOWriteDensity(grid, p, *viewer));
  PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", "time", PETSC_REAL, &t));
  PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", "dim", PETSC_INT, &dim));
  PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", "model", PETSC_STRING,
                                          ItModelGetTypeName(model)));
  PetscCall(ItModelGetFingerprint(model, &fingerprint));
  text = json_dumps(fingerprint, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
  json_decref(fingerprint);
  PetscCheck(text, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot write the model's fingerprint");
  PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", "fingerprint", PETSC_STRING, text));
  free(text);
  PetscCall(ItIOWriteOptions(*viewer));
  PetscCall(ItVersionWriteHDF5(*viewer));
  PetscCall(ItIODescribeDensity(*viewer, grid, model, p));
  for (PetscInt i = 0; i < dim; i++) {
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "n%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", attr, PETSC_INT, &info->n[i]));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "lo%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", attr, PETSC_REAL, &info->lo[i]));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "hi%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", attr, PETSC_REAL, &info->hi[i]));
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", ItModelGetVariableName(model, i),
                                            PETSC_INT, &i));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* HDF5's own error printing, silenced while a file is written. */
static H5E_auto2_t ItIOHDF5Print;
static void       *ItIOHDF5PrintData;

/* Before an HDF5 file of about `bytes` is written to tmp: refuses when the
   folder's file system has less room (HDF5 over MPI-IO does not recover from a
   full disk), and returns errors to ItIOCommit, which every rank reaches,
   instead of ending the run half-way. Collective. */
PetscErrorCode ItIOWriteBegin(ItIO io, const char tmp[], const char path[], double bytes) {
  double free_bytes = -1;

  PetscFunctionBegin;
  if (io->rank == 0) {
    struct statvfs fs;
    if (statvfs(io->dir, &fs) == 0) free_bytes = (double)fs.f_bavail * (double)fs.f_frsize;
  }
  PetscCallMPI(MPI_Bcast(&free_bytes, 1, MPI_DOUBLE, 0, io->comm));
  PetscCheck(free_bytes < 0 || free_bytes >= bytes, io->comm, PETSC_ERR_FILE_WRITE,
             "cannot write %s: %s (%.0f bytes free, about %.0f needed)", path, strerror(ENOSPC),
             free_bytes, bytes);
  if (io->rank == 0) ItIOTmpBegin(tmp);
  H5Eget_auto2(H5E_DEFAULT, &ItIOHDF5Print, &ItIOHDF5PrintData);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  errno = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The size of a density file of p with n further reals, and room for the
   options, attributes and HDF5's own structures. */
double ItIODensityBytes(Vec p, PetscInt n) {
  PetscInt size = 0;

  VecGetSize(p, &size);
  return 8.0 * ((double)size + (double)n) + 65536.0;
}

/* Closes the file (flushing it) and renames tmp to path on rank 0, if the
   writing (ierr: this rank's result) went well on every rank; otherwise
   removes tmp and names the file and the reason (a full disk, ...). Collective. */
PetscErrorCode ItIOCommit(ItIO io, PetscErrorCode ierr, PetscViewer *viewer, const char tmp[],
                          const char path[]) {
  int local[2] = {0, 0}, global[2];

  PetscFunctionBegin;
  if (!ierr) {
    ierr = PetscViewerDestroy(viewer);
    if (ierr) *viewer = NULL; /* a viewer whose close failed cannot be closed again */
  }
  local[0] = ierr != 0;
  local[1] = ierr ? errno : 0;
  if (*viewer) (void)PetscViewerDestroy(viewer);
  *viewer = NULL;
  PetscCall(PetscPopErrorHandler());
  H5Eset_auto2(H5E_DEFAULT, ItIOHDF5Print, ItIOHDF5PrintData);
  PetscCallMPI(MPI_Allreduce(local, global, 2, MPI_INT, MPI_MAX, io->comm));
  if (io->rank == 0) {
    if (global[0])
      unlink(tmp);
    else if (rename(tmp, path) != 0)
      global[0] = 1, global[1] = errno;
    ItIOTmpEnd();
  }
  PetscCallMPI(MPI_Bcast(global, 2, MPI_INT, 0, io->comm));
  PetscCheck(!global[0], io->comm, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path,
             global[1] ? strerror(global[1]) : "the HDF5 library failed to write it");
  PetscFunctionReturn(PETSC_SUCCESS);
}
