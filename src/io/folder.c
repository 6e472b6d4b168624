/* The output folder belongs to one run. Each command writes a fixed set of
   files, its layout (an ItIOLayout, which the command's file defines,
   src/app/cmd_<name>.c): the names the code asks for and the names they get
   in the folder, so that run, stationary, mc and crosscheck share a folder
   without replacing one another's files (spectrum too). Before its first
   write a command claims the folder (ItIOClaim): it creates it, takes a lock
   file (host, pid, Slurm job) that no other run of the same file set may hold,
   and refuses to start while the folder holds the files of an earlier run of
   that set, unless it continues that run (-restart) or is told to replace it
   (-overwrite, which removes exactly those files and nothing else). Rank 0
   does the file-system work and broadcasts the outcome. On an error or a
   fatal signal ItIOAbandon removes the lock, the temporary file being written
   and the folders the run created while still empty. HDF5 files are opened
   through /proc/self/fd/N/NAME when their path is long, which avoids a fixed
   buffer for the file name inside Open MPI's MPI-IO. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <petscviewerhdf5.h>
#include <infotherm/private/ioimpl.h>

static const char *ItIOActual(const ItIOName *name) {
  return name->actual ? name->actual : name->logical;
}

/* Whether the layout writes the file of this logical name. */
static PetscBool ItIOLayoutHas(const ItIOLayout *layout, const char logical[]) {
  for (const ItIOName *n = layout->name; n->logical; n++)
    if (!strcmp(n->logical, logical)) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* What rank 0 must undo on an error or a fatal signal; each path is complete
   before its flag is set, so a signal handler never reads half a path. */
static char                  ItIOLockPath[PETSC_MAX_PATH_LEN], ItIOTmpPath[PETSC_MAX_PATH_LEN + 8];
static char                  ItIOCreated[PETSC_MAX_PATH_LEN]; /* the folder, if this run made it */
static size_t                ItIOCreatedFrom;                 /* the first folder level it made */
static volatile sig_atomic_t ItIOHaveLock, ItIOHaveTmp, ItIOHaveCreated;

void ItIOTmpBegin(const char tmp[]) {
  ItIOHaveTmp = 0;
  snprintf(ItIOTmpPath, sizeof(ItIOTmpPath), "%s", tmp);
  ItIOHaveTmp = 1;
}

void ItIOTmpEnd(void) {
  ItIOHaveTmp = 0;
}

/* Removes the lock, the temporary file in progress and the folders this run
   created if they are still empty. Only unlink and rmdir: safe in a signal
   handler. */
void ItIOAbandon(void) {
  if (ItIOHaveTmp) unlink(ItIOTmpPath);
  ItIOHaveTmp = 0;
  if (ItIOHaveLock) unlink(ItIOLockPath);
  ItIOHaveLock = 0;
  if (ItIOHaveCreated) {
    /* the deepest level first; a folder that holds anything stays */
    for (size_t k = strlen(ItIOCreated); k >= ItIOCreatedFrom && k > 0; k--) {
      if (ItIOCreated[k] != '/' && ItIOCreated[k] != 0) continue;
      ItIOCreated[k] = 0;
      if (rmdir(ItIOCreated) != 0) break;
    }
    ItIOHaveCreated = 0;
  }
}

/* The folder's name in the file for the logical name the code asks for
   (numbered snapshots by their prefix). Not collective. */
PetscErrorCode ItIOFileName(ItIO io, const char logical[], char actual[], size_t len) {
  const ItIOLayout *layout = io->layout;
  const size_t      n      = layout->numbered.logical ? strlen(layout->numbered.logical) : 0;

  PetscFunctionBegin;
  for (const ItIOName *name = layout->name; name->logical; name++)
    if (!strcmp(name->logical, logical)) {
      PetscCall(PetscStrncpy(actual, ItIOActual(name), len));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  PetscCheck(n && !strncmp(logical, layout->numbered.logical, n) && logical[n] >= '0' &&
                 logical[n] <= '9',
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s is not a file that '%s' writes", logical,
             layout->command);
  PetscCall(PetscSNPrintf(actual, len, "%s%s", ItIOActual(&layout->numbered), logical + n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* DIR/name for the logical name. Not collective. */
PetscErrorCode ItIOFilePath(ItIO io, const char logical[], char path[], size_t len) {
  char actual[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(ItIOFileName(io, logical, actual, sizeof(actual)));
  PetscCall(PetscSNPrintf(path, len, "%s/%s", io->dir, actual));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Is entry (a name in the folder, perhaps with .tmp) a file of layout? Its
   snapshot index in *index (-1: not a numbered snapshot). */
static PetscBool ItIOLayoutOwns(const ItIOLayout *layout, const char entry[], long *index) {
  char        name[NAME_MAX + 1];
  size_t      len = strlen(entry);
  const char *prefix;

  *index = -1;
  if (len > NAME_MAX) return PETSC_FALSE;
  memcpy(name, entry, len + 1);
  if (len > 4 && !strcmp(name + len - 4, ".tmp")) name[len -= 4] = 0;
  for (const ItIOName *n = layout->name; n->logical; n++)
    if (!strcmp(ItIOActual(n), name)) return PETSC_TRUE;
  if (!layout->numbered.logical) return PETSC_FALSE;
  prefix = ItIOActual(&layout->numbered);
  if (strncmp(name, prefix, strlen(prefix))) return PETSC_FALSE;
  {
    const char *digits = name + strlen(prefix);
    char       *end;
    if (*digits < '0' || *digits > '9') return PETSC_FALSE;
    *index = strtol(digits, &end, 10);
    return (PetscBool)!strcmp(end, ".h5");
  }
}

/* mkdir -p, remembering the first level this run made. Returns errno. */
static int ItIOMakeFolder(const char dir[]) {
  char        path[PETSC_MAX_PATH_LEN];
  struct stat st;
  int         made = 0;

  snprintf(path, sizeof(path), "%s", dir);
  for (char *s = path + 1;; s++) {
    const char saved = *s;
    if (saved != '/' && saved != 0) continue;
    *s = 0;
    if (mkdir(path, 0777) == 0) {
      if (!made) ItIOCreatedFrom = (size_t)(s - path);
      made = 1;
    } else if (errno != EEXIST)
      return errno;
    *s = saved;
    if (!saved) break;
  }
  if (stat(dir, &st) != 0) return errno;
  if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  if (made) {
    snprintf(ItIOCreated, sizeof(ItIOCreated), "%s", dir);
    ItIOHaveCreated = 1;
  }
  return 0;
}

/* The lock's text: host, pid and Slurm job (a requeued job keeps its id). */
static void ItIOLockText(char text[], size_t len) {
  char        host[256] = "?";
  const char *job       = getenv("SLURM_JOB_ID");

  gethostname(host, sizeof(host) - 1);
  snprintf(text, len, "%s %ld %s\n", host, (long)getpid(), job && job[0] ? job : "-");
}

/* Whether live process pid runs infotherm (its /proc/PID/cmdline names it): a
   pid reused by another program after a crash does not hold the lock.
   Where /proc cannot tell, a live pid is taken to hold it. */
static int ItIOPidIsInfotherm(long pid) {
  char   path[64], cmd[4096];
  FILE  *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
  if (!(f = fopen(path, "r"))) return 1;
  n = fread(cmd, 1, sizeof(cmd) - 1, f);
  fclose(f);
  cmd[n] = 0; /* argv[0] only: the rest is NUL-separated */
  return n == 0 || strstr(cmd, "infotherm") != NULL;
}

/* The lock file at path, when it is no lock of infotherm's (a directory,
   empty or other text): why, in why[] ("" when it is one). */
static void ItIONotALock(const char path[], const char host[], long pid, int fields, char why[],
                         size_t len) {
  struct stat st;

  why[0] = 0;
  (void)host;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    snprintf(why, len, "a directory");
  else if (fields != 3 || pid <= 0)
    snprintf(why, len, "%s",
             fields <= 0 ? "empty or unreadable" : "text that is not host, pid, job");
}

/* Takes DIR/<lock>; a lock of a process gone from this host, or of this very
   Slurm job before a requeue, is taken over with a note. On failure: errno
   (0 with busy[] filled: another run holds it). */
static int ItIOTakeLock(const char path[], char busy[], size_t len, char note[], size_t nlen) {
  char text[512];

  busy[0] = note[0] = 0;
  ItIOLockText(text, sizeof(text));
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const size_t n  = strlen(text);
      int          ok = write(fd, text, n) == (ssize_t)n;
      int          failed;
      snprintf(ItIOLockPath, sizeof(ItIOLockPath), "%s", path);
      ItIOHaveLock = 1;
      failed       = ok ? 0 : (errno ? errno : EIO);
      if (close(fd) != 0 && !failed) failed = errno;
      return failed;
    }
    if (errno != EEXIST) return errno;
    {
      FILE *f         = fopen(path, "r");
      char  host[256] = "", job[64] = "", me[512], myhost[256] = "", myjob[64] = "";
      long  pid = 0, mypid;
      int   stale, fields;
      char  why[64];
      if (!f) return errno;
      fields = fscanf(f, "%255s %ld %63s", host, &pid, job);
      if (fields != 3) host[0] = 0;
      fclose(f);
      ItIONotALock(path, host, pid, fields, why, sizeof(why));
      if (why[0]) { /* '\1': the whole reason, for ItIOClaim's message */
        snprintf(busy, len, "\1%s", why);
        return 0;
      }
      ItIOLockText(me, sizeof(me));
      sscanf(me, "%255s %ld %63s", myhost, &mypid, myjob);
      stale = (!strcmp(host, myhost) && pid > 0 &&
               ((kill((pid_t)pid, 0) != 0 && errno == ESRCH) || !ItIOPidIsInfotherm(pid))) ||
              (strcmp(job, "-") && !strcmp(job, myjob));
      if (!stale || attempt) {
        snprintf(busy, len, "host %s, pid %ld%s%s", host[0] ? host : "?", pid,
                 strcmp(job, "-") && job[0] ? ", Slurm job " : "",
                 strcmp(job, "-") && job[0] ? job : "");
        return 0;
      }
      snprintf(note, nlen, "host %s, pid %ld", host, pid);
      if (unlink(path) != 0 && errno != ENOENT) return errno;
    }
  }
  return EAGAIN;
}

/* The first few files of layout in the folder (names into found), their
   count, and whether the folder also holds files of layout->guard. */
static int ItIOScan(const char dir[], const ItIOLayout *layout, char found[], size_t len,
                    int *guarded) {
  DIR           *d = opendir(dir);
  struct dirent *e;
  int            count = 0;
  long           index;

  found[0] = 0;
  *guarded = 0;
  if (!d) return -errno;
  while ((e = readdir(d))) {
    if (ItIOLayoutOwns(layout, e->d_name, &index)) {
      if (count < 3)
        snprintf(found + strlen(found), len - strlen(found), "%s%s", count ? ", " : "", e->d_name);
      count++;
    } else if (layout->guard && ItIOLayoutOwns(layout->guard, e->d_name, &index))
      *guarded = 1;
  }
  closedir(d);
  return count;
}

/* Removes the layout's files from the folder: all of them (nsnap < 0), or a
   continued run's temporary files and the snapshots numbered nsnap and up
   (written after its checkpoint). Returns errno. */
static int ItIORemove(const char dir[], const ItIOLayout *layout, long nsnap) {
  DIR           *d = opendir(dir);
  struct dirent *e;
  long           index;
  int            failed = 0;

  if (!d) return errno;
  while ((e = readdir(d))) {
    const size_t len = strlen(e->d_name);
    char         path[PETSC_MAX_PATH_LEN];
    if (!ItIOLayoutOwns(layout, e->d_name, &index)) continue;
    /* a continued run keeps its files up to the checkpoint's last snapshot */
    if (nsnap >= 0 && index < nsnap && !(len > 4 && !strcmp(e->d_name + len - 4, ".tmp"))) continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if (unlink(path) != 0 && !failed) failed = errno;
  }
  closedir(d);
  return failed;
}

/* Does -restart's file lie in dir (the run continues there)? */
static PetscBool ItIOSameFolder(const char dir[], const char file[]) {
  char        parent[PETSC_MAX_PATH_LEN], *slash, a[PATH_MAX], b[PATH_MAX];
  const char *d = dir;

  snprintf(parent, sizeof(parent), "%s", file);
  slash = strrchr(parent, '/');
  if (slash) *slash = 0;
  if (!realpath(slash ? (parent[0] ? parent : "/") : ".", a) || !realpath(d, b)) return PETSC_FALSE;
  return (PetscBool)!strcmp(a, b);
}

/* The files this command reads (-init_file, -kl_reference): -overwrite must
   not remove them. */
#define IT_IO_MAX_INPUTS 8
static char ItIOInputs[IT_IO_MAX_INPUTS][PETSC_MAX_PATH_LEN];
static int  ItIONInputs;

void ItIOProtectInput(const char file[]) {
  if (ItIONInputs < IT_IO_MAX_INPUTS)
    snprintf(ItIOInputs[ItIONInputs++], PETSC_MAX_PATH_LEN, "%s", file);
}

/* The first input that -overwrite would remove from dir (a file of layout in
   dir), or NULL. */
static const char *ItIOInputAtRisk(const char dir[], const ItIOLayout *layout) {
  for (int k = 0; k < ItIONInputs; k++) {
    const char *base = strrchr(ItIOInputs[k], '/');
    long        index;
    base = base ? base + 1 : ItIOInputs[k];
    if (ItIOSameFolder(dir, ItIOInputs[k]) && ItIOLayoutOwns(layout, base, &index))
      return ItIOInputs[k];
  }
  return NULL;
}

/* Whether dir holds a checkpoint (only then can -restart auto continue the run). */
static int ItIOHasCheckpoint(const char dir[]) {
  char path[PETSC_MAX_PATH_LEN + 16];

  snprintf(path, sizeof(path), "%s/checkpoint.h5", dir);
  return access(path, R_OK) == 0;
}

/* Claims io's folder before the first write: creates it, takes the lock and
   checks (or, with -overwrite, removes) an earlier run's files. restart: the
   checkpoint this run continues (NULL: a fresh run); when it lies in the
   folder, the folder is the run's own and only the files written after the
   checkpoint (snapshots from io->nsnap on, temporaries) are removed.
   Collective. */
PetscErrorCode ItIOClaim(ItIO io, const char restart[]) {
  const ItIOLayout *layout = io->layout;
  char              path[PETSC_MAX_PATH_LEN], busy[512] = "", note[512] = "", found[512] = "";
  /* errno, the step that failed, the earlier run's files, files of the guard, own folder */
  int         status[5] = {0, 0, 0, 0, 0};
  const char *input     = io->overwrite ? ItIOInputAtRisk(io->dir, layout) : NULL;

  PetscFunctionBegin;
  PetscCheck(!input, io->comm, PETSC_ERR_FILE_OPEN,
             "-overwrite would delete %s, which this command reads (-init_file or "
             "-kl_reference); copy it out of %s or choose another -output_dir",
             input, io->dir);
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/%s", io->dir, layout->lock));
  if (io->rank == 0) {
    if ((status[0] = ItIOMakeFolder(io->dir)))
      status[1] = 1;
    else if ((status[0] = ItIOTakeLock(path, busy, sizeof(busy), note, sizeof(note))) || busy[0])
      status[1] = 2;
    else {
      status[4] = restart && ItIOSameFolder(io->dir, restart);
      status[2] = ItIOScan(io->dir, layout, found, sizeof(found), &status[3]);
      if (status[2] < 0)
        status[0] = -status[2], status[1] = 3;
      else if (status[4]) {
        if ((status[0] = ItIORemove(io->dir, layout, io->nsnap))) status[1] = 4;
      } else if (status[2] > 0 && io->overwrite && !status[3]) {
        if ((status[0] = ItIORemove(io->dir, layout, -1))) status[1] = 4;
        status[2] = 0;
      }
    }
    if (note[0])
      fprintf(stderr, "infotherm: note: took over %s, left by a run that is gone (%s)\n", path,
              note);
  }
  PetscCallMPI(MPI_Bcast(status, 5, MPI_INT, 0, io->comm));
  PetscCallMPI(MPI_Bcast(busy, sizeof(busy), MPI_CHAR, 0, io->comm));
  PetscCallMPI(MPI_Bcast(found, sizeof(found), MPI_CHAR, 0, io->comm));
  PetscCheck(status[1] != 1, io->comm, PETSC_ERR_FILE_OPEN,
             "cannot use %s as the output directory: %s", io->dir,
             status[0] == ENOTDIR ? "it, or a folder above it, is a file" : strerror(status[0]));
  PetscCheck(status[1] != 2 || busy[0], io->comm, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path,
             strerror(status[0]));
  PetscCheck(busy[0] != '\1', io->comm, PETSC_ERR_FILE_OPEN,
             "%s is not a lock of infotherm (%s); if no run uses %s, remove it", path, busy + 1,
             io->dir);
  PetscCheck(
      !busy[0], io->comm, PETSC_ERR_FILE_OPEN,
      "%s is in use by another infotherm %s (%s holds it); wait for that run, choose another "
      "-output_dir, or delete %s if no such run is alive",
      io->dir, layout->command, busy, path);
  PetscCheck(status[1] != 3 && status[1] != 4, io->comm, PETSC_ERR_FILE_WRITE,
             "cannot %s the files in %s: %s", status[1] == 3 ? "list" : "remove", io->dir,
             strerror(status[0]));
  PetscCheck(!status[3], io->comm, PETSC_ERR_FILE_OPEN,
             "%s holds a run's snapshots; '%s' writes its diagnostics.csv and summary.json "
             "elsewhere: give another -output_dir (by default an analysis/ folder beside the "
             "snapshots)",
             io->dir, layout->command);
  PetscCheck(status[2] == 0 || status[4], io->comm, PETSC_ERR_FILE_OPEN,
             "%s holds the outputs of an earlier %s (%s%s): %s-overwrite removes them, or choose "
             "another -output_dir",
             io->dir, layout->command, found, status[2] > 3 ? ", ..." : "",
             !ItIOLayoutHas(layout, "checkpoint.h5") || !ItIOHasCheckpoint(io->dir)
                 ? ""
                 : "-restart auto continues that run, ");
  io->claimed = PETSC_TRUE;
  PetscCall(PetscTime(&io->last_write));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Releases the lock (rank 0). */
PetscErrorCode ItIOUnlock(ItIO io) {
  PetscFunctionBegin;
  if (io->claimed && io->rank == 0 && ItIOHaveLock) {
    ItIOHaveLock = 0;
    PetscCheck(unlink(ItIOLockPath) == 0 || errno == ENOENT, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE,
               "cannot remove %s: %s", ItIOLockPath, strerror(errno));
  }
  ItIOHaveCreated = 0; /* the run is complete: its folder stays */
  io->claimed     = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the output folder's options (src/model/option_names.c). */
const ItOptionName ItIOFolderOptionNames[] = {{"overwrite", IT_OPTION_SWITCH | IT_OPTION_STEERING},
                                              {NULL, 0}};

/* The command's layout (its output files); io->overwrite from -overwrite. */
PetscErrorCode ItIOSetLayout(ItIO io, const ItIOLayout *layout) {
  PetscFunctionBegin;
  io->layout = layout;
  PetscCheck(io->layout, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "this command writes no files (its descriptor has no layout)");
  PetscOptionsBegin(io->comm, NULL, "Output folder", "ItIO");
  PetscCall(PetscOptionsBool("-overwrite",
                             "remove an earlier run's files from -output_dir (only the files this "
                             "command writes) instead of refusing to start",
                             NULL, io->overwrite, &io->overwrite, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PetscViewerHDF5Open, through /proc/self/fd/N/NAME (N: the folder, opened by
   every rank) when the path is long: Open MPI's MPI-IO copies the name into a
   fixed buffer (a path of 225 characters overflowed it). HDF5 keeps its own
   descriptor of the file, so the folder's is closed at once. Collective. */
PetscErrorCode ItIOViewerOpen(MPI_Comm comm, const char path[], PetscFileMode mode,
                              PetscViewer *viewer) {
  char        parent[PETSC_MAX_PATH_LEN], name[PETSC_MAX_PATH_LEN], *slash;
  int         fd = -1, failed = 0, any;
  const char *base;

  PetscFunctionBegin;
  if (strlen(path) < 160) {
    PetscCall(PetscViewerHDF5Open(comm, path, mode, viewer));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscStrncpy(parent, path, sizeof(parent)));
  slash = strrchr(parent, '/');
  if (slash == parent)
    parent[1] = 0;
  else if (slash)
    *slash = 0;
  base = slash ? path + (slash - parent) + 1 : path;
  fd   = open(slash ? parent : ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) failed = errno;
  PetscCallMPI(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm));
  if (any && fd >= 0) close(fd);
  PetscCheck(!any, comm, mode == FILE_MODE_READ ? PETSC_ERR_FILE_OPEN : PETSC_ERR_FILE_WRITE,
             "cannot open the folder of %s: %s", path, strerror(any));
  PetscCall(PetscSNPrintf(name, sizeof(name), "/proc/self/fd/%d/%s", fd, base));
  {
    PetscErrorCode ierr = PetscViewerHDF5Open(comm, name, mode, viewer);
    close(fd);
    PetscCall(ierr);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
