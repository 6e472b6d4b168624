/* The memory ledger: the bytes of each part of a command's memory (the
   density vectors, the faces, the diagnostics, the assembled matrix, the
   multigrid levels, the time stepper's stage vectors, the Krylov vectors,
   the output buffers), as the modules that allocate them note them from
   their objects' sizes (PETSc's MatGetInfo, vector lengths and counts), and
   the resident memory of the program before any grid exists. summary.json
   reports them beside the measured peak (doc/outputs.md "memory"). Per
   process, not collective: the app sums the ranks. */
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
#include <infotherm/private/gridimpl.h>

static PetscReal ItMemoryHeld[IT_MEMORY_PARTS], ItMemoryPeak[IT_MEMORY_PARTS];

static const char *const ItMemoryNames[IT_MEMORY_PARTS] = {
    "program",          "density_vectors", "faces",          "diagnostics", "matrix",
    "multigrid_levels", "stage_vectors",   "krylov_vectors", "io_buffers"};

const char *ItMemoryPartName(ItMemoryPart part) {
  return ItMemoryNames[part];
}

/* bytes more (or fewer, when negative) of `part` are held now. */
void ItMemoryAdd(ItMemoryPart part, PetscReal bytes) {
  ItMemoryHeld[part] += bytes;
  ItMemoryPeak[part] = PetscMax(ItMemoryPeak[part], ItMemoryHeld[part]);
}

/* `part` holds `bytes` now (a module that knows its whole share). */
void ItMemorySet(ItMemoryPart part, PetscReal bytes) {
  ItMemoryHeld[part] = bytes;
  ItMemoryPeak[part] = PetscMax(ItMemoryPeak[part], bytes);
}

/* The most `part` held at once on this process. */
PetscReal ItMemoryGetPeak(ItMemoryPart part) {
  return ItMemoryPeak[part];
}

/* This process's memory so far: the ledger's parts, each the most it held
   (local[0 .. IT_MEMORY_PARTS - 1]), and the peak resident memory
   (getrusage's ru_maxrss, local[IT_MEMORY_PARTS]). Not collective. */
PetscErrorCode ItMemoryGetLocal(PetscReal local[]) {
  struct rusage usage;

  PetscFunctionBegin;
  PetscCheck(getrusage(RUSAGE_SELF, &usage) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS,
             "getrusage failed");
  local[IT_MEMORY_PARTS] = 1024.0 * (PetscReal)usage.ru_maxrss; /* kilobytes on Linux */
  for (PetscInt k = 0; k < IT_MEMORY_PARTS; k++) local[k] = ItMemoryPeak[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The resident memory of this process now (/proc/self/statm; 0 where there is none). */
PetscReal ItMemoryResident(void) {
  FILE *f    = fopen("/proc/self/statm", "r");
  long  size = 0, resident = 0;

  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  fclose(f);
  return (PetscReal)resident * (PetscReal)sysconf(_SC_PAGESIZE);
}

/* The bytes of an assembled AIJ matrix on this process: MatGetInfo's
   allocated nonzeros (an 8-byte value and a 4-byte column index each, 8 for
   64-bit indices) and its rows (row start, length, allocated length and
   diagonal position: 4 indices per row, twice for a parallel matrix's two
   blocks). */
PetscErrorCode ItMemoryMatrixBytes(Mat A, PetscReal *bytes) {
  MatInfo     info;
  PetscInt    rows, cols;
  PetscMPIInt size;

  PetscBool aij;

  PetscFunctionBegin;
  *bytes = 0;
  if (!A) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectTypeCompareAny((PetscObject)A, &aij, MATSEQAIJ, MATMPIAIJ, ""));
  if (!aij) PetscFunctionReturn(PETSC_SUCCESS); /* a shell (applied matrix-free) holds none */
  PetscCall(MatGetInfo(A, MAT_LOCAL, &info));
  PetscCall(MatGetLocalSize(A, &rows, &cols));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject)A), &size));
  *bytes = info.nz_allocated * (sizeof(PetscScalar) + sizeof(PetscInt)) +
           (PetscReal)rows * 4 * sizeof(PetscInt) * (size > 1 ? 2 : 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}
