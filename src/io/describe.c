/* What makes a density file describe itself. Every variable gets a dataset
   of its cell-centre coordinates, named after the variable and made an HDF5
   dimension scale, attached to the matching axis of /density (and of
   /marginal), so that netCDF readers (xarray with engine="h5netcdf") give
   named, labelled dimensions instead of phony ones. /density and /marginal
   carry a "variables" attribute: their variables, slowest axis first, as
   HDF5 lists the axes. Beyond three variables /marginal holds the marginal
   density of the variables -snapshot_marginal names (default: the first
   three), the one density.xmf shows (ParaView draws 3-D at most). Every rank
   calls every function here (HDF5's metadata writes are collective); rank 0
   writes the data of the small datasets. */
#include <petscviewerhdf5.h>
#include <hdf5_hl.h>
#include <infotherm/io.h>

/* Whether name can be a dataset beside /density (not one of the file's own names). */
static PetscBool ItIOScaleNameFree(const char name[]) {
  static const char *const taken[] = {"density", "marginal",    "options",
                                      "state",   "diagnostics", "snapshot_times"};

  for (size_t k = 0; k < sizeof(taken) / sizeof(taken[0]); k++)
    if (!strcmp(name, taken[k])) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* The option names of the snapshots' options (src/model/option_names.c). */
const ItOptionName ItIOSnapshotOptionNames[] = {{"snapshot_marginal", 0}, {NULL, 0}};

/* -snapshot_marginal v,r1,w1: the (at most three) variables of /marginal,
   in increasing order of their index; default the first three. axes may be
   NULL (the option is then only read and checked, and listed by -help).
   Collective. */
PetscErrorCode ItIOMarginalAxes(ItGrid grid, ItModel model, PetscInt *naxes, PetscInt axes[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  char             *names[IT_MAX_DIM + 1];
  PetscInt          n = IT_MAX_DIM + 1, count = 0;
  PetscBool         set, chosen[IT_MAX_DIM]   = {PETSC_FALSE};

  PetscFunctionBegin;
  PetscOptionsBegin(info->comm, NULL, "Snapshots", "ItIO");
  PetscCall(PetscOptionsStringArray("-snapshot_marginal",
                                    "the 1 to 3 variables of /marginal (what density.xmf shows) "
                                    "in snapshots of 4 to 6 variables (default: the first three)",
                                    NULL, names, &n, &set));
  PetscOptionsEnd();
  if (!set) n = 0;
  for (PetscInt k = 0; k < n; k++) {
    PetscInt i = 0;
    while (i < info->dim && strcmp(names[k], ItModelGetVariableName(model, i))) i++;
    PetscCheck(i < info->dim, info->comm, PETSC_ERR_USER_INPUT,
               "-snapshot_marginal: '%s' is not a variable of the model", names[k]);
    PetscCheck(!chosen[i], info->comm, PETSC_ERR_USER_INPUT, "-snapshot_marginal names '%s' twice",
               names[k]);
    chosen[i] = PETSC_TRUE;
  }
  PetscCheck(n <= 3, info->comm, PETSC_ERR_USER_INPUT,
             "-snapshot_marginal names %" PetscInt_FMT " variables; give 1 to 3", n);
  for (PetscInt k = 0; k < n; k++) PetscCall(PetscFree(names[k]));
  for (PetscInt i = 0; i < info->dim && !set && i < 3; i++) chosen[i] = PETSC_TRUE;
  for (PetscInt i = 0; i < info->dim; i++)
    if (chosen[i] && axes) axes[count++] = i;
  if (naxes) *naxes = count;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A 1-D dataset of n doubles (rank 0's values), or, with values NULL, opens it. */
static PetscErrorCode ItIOWriteVector(hid_t file, const char name[], PetscInt n,
                                      const PetscReal values[], PetscMPIInt rank, hid_t *dset) {
  hsize_t dims = (hsize_t)n;
  hid_t   space, xfer;
  herr_t  status = 0;

  PetscFunctionBegin;
  space = H5Screate_simple(1, &dims, NULL);
  *dset = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  PetscCheck(space >= 0 && *dset >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "HDF5 cannot create the dataset /%s", name);
  if (rank != 0) status = H5Sselect_none(space);
  xfer = H5Pcreate(H5P_DATASET_XFER);
  if (status >= 0) status = H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
  if (status >= 0) status = H5Dwrite(*dset, H5T_NATIVE_DOUBLE, space, space, xfer, values);
  H5Pclose(xfer);
  H5Sclose(space);
  PetscCheck(status >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 failed to write /%s", name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A string attribute (fixed length, UTF-8, as netCDF's text attributes) on the object obj. */
static PetscErrorCode ItIOWriteStringAttribute(hid_t obj, const char name[], const char text[]) {
  hid_t  type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), attr = -1;
  herr_t status;

  PetscFunctionBegin;
  status = H5Tset_size(type, PetscMax(strlen(text), 1));
  if (status >= 0) status = H5Tset_cset(type, H5T_CSET_UTF8);
  if (status >= 0) attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr >= 0) status = H5Awrite(attr, type, text);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  PetscCheck(status >= 0 && attr >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "HDF5 cannot write the attribute %s", name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The variables of the axes (the first fastest) as HDF5 lists them, slowest first: "r,v". */
static void ItIOAxisList(ItModel model, PetscInt n, const PetscInt axes[], char list[],
                         size_t len) {
  list[0] = 0;
  for (PetscInt k = n - 1; k >= 0; k--) {
    if (k < n - 1) PetscStrlcat(list, ",", len);
    PetscStrlcat(list, ItModelGetVariableName(model, axes[k]), len);
  }
}

/* Attaches the coordinate scales to the dataset name over the axes (first fastest),
   and writes its "variables" attribute. */
static PetscErrorCode ItIOAttachScales(hid_t file, const char name[], ItModel model, PetscInt n,
                                       const PetscInt axes[], const hid_t scale[]) {
  hid_t dset = H5Dopen2(file, name, H5P_DEFAULT), space;
  int   rank;
  char  list[IT_MAX_DIM * (IT_NAME_LEN + 1)];

  PetscFunctionBegin;
  PetscCheck(dset >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 cannot open %s", name);
  space = H5Dget_space(dset);
  rank  = H5Sget_simple_extent_ndims(space);
  H5Sclose(space);
  ItIOAxisList(model, n, axes, list, sizeof(list));
  PetscCall(ItIOWriteStringAttribute(dset, "variables", list));
  if (rank == (int)n) /* HDF5 axis k is the axis n - 1 - k */
    for (PetscInt k = 0; k < n; k++)
      if (scale[axes[k]] >= 0)
        PetscCheck(H5DSattach_scale(dset, scale[axes[k]], (unsigned)(n - 1 - k)) >= 0,
                   PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 cannot attach a scale to %s", name);
  H5Dclose(dset);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* /marginal: p summed over the variables that -snapshot_marginal leaves
   out, times their cell widths; rank 0 writes the whole (small) array. */
static PetscErrorCode ItIOWriteMarginal(hid_t file, ItGrid grid, PetscInt n, const PetscInt axes[],
                                        Vec p, PetscMPIInt rank) {
  const ItGridInfo  *info             = ItGridGetInfo(grid);
  PetscBool          mask[IT_MAX_DIM] = {PETSC_FALSE};
  PetscInt           size;
  PetscReal         *local, *sum, cell, scale = 1;
  hsize_t            dims[3];
  hid_t              space, dset, xfer;
  herr_t             status = 0;
  const PetscScalar *pa;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) mask[axes[k]] = PETSC_TRUE;
  for (PetscInt a = 0; a < info->dim; a++)
    if (!mask[a]) scale *= info->h[a];
  PetscCall(ItGridMarginalLayout(grid, mask, &size, &cell));
  PetscCall(PetscCalloc2(size, &local, size, &sum));
  PetscCall(VecGetArrayRead(p, &pa));
  ItGridForOwned(grid, c, l) local[ItGridMarginalIndex(grid, mask, c)] += PetscRealPart(pa[l]);
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCallMPI(MPI_Reduce(local, sum, (PetscMPIInt)size, MPIU_REAL, MPIU_SUM, 0, info->comm));
  for (PetscInt k = 0; k < size; k++) sum[k] *= scale;
  for (PetscInt k = 0; k < n; k++) dims[n - 1 - k] = (hsize_t)info->n[axes[k]];
  space = H5Screate_simple((int)n, dims, NULL);
  dset =
      H5Dcreate2(file, "marginal", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  PetscCheck(space >= 0 && dset >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "HDF5 cannot create /marginal");
  if (rank != 0) status = H5Sselect_none(space);
  xfer = H5Pcreate(H5P_DATASET_XFER);
  if (status >= 0) status = H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
  if (status >= 0) status = H5Dwrite(dset, H5T_NATIVE_DOUBLE, space, space, xfer, sum);
  H5Pclose(xfer);
  H5Sclose(space);
  H5Dclose(dset);
  PetscCall(PetscFree2(local, sum));
  PetscCheck(status >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 failed to write /marginal");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After /density is written: /marginal (beyond three variables), the
   coordinate scales and the "variables" attributes. Collective. */
PetscErrorCode ItIODescribeDensity(PetscViewer viewer, ItGrid grid, ItModel model, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  hid_t             file, scale[IT_MAX_DIM];
  PetscInt          all[IT_MAX_DIM], axes[3], naxes;
  PetscReal        *x;
  PetscMPIInt       rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(info->comm, &rank));
  PetscCall(PetscViewerHDF5GetFileId(viewer, &file));
  PetscCall(ItIOMarginalAxes(grid, model, &naxes, axes));
  if (info->dim > 3) PetscCall(ItIOWriteMarginal(file, grid, naxes, axes, p, rank));
  for (PetscInt i = 0; i < info->dim; i++) {
    const char *name = ItModelGetVariableName(model, i);
    all[i]           = i;
    scale[i]         = -1;
    if (!ItIOScaleNameFree(name)) continue;
    PetscCall(PetscMalloc1(info->n[i], &x));
    for (PetscInt k = 0; k < info->n[i]; k++) x[k] = ItGridCoordinate(grid, i, k);
    PetscCall(ItIOWriteVector(file, name, info->n[i], x, rank, &scale[i]));
    PetscCall(PetscFree(x));
    PetscCheck(H5DSset_scale(scale[i], name) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
               "HDF5 cannot make /%s a dimension scale", name);
    PetscCall(ItIOWriteStringAttribute(scale[i], "long_name", "cell-centre coordinate"));
  }
  PetscCall(ItIOAttachScales(file, "density", model, info->dim, all, scale));
  if (info->dim > 3) PetscCall(ItIOAttachScales(file, "marginal", model, naxes, axes, scale));
  for (PetscInt i = 0; i < info->dim; i++)
    if (scale[i] >= 0) H5Dclose(scale[i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}
