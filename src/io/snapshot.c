/* Density snapshots (density_NNNN.h5 and the others): writing one and
   adding it to the XDMF index; reading one back after checking that it is a
   complete density file of infotherm's on this run's grid and model; the
   options stored in a snapshot (analyze rebuilds the run from them, but for
   those of one invocation, IT_OPTION_LOCAL in the registered option tables)
   and the check that analyze's snapshots come from one run (they may differ
   in where and how far it went, IT_OPTION_STEERING). */
#include <stdlib.h>
#include <petscviewerhdf5.h>
#include <infotherm/private/ioimpl.h>

/* Writes p at time t to DIR/name (HDF5) and adds it to density.xmf. Collective. */
PetscErrorCode ItIOWriteSnapshot(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                                 const char name[]) {
  PetscViewer    viewer = NULL;
  char           path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(io->claimed, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s written before ItIOClaim", name);
  PetscCall(ItIOFilePath(io, name, path, sizeof(path)));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  PetscCall(ItIOWriteBegin(io, tmp, path, ItIODensityBytes(p, 0)));
  ierr = ItIODensityOpen(io, grid, model, p, t, tmp, &viewer);
  PetscCall(ItIOCommit(io, ierr, &viewer, tmp, path));
  PetscCall(PetscRealloc(sizeof(*io->snap_file) * (io->nsnap + 1), &io->snap_file));
  PetscCall(PetscRealloc(sizeof(*io->snap_t) * (io->nsnap + 1), &io->snap_t));
  PetscCall(ItIOFileName(io, name, io->snap_file[io->nsnap], sizeof(io->snap_file[0])));
  io->snap_t[io->nsnap++] = t;
  PetscCall(ItIOWriteXDMF(io, grid, model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether attribute name of obj exists as a scalar of HDF5 type class cls. */
static int ItIOAttributeIs(hid_t obj, const char name[], H5T_class_t cls) {
  hid_t a, type, space;
  int   ok;

  if (H5Aexists(obj, name) <= 0 || (a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return 0;
  type  = H5Aget_type(a);
  space = H5Aget_space(a);
  ok    = type >= 0 && space >= 0 && H5Tget_class(type) == cls &&
       H5Sget_simple_extent_npoints(space) == 1;
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  H5Aclose(a);
  return ok;
}

/* Whether attribute name of obj, if there, is a fixed-length string (what
   PETSc's HDF5 viewer reads; a variable-length one, as h5py writes by
   default, fails inside it with a trace). */
static int ItIOFixedString(hid_t obj, const char name[]) {
  hid_t a, type;
  int   ok;

  if (H5Aexists(obj, name) <= 0) return 1;
  if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return 0;
  type = H5Aget_type(a);
  ok   = type >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0;
  if (type >= 0) H5Tclose(type);
  H5Aclose(a);
  return ok;
}

/* What makes dataset d (of an open snapshot or checkpoint) no density of
   infotherm's, in why[] ("" when none): its type (floating point), its
   attributes dim, n_i, lo_i, hi_i (integers and reals, as infotherm writes
   them), its shape (dim axes holding the product of n_i values) and its
   time (finite, not negative). Rank-local HDF5 calls, errors silenced. */
static void ItIODensityLayout(hid_t d, char why[], size_t len) {
  hid_t     type = H5Dget_type(d), space = H5Dget_space(d);
  long long dim = 0, n, count = 1;
  double    t;
  char      name[32];

  why[0] = 0;
  if (type < 0 || H5Tget_class(type) != H5T_FLOAT)
    snprintf(why, len, "its /density holds no floating-point numbers");
  else if (!ItIOAttributeIs(d, "dim", H5T_INTEGER))
    snprintf(why, len, "its /density has no integer attribute dim");
  else {
    hid_t a = H5Aopen(d, "dim", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_LLONG, &dim);
    H5Aclose(a);
    if (dim < 1 || dim > IT_MAX_DIM) snprintf(why, len, "its attribute dim is %lld", dim);
  }
  for (long long i = 0; i < dim && !why[0]; i++) {
    const char *kind[3] = {"n", "lo", "hi"};
    for (int k = 0; k < 3 && !why[0]; k++) {
      snprintf(name, sizeof(name), "%s%lld", kind[k], i);
      if (!ItIOAttributeIs(d, name, k ? H5T_FLOAT : H5T_INTEGER))
        snprintf(why, len, "its /density has no %s attribute %s", k ? "real" : "integer", name);
    }
    if (!why[0]) {
      hid_t a = H5Aopen(d, (snprintf(name, sizeof(name), "n%lld", i), name), H5P_DEFAULT);
      H5Aread(a, H5T_NATIVE_LLONG, &n);
      H5Aclose(a);
      if (n < 1) snprintf(why, len, "its attribute %s is %lld", name, n);
      count *= n;
    }
  }
  if (!why[0] && (space < 0 || H5Sget_simple_extent_npoints(space) != count))
    snprintf(why, len, "its /density holds %lld values, not the %lld cells of its grid",
             space < 0 ? -1LL : (long long)H5Sget_simple_extent_npoints(space), count);
  else if (!why[0] && H5Sget_simple_extent_ndims(space) != dim)
    snprintf(why, len, "its /density has %d axes, not dim = %lld",
             H5Sget_simple_extent_ndims(space), dim);
  for (int k = 0; k < 3 && !why[0]; k++) {
    const char *text[3] = {"model", "fingerprint", "physics"};
    if (!ItIOFixedString(d, text[k]))
      snprintf(why, len, "its /density attribute %s is not a fixed-length string", text[k]);
  }
  if (!why[0] && !ItIOAttributeIs(d, "time", H5T_FLOAT))
    snprintf(why, len, "its /density has no real attribute time");
  else if (!why[0]) {
    hid_t a = H5Aopen(d, "time", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_DOUBLE, &t);
    H5Aclose(a);
    if (!(t >= 0)) /* NaN or negative; a steady state's is +inf */
      snprintf(why, len, "its time is %g, not a time >= 0 (or inf: a steady state)", t);
  }
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
}

/* A readable, complete HDF5 file with a /density dataset? HDF5's own error
   printing is silenced for the test (a truncated file fails to open: HDF5
   compares the stored end of file with the real one). Collective. */
static PetscErrorCode ItIOCheckDensityFile(MPI_Comm comm, const char file[]) {
  PetscBool   readable;
  H5E_auto2_t func;
  void       *data;
  int         ok       = 0;
  char        why[256] = "";

  PetscFunctionBegin;
  PetscCall(PetscTestFile(file, 'r', &readable));
  PetscCheck(readable, comm, PETSC_ERR_FILE_OPEN, "cannot read the density file %s", file);
  PetscCheck(
      H5Fis_hdf5(file) > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
      "%s is not an HDF5 file (expected a density snapshot or checkpoint written by infotherm)",
      file);
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  {
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
      hid_t d = H5Dopen2(f, "/density", H5P_DEFAULT);
      ok      = d >= 0;
      if (d >= 0) ItIODensityLayout(d, why, sizeof(why));
      if (d >= 0) H5Dclose(d);
      H5Fclose(f);
    }
  }
  H5Eset_auto2(H5E_DEFAULT, func, data);
  PetscCheck(ok, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s is damaged or incomplete (HDF5 cannot open it, or it has no /density)", file);
  PetscCheck(!why[0], comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s is not a density written by infotherm: %s", file, why);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads a snapshot written by ItIOWriteSnapshot into p, refusing one of another
   grid. Collective. */
PetscErrorCode ItIOReadSnapshot(ItGrid grid, ItModel model, const char file[], Vec p,
                                PetscReal *t) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscViewer       viewer;
  PetscBool         has;
  PetscInt          dim, n;
  PetscReal         lo, hi;
  char              attr[32];

  PetscFunctionBegin;
  PetscCall(ItIOCheckDensityFile(info->comm, file));
  PetscCall(ItIOViewerOpen(info->comm, file, FILE_MODE_READ, &viewer));
  PetscCall(PetscViewerHDF5HasAttribute(viewer, "/density", "dim", &has));
  PetscCheck(has, info->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s is not an infotherm density snapshot (no /density with its grid)", file);
  PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "dim", PETSC_INT, NULL, &dim));
  PetscCheck(dim == info->dim, info->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s holds a %" PetscInt_FMT "-variable density; model %s has %" PetscInt_FMT
             " variables",
             file, dim, ItModelGetTypeName(model), info->dim);
  for (PetscInt i = 0; i < dim; i++) {
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "n%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", attr, PETSC_INT, NULL, &n));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "lo%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", attr, PETSC_REAL, NULL, &lo));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "hi%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", attr, PETSC_REAL, NULL, &hi));
    PetscCheck(
        n == info->n[i] && PetscAbsReal(lo - info->lo[i]) <= 1e-12 * (1 + PetscAbsReal(lo)) &&
            PetscAbsReal(hi - info->hi[i]) <= 1e-12 * (1 + PetscAbsReal(hi)),
        info->comm, PETSC_ERR_FILE_UNEXPECTED,
        "%s was written on another grid (axis %" PetscInt_FMT ": %" PetscInt_FMT
        " cells on [%g, %g]; this run has %" PetscInt_FMT " on [%g, %g])",
        file, i, n, (double)lo, (double)hi, info->n[i], (double)info->lo[i], (double)info->hi[i]);
  }
  PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "time", PETSC_REAL, NULL, t));
  PetscCall(PetscObjectSetName((PetscObject)p, "density"));
  PetscCall(ItIOReadDensity(grid, p, viewer));
  PetscCall(PetscViewerDestroy(&viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The names of the attributes of /options, gathered by H5Aiterate_by_name. */
typedef struct {
  PetscInt n, cap;
  char   **name;
} ItIONames;

static herr_t ItIOAddName(hid_t group, const char name[], const H5A_info_t *info, void *ctx) {
  ItIONames *names = (ItIONames *)ctx;

  (void)group;
  (void)info;
  if (names->n == names->cap) {
    char **grown = (char **)realloc(names->name, sizeof(char *) * (size_t)(2 * names->cap + 16));
    if (!grown) return -1;
    names->name = grown;
    names->cap  = 2 * names->cap + 16;
  }
  names->name[names->n] = strdup(name);
  return names->name[names->n++] ? 0 : -1;
}

/* Whether the command line sets the new name of a stored option: a
   snapshot of an earlier release stores a model parameter under its bare
   name (tau_r), which the model reads as -<model>_<name> (-inference_tau_r);
   the command line's new name wins, as it would over the stored one. */
static PetscErrorCode ItIOGivenAsParameter(PetscViewer viewer, const ItIONames *names,
                                           const char name[], PetscBool *given) {
  char      model[64] = "", key[512];
  PetscBool set;

  PetscFunctionBegin;
  *given = PETSC_FALSE;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-model", model, sizeof(model), &set));
  for (PetscInt k = 0; !set && k < names->n; k++)
    if (!strcmp(names->name[k], "model")) {
      char *value = NULL;
      PetscCall(
          PetscViewerHDF5ReadAttribute(viewer, "/options", "model", PETSC_STRING, NULL, &value));
      PetscCall(PetscStrncpy(model, value, sizeof(model)));
      PetscCall(PetscFree(value));
      set = PETSC_TRUE;
    }
  if (!set || !model[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscSNPrintf(key, sizeof(key), "-%s_%s", model, name));
  PetscCall(PetscOptionsHasName(NULL, NULL, key, given));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sets every option stored in a snapshot's /options (name/value pairs, as
   ItIOWriteOptions wrote them) that the command line did not set, so that
   `analyze` rebuilds the run's model, grid and diagnostics. Collective. */
PetscErrorCode ItIOSnapshotOptions(MPI_Comm comm, const char file[]) {
  PetscViewer viewer;
  hid_t       file_id;
  herr_t      status;
  ItIONames   names = {0};
  PetscBool   has;

  PetscFunctionBegin;
  PetscCall(ItIOCheckDensityFile(comm, file));
  PetscCall(ItIOViewerOpen(comm, file, FILE_MODE_READ, &viewer));
  PetscCall(PetscViewerHDF5HasGroup(viewer, "/options", &has));
  PetscCheck(has, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s has no /options (the run's options as name/value pairs): it was written by an "
             "older infotherm; rerun that run to analyze it",
             file);
  PetscCall(PetscViewerHDF5GetFileId(viewer, &file_id));
  status = H5Aiterate_by_name(file_id, "/options", H5_INDEX_NAME, H5_ITER_INC, NULL, ItIOAddName,
                              &names, H5P_DEFAULT);
  PetscCheck(status >= 0, comm, PETSC_ERR_FILE_READ, "cannot list the options stored in %s", file);
  {
    hid_t group = H5Gopen2(file_id, "/options", H5P_DEFAULT);
    for (PetscInt k = 0; k < names.n; k++)
      PetscCheck(ItIOFixedString(group, names.name[k]), comm, PETSC_ERR_FILE_UNEXPECTED,
                 "%s: the stored option /options/%s is not a fixed-length string (as infotherm "
                 "writes them)",
                 file, names.name[k]);
    H5Gclose(group);
  }
  for (PetscInt k = 0; k < names.n; k++) {
    char                key[512], *value = NULL;
    const ItOptionName *o       = ItOptionsFind(names.name[k], NULL, NULL);
    const PetscBool     skipped = (PetscBool)(o && (o->flags & IT_OPTION_LOCAL));
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", names.name[k]));
    PetscCall(PetscOptionsHasName(NULL, NULL, key, &has));
    if (!o && !has) PetscCall(ItIOGivenAsParameter(viewer, &names, names.name[k], &has));
    if (!skipped && !has) {
      PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/options", names.name[k], PETSC_STRING, NULL,
                                             &value));
      PetscCall(PetscOptionsSetValue(NULL, key, value[0] ? value : NULL));
      PetscCall(PetscFree(value));
    }
    free(names.name[k]);
  }
  free(names.name);
  PetscCall(PetscViewerDestroy(&viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A string attribute of obj (fixed or variable length) into value[len];
   "" when it is missing. */
static void ItIOStringAttribute(hid_t obj, const char name[], char value[], size_t len) {
  hid_t  attr, type;
  size_t size;

  value[0] = 0;
  if (H5Aexists(obj, name) <= 0 || (attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return;
  type = H5Aget_type(attr);
  if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) {
    char *text = NULL;
    if (H5Aread(attr, type, &text) >= 0 && text) snprintf(value, len, "%s", text);
    free(text);
  } else if (H5Tget_class(type) == H5T_STRING && (size = H5Tget_size(type)) < len) {
    if (H5Aread(attr, type, value) < 0) value[0] = 0;
    value[size] = 0;
  } else if (H5Tget_class(type) != H5T_STRING) {
    double number = 0;
    if (H5Aread(attr, H5T_NATIVE_DOUBLE, &number) >= 0) snprintf(value, len, "%.17g", number);
  }
  H5Tclose(type);
  H5Aclose(attr);
}

/* The attribute name of the object path (/density or /options) in both
   files f[] as text, in value[2][len]: "(not set)" when missing, "(set)" for
   a flag. */
static void ItIOAttributePair(const hid_t f[2], const char path[], const char name[],
                              char value[2][8192]) {
  for (int j = 0; j < 2; j++) {
    hid_t object = H5Oopen(f[j], path, H5P_DEFAULT);
    snprintf(value[j], 8192, "(not set)");
    if (object >= 0 && H5Aexists(object, name) > 0) {
      ItIOStringAttribute(object, name, value[j], 8192);
      if (!value[j][0]) snprintf(value[j], 8192, "(set)");
    }
    if (object >= 0) H5Oclose(object);
  }
}

/* The first difference between two snapshots of analyze (grid, model's
   fingerprint, or an option other than those that only steer where and how
   far the run went) in why[]; "" when they come from one run. Rank 0. */
static void ItIOSnapshotDifference(const char first[], const char other[], char why[], size_t len) {
  static const char *const grid[]   = {"model", "fingerprint", "dim", "n0", "lo0", "hi0",
                                       "n1",    "lo1",         "hi1", "n2", "lo2", "hi2"};
  hid_t                    f[2]     = {H5Fopen(first, H5F_ACC_RDONLY, H5P_DEFAULT),
                                       H5Fopen(other, H5F_ACC_RDONLY, H5P_DEFAULT)};
  ItIONames                names[2] = {{0}, {0}};
  char                     value[2][8192];

  why[0] = 0;
  if (f[0] < 0 || f[1] < 0) snprintf(why, len, "cannot open %s", f[0] < 0 ? first : other);
  for (size_t k = 0; k < sizeof(grid) / sizeof(grid[0]) && !why[0]; k++) {
    ItIOAttributePair(f, "/density", grid[k], value);
    if (strcmp(value[0], value[1]))
      snprintf(why, len, "%s (%s: %.200s, not %.200s)",
               k < 2 ? "another model or other model parameters" : "another grid", grid[k],
               value[1], value[0]);
  }
  for (int i = 0; i < 2 && !why[0]; i++)
    if (H5Lexists(f[i], "/options", H5P_DEFAULT) > 0)
      H5Aiterate_by_name(f[i], "/options", H5_INDEX_NAME, H5_ITER_INC, NULL, ItIOAddName, &names[i],
                         H5P_DEFAULT);
  for (int i = 0; i < 2 && !why[0]; i++)
    for (PetscInt k = 0; k < names[i].n && !why[0]; k++) {
      const ItOptionName *o = ItOptionsFind(names[i].name[k], NULL, NULL);
      if (o && (o->flags & IT_OPTION_STEERING)) continue;
      ItIOAttributePair(f, "/options", names[i].name[k], value);
      if (strcmp(value[0], value[1]))
        snprintf(why, len, "other options (-%s %.200s, not %.200s)", names[i].name[k], value[1],
                 value[0]);
    }
  for (int i = 0; i < 2; i++) {
    if (f[i] >= 0) H5Fclose(f[i]);
    for (PetscInt k = 0; k < names[i].n; k++) free(names[i].name[k]);
    free(names[i].name);
  }
}

/* analyze reads snapshots of one run only: refuses other, a snapshot of
   another model, grid or options than first. Collective. */
PetscErrorCode ItIOSnapshotSameRun(MPI_Comm comm, const char first[], const char other[]) {
  PetscMPIInt rank;
  char        why[1024] = "";
  H5E_auto2_t func;
  void       *data;

  PetscFunctionBegin;
  PetscCall(ItIOCheckDensityFile(comm, other));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    ItIOSnapshotDifference(first, other, why, sizeof(why));
    H5Eset_auto2(H5E_DEFAULT, func, data);
  }
  PetscCallMPI(MPI_Bcast(why, sizeof(why), MPI_CHAR, 0, comm));
  PetscCheck(!why[0], comm, PETSC_ERR_FILE_UNEXPECTED,
             "analyze takes the snapshots of one run; %s has %s than %s", other, why, first);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The model that wrote snapshot `file` against this command's: its type
   (always: a -kl_reference of another model is no reference), and with
   `strict` its whole fingerprint (analyze, whose model comes from the
   snapshot's /options: an edited option there would otherwise override what
   the snapshot was computed with). Collective. */
PetscErrorCode ItIOCheckSnapshotModel(ItModel model, const char option[], const char file[],
                                      PetscBool strict) {
  PetscViewer viewer;
  char       *stored_model = NULL, *stored = NULL, *mine;
  json_t     *fingerprint;
  PetscBool   same, has;

  PetscFunctionBegin;
  PetscCall(ItIOViewerOpen(PETSC_COMM_WORLD, file, FILE_MODE_READ, &viewer));
  PetscCall(PetscViewerHDF5HasAttribute(viewer, "/density", "model", &has));
  if (has)
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "model", PETSC_STRING, NULL,
                                           &stored_model));
  PetscCall(PetscViewerHDF5HasAttribute(viewer, "/density", "fingerprint", &has));
  if (has)
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "fingerprint", PETSC_STRING, NULL,
                                           &stored));
  PetscCall(PetscViewerDestroy(&viewer));
  PetscCall(PetscStrcmp(stored_model ? stored_model : "", ItModelGetTypeName(model), &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED,
             "%s %s was written by model %s; this command runs model %s", option, file,
             stored_model ? stored_model : "(none)", ItModelGetTypeName(model));
  if (strict && stored) {
    PetscCall(ItModelGetFingerprint(model, &fingerprint));
    mine = json_dumps(fingerprint, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(fingerprint);
    same = (PetscBool)(mine && !strcmp(mine, stored));
    free(mine);
    PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED,
               "%s: its /options give other model parameters than its fingerprint (%s); restore "
               "/options, or give the parameters on the command line",
               file, stored);
  }
  PetscCall(PetscFree(stored_model));
  PetscCall(PetscFree(stored));
  PetscFunctionReturn(PETSC_SUCCESS);
}
