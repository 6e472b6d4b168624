/* I/O: the output directory and its files — CSV tables (diagnostics.csv,
   mc.csv), JSON files (summary.json and the others, through jansson), density
   snapshots in HDF5 with an XDMF index — each written under a temporary name
   and renamed, so no reader ever sees half a file. */
#pragma once
#include <jansson.h>
#include <infotherm/grid.h>

typedef struct _p_ItIO *ItIO;

/* A growing text buffer, for CSV, XDMF and plain-text reports. */
typedef struct {
  char  *text;
  size_t len, cap;
} ItBuffer;

/* The files a command writes in the output folder, its layout (each command
   defines its own, src/app/cmd_<name>.c): the logical names the code asks for
   and their names in the folder (actual NULL: the same), the prefix of its
   numbered snapshots (<prefix>NNNN.h5; {NULL}: none), its lock file, and the
   layout whose files it refuses to write beside (guard; NULL: none). A layout
   that holds checkpoint.h5 is one a run can continue (-restart). */
typedef struct {
  const char *logical, *actual;
} ItIOName;
typedef struct ItIOLayout ItIOLayout;
struct ItIOLayout {
  const char       *command, *lock;
  ItIOName          name[8]; /* ended by {NULL} */
  ItIOName          numbered;
  const ItIOLayout *guard;
};

/* Create touches nothing on disk; Claim, before the first write, creates the
   folder, locks it and refuses (or with -overwrite removes) an earlier run's
   files. A file is asked for by its logical name (diagnostics.csv,
   summary.json, density.xmf, density_NNNN.h5, ...), which the command's
   layout maps to its name in the folder (stationary.csv, ...). */
PetscErrorCode ItIOCreate(MPI_Comm comm, const char dir[], const ItIOLayout *layout, ItIO *io);
PetscErrorCode ItIOClaim(ItIO io, const char restart[]);
PetscErrorCode ItIOUnlock(ItIO io);
PetscErrorCode ItIOSetLayout(ItIO io, const ItIOLayout *layout);
PetscErrorCode ItIOFileName(ItIO io, const char logical[], char actual[], size_t len);
PetscErrorCode ItIOFilePath(ItIO io, const char logical[], char path[], size_t len);
PetscErrorCode ItIOViewerOpen(MPI_Comm comm, const char path[], PetscFileMode mode,
                              PetscViewer *viewer);
/* Rank 0's clean-up after an error or a fatal signal: the lock, the
   temporary file being written, the folders made and still empty. Only
   unlink and rmdir (safe in a signal handler). */
void           ItIOAbandon(void);
void           ItIOTmpBegin(const char tmp[]);
void           ItIOTmpEnd(void);
PetscErrorCode ItIODestroy(ItIO *io);
PetscErrorCode ItIOGetSnapshotCount(ItIO io, PetscInt *nsnap);
PetscErrorCode ItIOSetColumns(ItIO io, PetscInt ncol, const char (*names)[64]);
PetscErrorCode ItIOAppendRow(ItIO io, PetscReal t, const PetscReal values[]);
PetscErrorCode ItIOWriteTable(ItIO io);
PetscErrorCode ItIOWriteText(ItIO io, const char name[], const char text[]);
PetscErrorCode ItIOWriteCSV(ItIO io, const char name[], PetscInt ncol, const char *const column[],
                            PetscInt nrow, const PetscReal values[]);
PetscErrorCode ItIOWriteJSON(ItIO io, const char name[], json_t *root);
PetscErrorCode ItIOSummaryCreate(const char command[], ItModel model, json_t **root);
PetscErrorCode ItIOWriteSnapshot(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                                 const char name[]);
PetscErrorCode ItIOReadSnapshot(ItGrid grid, ItModel model, const char file[], Vec p, PetscReal *t);
PetscErrorCode ItIOSnapshotOptions(MPI_Comm comm, const char file[]);
PetscErrorCode ItIOSnapshotSameRun(MPI_Comm comm, const char first[], const char other[]);
PetscErrorCode ItIOWriteCheckpoint(ItIO io, ItGrid grid, ItModel model, Vec p, PetscReal t,
                                   PetscInt nstate, const PetscReal state[], const char physics[]);
PetscErrorCode ItIOReadCheckpoint(ItIO io, ItGrid grid, ItModel model, const char file[], Vec p,
                                  PetscInt nstate, PetscReal state[], const char physics[]);
PetscErrorCode ItIOSetCheckpointHistory(ItIO io, PetscInt n, const PetscReal history[]);
PetscErrorCode ItIOGetCheckpointHistory(ItIO io, PetscInt *n, const PetscReal **history);
PetscErrorCode ItIOSignalsInstall(PetscBool checkpoint);
PetscInt       ItIOSignalsReceived(void);
void           ItIOProtectInput(const char file[]);
PetscErrorCode ItIOCheckSnapshotModel(ItModel model, const char option[], const char file[],
                                      PetscBool strict);
void           ItIOScanOptionsFile(const char file[], char message[], size_t len);
int            ItIOOptionsFileValue(const char file[], const char name[], char value[], size_t len);
PetscErrorCode ItIOCheckUnusedOptions(MPI_Comm comm, const char *const prefixes[], PetscInt n,
                                      const char what[]);
void           ItIOSignalsForwarded(void);

PetscErrorCode ItBufferPrintf(ItBuffer *buf, const char format[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
PetscErrorCode ItBufferFree(ItBuffer *buf);

/* Building JSON values for ItIOWriteJSON; each checks jansson's result. A real
   that is NaN or infinite becomes null. Pack takes json_pack's format ("{s:s,
   s:I, s:o}": strings, json_int_t, stolen json_t); Set and Append steal value,
   Update merges other's keys into object and releases other. */
json_t        *ItJSONReal(PetscReal value);
PetscErrorCode ItJSONRealArray(PetscInt n, const PetscReal values[], json_t **array);
PetscErrorCode ItJSONPack(json_t **value, const char format[], ...);
PetscErrorCode ItJSONSet(json_t *object, const char key[], json_t *value);

/* The version and git commit of the program (src/io/version.c). */
const char    *ItVersion(void);
const char    *ItVersionCommit(void);
PetscErrorCode ItVersionWriteHDF5(PetscViewer viewer);

/* Self-describing density files (src/io/describe.c): coordinate scales,
   "variables" attributes, /marginal of -snapshot_marginal beyond 3 variables. */
PetscErrorCode ItIOMarginalAxes(ItGrid grid, ItModel model, PetscInt *naxes, PetscInt axes[]);
PetscErrorCode ItIODescribeDensity(PetscViewer viewer, ItGrid grid, ItModel model, Vec p);
PetscErrorCode ItJSONAppend(json_t *array, json_t *value);
PetscErrorCode ItJSONUpdate(json_t *object, json_t *other);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItIOFolderOptionNames[];   /* src/io/folder.c */
extern const ItOptionName ItIOSnapshotOptionNames[]; /* src/io/describe.c */
