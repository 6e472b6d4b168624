/* The output directory. Text files are written by rank 0 to NAME.tmp, flushed
   and renamed: CSV tables (a header of column names, then one row per output
   time at 17 significant digits, the doubles of the HDF5 and JSON files) and
   JSON through jansson (two-space indent, keys in the order they were added,
   reals at 17 significant digits, null for NaN and infinity). HDF5 snapshots
   are written collectively (PETSc's HDF5 viewer, natural cell ordering,
   dataset /density with the time and the grid as attributes; a grid that
   carries axes as the DMDA's dof writes /density as each rank's hyperslab;
   coordinates, dimension scales and /marginal: src/io/describe.c) to a
   temporary name and renamed by rank 0. Every option of
   the run is stored beside the density as a name/value pair: the group
   /options holds one string attribute per option, named as the option without
   its leading '-', whose value is the option's value ("" for a flag), so
   `analyze` rebuilds the run without re-parsing a command line. The XDMF
   index lets ParaView open the snapshots as a time series on a co-rectilinear
   mesh whose nodes are the cell centres. */
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <petscviewerhdf5.h>
#include <signal.h>
#include <infotherm/io.h>

PetscErrorCode ItBufferPrintf(ItBuffer *buf, const char format[], ...) {
  va_list args;
  int     n;

  PetscFunctionBegin;
  for (;;) {
    size_t room = buf->cap - buf->len;
    va_start(args, format);
    n = vsnprintf(buf->text ? buf->text + buf->len : NULL, room, format, args);
    va_end(args);
    PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "formatting failed");
    if ((size_t)n < room) break;
    buf->cap = PetscMax(2 * buf->cap, buf->len + (size_t)n + 1024);
    PetscCall(PetscRealloc(buf->cap, &buf->text));
  }
  buf->len += (size_t)n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItBufferFree(ItBuffer *buf) {
  PetscFunctionBegin;
  PetscCall(PetscFree(buf->text));
  buf->len = buf->cap = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A real in JSON; null for NaN or infinity, which JSON cannot hold. */
json_t *ItJSONReal(PetscReal value) {
  return PetscIsInfOrNanReal(value) ? json_null() : json_real((double)value);
}

/* Adds value (stolen) to object under key. */
PetscErrorCode ItJSONSet(json_t *object, const char key[], json_t *value) {
  PetscFunctionBegin;
  PetscCheck(value && json_object_set_new(object, key, value) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "cannot add '%s' to a JSON object (not UTF-8, or out of memory)", key);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Appends value (stolen) to array. */
PetscErrorCode ItJSONAppend(json_t *array, json_t *value) {
  PetscFunctionBegin;
  PetscCheck(value && json_array_append_new(array, value) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "cannot append to a JSON array (a string not UTF-8, or out of memory)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A JSON array of n reals. */
PetscErrorCode ItJSONRealArray(PetscInt n, const PetscReal values[], json_t **array) {
  PetscFunctionBegin;
  *array = json_array();
  PetscCheck(*array, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate a JSON array");
  for (PetscInt k = 0; k < n; k++) PetscCall(ItJSONAppend(*array, ItJSONReal(values[k])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* json_pack with its error message: a value built from a format such as
   "{s:s, s:I, s:o}" (keys in the order given; "o" steals a json_t). */
PetscErrorCode ItJSONPack(json_t **value, const char format[], ...) {
  json_error_t error;
  va_list      args;

  PetscFunctionBegin;
  va_start(args, format);
  *value = json_vpack_ex(&error, 0, format, args);
  va_end(args);
  PetscCheck(*value, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot build JSON from \"%s\": %s", format,
             error.text);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The head of every summary file (summary.json, mc_summary.json): the
   command, the program's version and commit, then the model's fingerprint (model, variables,
   parity, the parameters' base values, schedules and what the model adds); the caller adds its own
   keys after them. */
PetscErrorCode ItIOSummaryCreate(const char command[], ItModel model, json_t **root) {
  json_t *fingerprint;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(root, "{s:s}", "command", command));
  PetscCall(ItVersionAddJSON(*root));
  PetscCall(ItModelGetFingerprint(model, &fingerprint));
  PetscCall(ItJSONUpdate(*root, fingerprint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds every key of other to object, after its own, and releases other. */
PetscErrorCode ItJSONUpdate(json_t *object, json_t *other) {
  int status;

  PetscFunctionBegin;
  status = json_object_update(object, other);
  json_decref(other);
  PetscCheck(status == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot merge two JSON objects");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The output folder dir of command (its files: src/io/folder.c); nothing on
   disk until ItIOClaim. Reads -overwrite. Collective. */
PetscErrorCode ItIOCreate(MPI_Comm comm, const char dir[], const char command[], ItIO *io) {
  ItIO f;

  PetscFunctionBegin;
  PetscCall(PetscNew(&f));
  f->comm = comm;
  PetscCallMPI(MPI_Comm_rank(comm, &f->rank));
  PetscCheck(dir[0], comm, PETSC_ERR_USER_INPUT, "-output_dir is empty; give a folder");
  PetscCall(PetscStrncpy(f->dir, dir, sizeof(f->dir)));
  PetscCall(ItIOSetLayout(f, command));
  *io = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItIODestroy(ItIO *io) {
  PetscFunctionBegin;
  if (!*io) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItIOUnlock(*io));
  PetscCall(PetscFree((*io)->column));
  PetscCall(PetscFree((*io)->row));
  PetscCall(PetscFree((*io)->snap_file));
  PetscCall(PetscFree((*io)->snap_t));
  PetscCall(PetscFree(*io));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Writes text to DIR/name atomically (rank 0). Collective. */
PetscErrorCode ItIOWriteText(ItIO io, const char name[], const char text[]) {
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  int  failed = 0;

  PetscFunctionBegin;
  PetscCheck(io->claimed, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s written before ItIOClaim", name);
  PetscCall(ItIOFilePath(io, name, path, sizeof(path)));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  if (io->rank == 0) {
    FILE  *fd;
    size_t len = strlen(text);
    ItIOTmpBegin(tmp);
    fd = fopen(tmp, "w");
    if (!fd)
      failed = errno;
    else {
      if (fwrite(text, 1, len, fd) != len || fflush(fd) != 0 || fsync(fileno(fd)) != 0)
        failed = errno ? errno : EIO;
      if (fclose(fd) != 0 && !failed) failed = errno;
      if (!failed && rename(tmp, path) != 0) failed = errno;
      if (failed) unlink(tmp);
    }
    ItIOTmpEnd();
  }
  PetscCallMPI(MPI_Bcast(&failed, 1, MPI_INT, 0, io->comm));
  PetscCheck(!failed, io->comm, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path,
             strerror(failed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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

/* DIR/name as JSON (rank 0's root): two-space indent, keys in the order they
   were added, reals at 17 significant digits. The caller keeps root. Collective. */
PetscErrorCode ItIOWriteJSON(ItIO io, const char name[], json_t *root) {
  const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17);
  ItBuffer     buf   = {0};
  int          ok    = 1;

  PetscFunctionBegin;
  PetscCall(ItVersionAddJSON(root));
  if (io->rank == 0) {
    char *text = json_dumps(root, flags);
    ok         = text != NULL;
    if (ok) PetscCall(ItBufferPrintf(&buf, "%s\n", text));
    free(text);
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, io->comm));
  PetscCheck(ok, io->comm, PETSC_ERR_LIB, "cannot format %s/%s as JSON", io->dir, name);
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

/* The XDMF grid of one snapshot file: a co-rectilinear mesh over the axes
   (X the first), and the attribute name over dataset. */
static PetscErrorCode ItIOXDMFGrid(ItBuffer *buf, ItGrid grid, PetscInt naxes,
                                   const PetscInt axes[], const char dims[]) {
  PetscReal origin[3], h[3];

  PetscFunctionBegin;
  for (PetscInt j = 0; j < 3; j++) {
    origin[j] = j < naxes ? ItGridCoordinate(grid, axes[j], 0) : 0.5;
    h[j]      = j < naxes ? grid->h[axes[j]] : 1;
  }
  PetscCall(ItBufferPrintf(buf, "    <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"%s\"/>\n",
                           dims));
  /* ParaView reads an XML DataItem without Precision="8" as 32-bit floats */
  PetscCall(ItBufferPrintf(buf,
                           "    <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n     <DataItem "
                           "Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" "
                           "Format=\"XML\">%.17g %.17g %.17g</DataItem>\n",
                           (double)origin[2], (double)origin[1], (double)origin[0]));
  PetscCall(ItBufferPrintf(buf,
                           "     <DataItem Dimensions=\"3\" NumberType=\"Float\" "
                           "Precision=\"8\" Format=\"XML\">%.17g %.17g "
                           "%.17g</DataItem>\n    </Geometry>\n",
                           (double)h[2], (double)h[1], (double)h[0]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItIOXDMFAttribute(ItBuffer *buf, const char name[], const char dims[],
                                        const char file[], const char dataset[]) {
  PetscFunctionBegin;
  PetscCall(
      ItBufferPrintf(buf,
                     "    <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Node\">\n     "
                     "<DataItem Dimensions=\"%s\" NumberType=\"Float\" Precision=\"8\" "
                     "Format=\"HDF\">%s:/%s</DataItem>\n    </Attribute>\n",
                     name, dims, file, dataset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* density.xmf: every snapshot written so far, as a temporal collection; the
   eigenvectors of spectrum (eigenvector_K.h5) as one grid with an attribute
   eigenvector_K per file (they are not a time series). Up to three variables
   the density itself; beyond, the marginal of the -snapshot_marginal
   variables (ParaView draws 3-D at most). The attribute's name says which
   variable lies along X, Y and Z. */
static PetscErrorCode ItIOWriteXDMF(ItIO io, ItGrid grid, ItModel model) {
  ItBuffer    buf = {0};
  char        dims[64], name[3 * IT_NAME_LEN + 64] = "";
  PetscInt    axes[3], naxes                       = 0, n[3];
  const char *dataset = grid->dim <= 3 ? "density" : "marginal";
  PetscBool spectrum = (PetscBool)(io->nsnap > 0 && !strncmp(io->snap_file[0], "eigenvector_", 12));

  PetscFunctionBegin;
  if (grid->dim <= 3)
    for (naxes = 0; naxes < grid->dim; naxes++) axes[naxes] = naxes;
  else
    PetscCall(ItIOMarginalAxes(grid, model, &naxes, axes));
  for (PetscInt j = 0; j < 3; j++) n[j] = j < naxes ? grid->n[axes[j]] : 1;
  /* XDMF lists the slowest axis first; a 1-D or 2-D grid is a 3-D mesh one cell thick */
  PetscCall(PetscSNPrintf(dims, sizeof(dims), "%" PetscInt_FMT " %" PetscInt_FMT " %" PetscInt_FMT,
                          n[2], n[1], n[0]));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s (", dataset));
  for (PetscInt j = 0; j < naxes; j++) {
    char axis[IT_NAME_LEN + 8];
    PetscCall(PetscSNPrintf(axis, sizeof(axis), "%s%c=%s", j ? ", " : "", "XYZ"[j],
                            ItModelGetVariableName(model, axes[j])));
    PetscCall(PetscStrlcat(name, axis, sizeof(name)));
  }
  PetscCall(PetscStrlcat(name, ")", sizeof(name)));
  if (io->rank == 0 && spectrum) {
    PetscCall(ItBufferPrintf(&buf, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"2.0\">\n <Domain>\n  "
                                   "<Grid Name=\"eigenvectors\" GridType=\"Uniform\">\n"));
    PetscCall(ItIOXDMFGrid(&buf, grid, naxes, axes, dims));
    for (PetscInt s = 0; s < io->nsnap; s++) {
      char attr[64 + sizeof(name)], *dot;
      PetscCall(PetscStrncpy(attr, io->snap_file[s], sizeof(attr)));
      PetscCall(PetscStrrchr(attr, '.', &dot));
      if (dot != attr) dot[-1] = 0; /* eigenvector_K */
      PetscCall(PetscStrlcat(attr, name + strlen(dataset), sizeof(attr)));
      PetscCall(ItIOXDMFAttribute(&buf, attr, dims, io->snap_file[s], dataset));
    }
    PetscCall(ItBufferPrintf(&buf, "  </Grid>\n </Domain>\n</Xdmf>\n"));
  } else if (io->rank == 0) {
    PetscCall(ItBufferPrintf(
        &buf, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"2.0\">\n <Domain>\n  <Grid "
              "Name=\"density\" GridType=\"Collection\" CollectionType=\"Temporal\">\n"));
    for (PetscInt s = 0; s < io->nsnap; s++) {
      /* the stationary density (t = inf) is listed at t = 0: ParaView needs a finite time */
      PetscCall(ItBufferPrintf(
          &buf, "   <Grid Name=\"%s\" GridType=\"Uniform\">\n    <Time Value=\"%.17g\"/>\n",
          io->snap_file[s], PetscIsInfOrNanReal(io->snap_t[s]) ? 0.0 : (double)io->snap_t[s]));
      PetscCall(ItIOXDMFGrid(&buf, grid, naxes, axes, dims));
      PetscCall(ItIOXDMFAttribute(&buf, name, dims, io->snap_file[s], dataset));
      PetscCall(ItBufferPrintf(&buf, "   </Grid>\n"));
    }
    PetscCall(ItBufferPrintf(&buf, "  </Grid>\n </Domain>\n</Xdmf>\n"));
  }
  PetscCall(ItIOWriteText(io, "density.xmf", buf.text ? buf.text : ""));
  PetscCall(ItBufferFree(&buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  PetscBool natural = (PetscBool)(grid->dof == 1 && grid->ndist == grid->dim);

  for (PetscInt j = 0; j < grid->ndist; j++) natural = (PetscBool)(natural && grid->dist[j] == j);
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
  slab->rank = 0;
  slab->size = 1;
  for (PetscInt a = IT_MAX_DIM - 1; a >= 0; a--) {
    const PetscBool in = (PetscBool)(a < grid->dim && mask[a]);
    slab->xs[a]        = in ? grid->xs[a] : 0;
    slab->xm[a]        = in ? grid->xm[a] : 1;
    slab->size *= slab->xm[a];
    if (!in) continue;
    slab->dims[slab->rank]  = (hsize_t)grid->n[a];
    slab->start[slab->rank] = (hsize_t)grid->xs[a];
    slab->count[slab->rank] = (hsize_t)grid->xm[a];
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
  PetscCall(VecGetArrayRead(p, &pa));
  ItGridForOwned(grid, c, l) buf[ItIOSlabOffset(&slab, c)] = PetscRealPart(pa[l]);
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItIOSlabTransfer(viewer, "/density", &slab, PETSC_TRUE, buf));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads /density (natural order) into p. Collective. */
static PetscErrorCode ItIOReadDensity(ItGrid grid, Vec p, PetscViewer viewer) {
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
static PetscErrorCode ItIODensityOpen(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                                      const char tmp[], PetscViewer *viewer) {
  char     attr[32], *text;
  PetscInt dim = grid->dim;
  json_t  *fingerprint;

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
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", attr, PETSC_INT, &grid->n[i]));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "lo%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", attr, PETSC_REAL, &grid->lo[i]));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "hi%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5WriteAttribute(*viewer, "/density", attr, PETSC_REAL, &grid->hi[i]));
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
static PetscErrorCode ItIOWriteBegin(ItIO io, const char tmp[], const char path[], double bytes) {
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
static double ItIODensityBytes(Vec p, PetscInt n) {
  PetscInt size = 0;

  VecGetSize(p, &size);
  return 8.0 * ((double)size + (double)n) + 65536.0;
}

/* Closes the file (flushing it) and renames tmp to path on rank 0, if the
   writing (ierr: this rank's result) went well on every rank; otherwise
   removes tmp and names the file and the reason (a full disk, ...). Collective. */
static PetscErrorCode ItIOCommit(ItIO io, PetscErrorCode ierr, PetscViewer *viewer,
                                 const char tmp[], const char path[]) {
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

/* Reads the dataset /name (n values) onto every rank. Collective. */
static PetscErrorCode ItIOReadArray(ItIO io, PetscViewer viewer, const char name[], PetscInt n,
                                    PetscReal values[]) {
  Vec                v, all;
  VecScatter         scatter;
  const PetscScalar *va;
  PetscInt           size;

  PetscFunctionBegin;
  PetscCall(VecCreate(io->comm, &v));
  PetscCall(PetscObjectSetName((PetscObject)v, name));
  PetscCall(VecLoad(v, viewer));
  PetscCall(VecGetSize(v, &size));
  PetscCheck(size == n, io->comm, PETSC_ERR_FILE_UNEXPECTED,
             "the checkpoint's /%s holds %" PetscInt_FMT " values, expected %" PetscInt_FMT, name,
             size, n);
  PetscCall(VecScatterCreateToAll(v, &scatter, &all));
  PetscCall(VecScatterBegin(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(all, &va));
  for (PetscInt k = 0; k < n; k++) values[k] = PetscRealPart(va[k]);
  PetscCall(VecRestoreArrayRead(all, &va));
  PetscCall(VecScatterDestroy(&scatter));
  PetscCall(VecDestroy(&all));
  PetscCall(VecDestroy(&v));
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
  for (PetscInt k = 0; k < nsnap; k++) {
    char name[64];
    PetscCall(PetscSNPrintf(name, sizeof(name), "density_%04" PetscInt_FMT ".h5", k));
    PetscCall(ItIOFileName(io, name, io->snap_file[k], sizeof(io->snap_file[0])));
  }
  PetscCall(PetscViewerDestroy(&viewer));
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
  PetscViewer viewer;
  PetscBool   has;
  PetscInt    dim, n;
  PetscReal   lo, hi;
  char        attr[32];

  PetscFunctionBegin;
  PetscCall(ItIOCheckDensityFile(grid->comm, file));
  PetscCall(ItIOViewerOpen(grid->comm, file, FILE_MODE_READ, &viewer));
  PetscCall(PetscViewerHDF5HasAttribute(viewer, "/density", "dim", &has));
  PetscCheck(has, grid->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s is not an infotherm density snapshot (no /density with its grid)", file);
  PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", "dim", PETSC_INT, NULL, &dim));
  PetscCheck(dim == grid->dim, grid->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s holds a %" PetscInt_FMT "-variable density; model %s has %" PetscInt_FMT
             " variables",
             file, dim, ItModelGetTypeName(model), grid->dim);
  for (PetscInt i = 0; i < dim; i++) {
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "n%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", attr, PETSC_INT, NULL, &n));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "lo%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", attr, PETSC_REAL, NULL, &lo));
    PetscCall(PetscSNPrintf(attr, sizeof(attr), "hi%" PetscInt_FMT, i));
    PetscCall(PetscViewerHDF5ReadAttribute(viewer, "/density", attr, PETSC_REAL, NULL, &hi));
    PetscCheck(
        n == grid->n[i] && PetscAbsReal(lo - grid->lo[i]) <= 1e-12 * (1 + PetscAbsReal(lo)) &&
            PetscAbsReal(hi - grid->hi[i]) <= 1e-12 * (1 + PetscAbsReal(hi)),
        grid->comm, PETSC_ERR_FILE_UNEXPECTED,
        "%s was written on another grid (axis %" PetscInt_FMT ": %" PetscInt_FMT
        " cells on [%g, %g]; this run has %" PetscInt_FMT " on [%g, %g])",
        file, i, n, (double)lo, (double)hi, grid->n[i], (double)grid->lo[i], (double)grid->hi[i]);
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

/* Sets every option stored in a snapshot's /options (name/value pairs, as
   ItIOWriteOptions wrote them) that the command line did not set, so that
   `analyze` rebuilds the run's model, grid and diagnostics. Collective. */
PetscErrorCode ItIOSnapshotOptions(MPI_Comm comm, const char file[]) {
  PetscViewer viewer;
  hid_t       file_id;
  herr_t      status;
  ItIONames   names = {0};
  PetscBool   has;
  /* where and how the original run wrote is not part of its physics */
  const char *const skip[] = {"output_dir", "log_view",  "options_left", "help",
                              "init",       "init_file", "quiet"};

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
    char      key[512], *value = NULL;
    PetscBool skipped = PETSC_FALSE;
    for (size_t s = 0; s < sizeof(skip) / sizeof(skip[0]) && !skipped; s++)
      PetscCall(PetscStrcasecmp(names.name[k], skip[s], &skipped));
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", names.name[k]));
    PetscCall(PetscOptionsHasName(NULL, NULL, key, &has));
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
  static const char *const steering[] = {"output_dir",
                                         "log_view",
                                         "options_left",
                                         "help",
                                         "quiet",
                                         "restart",
                                         "ts_max_steps",
                                         "t_final",
                                         "checkpoint_every",
                                         "checkpoint_wall",
                                         "overwrite"};
  static const char *const grid[]     = {"model", "fingerprint", "dim", "n0", "lo0", "hi0",
                                         "n1",    "lo1",         "hi1", "n2", "lo2", "hi2"};
  hid_t                    f[2]       = {H5Fopen(first, H5F_ACC_RDONLY, H5P_DEFAULT),
                                         H5Fopen(other, H5F_ACC_RDONLY, H5P_DEFAULT)};
  ItIONames                names[2]   = {{0}, {0}};
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
      size_t s = 0;
      while (s < sizeof(steering) / sizeof(steering[0]) && strcmp(names[i].name[k], steering[s]))
        s++;
      if (s < sizeof(steering) / sizeof(steering[0])) continue;
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

/* SIGUSR1 and SIGTERM (what Slurm sends before a time limit and on
   pre-emption). For a command that checkpoints (run) they only count: the
   time loop polls the count after each step (and before the first),
   finishes the step, writes a checkpoint and exits. A second signal while the
   checkpoint is written changes nothing but the count. Any other command
   removes its lock and the temporary file in progress and dies of the
   signal. Installed right after PetscInitialize, before anything slow. */
static volatile sig_atomic_t ItSignalCount = 0;

static void ItIOSignalHandler(int sig) {
  (void)sig;
  ItSignalCount++;
}

static void ItIOSignalFatal(int sig) {
  ItIOAbandon();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* No PETSc calls: main installs the handlers before PetscInitialize (which
   may take a while under MPI) and again after it (PETSc installs its own). */
PetscErrorCode ItIOSignalsInstall(PetscBool checkpoint) {
  struct sigaction action;

  memset(&action, 0, sizeof(action));
  action.sa_handler = checkpoint ? ItIOSignalHandler : ItIOSignalFatal;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGUSR1, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0)
    return PETSC_ERR_SYS;
  return PETSC_SUCCESS;
}

PetscInt ItIOSignalsReceived(void) {
  return (PetscInt)ItSignalCount;
}

/* Counts a signal that another rank received (a post rank's, forwarded). */
void ItIOSignalsForwarded(void) {
  ItSignalCount++;
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
