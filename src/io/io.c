/* The output directory's object (ItIO) and what every writer of its files
   shares: text files are written by rank 0 to NAME.tmp, flushed and renamed,
   so no reader ever sees half a file; a growing text buffer for them. The
   writers live by format: CSV tables (table.c), JSON (json.c), HDF5 density
   files (hdf5.c, snapshot.c, describe.c), the XDMF index (xdmf.c),
   checkpoints (checkpoint.c), signal handling (signals.c), and the folder's
   files, lock and clean-up (folder.c). */
#include <stdarg.h>
#include <errno.h>
#include <unistd.h>
#include <infotherm/private/ioimpl.h>

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

/* The output folder dir of command (its files: src/io/folder.c); nothing on
   disk until ItIOClaim. Reads -overwrite. Collective. */
PetscErrorCode ItIOCreate(MPI_Comm comm, const char dir[], const ItIOLayout *layout, ItIO *io) {
  ItIO f;

  PetscFunctionBegin;
  PetscCall(PetscNew(&f));
  f->comm = comm;
  PetscCallMPI(MPI_Comm_rank(comm, &f->rank));
  PetscCheck(dir[0], comm, PETSC_ERR_USER_INPUT, "-output_dir is empty; give a folder");
  PetscCall(PetscStrncpy(f->dir, dir, sizeof(f->dir)));
  PetscCall(ItIOSetLayout(f, layout));
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
  if ((*io)->history) /* the checkpoint's refractory history, in the ledger (src/io/checkpoint.c) */
    ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)(*io)->nhistory * sizeof(PetscReal));
  PetscCall(PetscFree((*io)->history));
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

/* How many snapshots the index (density.xmf) lists, which numbers the next
   one. Not collective. */
PetscErrorCode ItIOGetSnapshotCount(ItIO io, PetscInt *nsnap) {
  PetscFunctionBegin;
  *nsnap = io->nsnap;
  PetscFunctionReturn(PETSC_SUCCESS);
}
