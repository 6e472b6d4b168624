/* How a process meets Open MPI before MPI starts (doc/performance.md
   "Start-up"). Any process, launched or not, leaves out the mtl components
   whose hardware the node lacks: the PSM and PSM2 libraries (InfiniPath,
   Omni-Path) sleep about 0.1 s each in their constructors, hardware or not.
   A run started without a launcher (no mpiexec, srun, flux...: an Open MPI
   singleton) would moreover have Open MPI start a daemon of its own (orted,
   0.15-0.2 s). A singleton talks to no other process, so ItLaunchPrepare
   asks Open MPI, through its OMPI_MCA_ environment variables, for no daemon
   (ess_singleton_isolated), the ob1 messaging layer over the self transport
   only (pml ob1, btl self), no hwloc plugins (PCI, OpenCL, GL:
   HWLOC_PLUGINS_BLACKLIST), and a session folder of this process's own
   (orte_tmpdir_base): isolated singletons otherwise all use
   <tmp>/ompi.<host>.<uid>/jf.0, and one's clean-up at exit removes it under
   another starting at the same moment. That folder,
   <TMPDIR>/infotherm-ompi.<host>.<pid>.XXXXXX, is removed at exit; one left
   by a process that died without its exit (a kill -9, a crash) is removed
   by the next singleton on the same host that finds its process gone and
   the folder a minute old. A value the user set (an OMPI_MCA_ variable, a
   line of ~/.openmpi/mca-params.conf or of the files
   OMPI_MCA_mca_base_param_files names) is left alone; with an aggregate
   parameter file or a tune file (mpirun -am, --tune, whose settings are not
   read here) nothing at all is set; under a launcher only the mtl
   components are left out. Plain C: this runs before MPI and
   PETSc. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH, FTW_PHYS */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <infotherm/app.h>

#define IT_LAUNCH_PREFIX "infotherm-ompi."
/* seconds after its last change before a dead process's folder is swept:
   Open MPI uses it only while starting and stopping, and a process of
   another PID namespace on the same host (a container) may look dead */
#define IT_LAUNCH_STALE 60.0

/* Environment variables a launcher sets in the processes it starts: Open
   MPI's mpiexec, PMIx (srun --mpi=pmix, prterun), PMI-1/2 (srun
   --mpi=pmi2, MPICH's and Intel's hydra, flux), Slurm's srun, LSF's jsrun,
   Cray's aprun. Any one of them: this process is not a singleton. */
static const char *const ItLaunchLauncherVariables[] = {"OMPI_COMM_WORLD_SIZE",
                                                        "OMPI_COMM_WORLD_RANK",
                                                        "OMPI_MCA_orte_hnp_uri",
                                                        "PMIX_RANK",
                                                        "PMIX_NAMESPACE",
                                                        "PMI_RANK",
                                                        "PMI_SIZE",
                                                        "PMI_FD",
                                                        "PMI_PORT",
                                                        "PMI_ID",
                                                        "SLURM_STEP_ID",
                                                        "SLURM_STEPID",
                                                        "FLUX_TASK_RANK",
                                                        "JSM_NAMESPACE_RANK",
                                                        "ALPS_APP_PE",
                                                        "MPI_LOCALRANKID",
                                                        "HYDI_CONTROL_FD"};

static struct {
  char  folder[4096]; /* this process's session folder base, "" when none */
  pid_t owner;        /* the process that made it (a child's exit leaves it) */
} ItLaunch;

/* Whether a launcher started this process. */
static int ItLaunchLaunched(void) {
  for (size_t k = 0; k < sizeof(ItLaunchLauncherVariables) / sizeof(*ItLaunchLauncherVariables);
       k++)
    if (getenv(ItLaunchLauncherVariables[k])) return 1;
  return 0;
}

/* Whether the MCA parameter file at path sets name ("name = value" lines,
   '#' comments, as Open MPI reads them); its value into value[len]. */
static int ItLaunchFileValue(const char *path, const char *name, char value[], size_t len) {
  FILE  *file = fopen(path, "r");
  char   line[4096];
  size_t n     = strlen(name);
  int    found = 0;

  if (!file) return 0;
  while (fgets(line, sizeof(line), file)) {
    char *s = line, *e;
    while (isspace((unsigned char)*s)) s++;
    if (*s == '#' || strncmp(s, name, n)) continue;
    s += n;
    while (*s == ' ' || *s == '\t') s++;
    if (*s != '=') continue; /* a longer name that starts with this one */
    s++;
    while (isspace((unsigned char)*s)) s++;
    for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--) e[-1] = 0;
    snprintf(value, len, "%s", s); /* the last line wins, as in Open MPI */
    found = 1;
  }
  fclose(file);
  return found;
}

/* The value of name in Open MPI's system-wide parameter file when Open MPI
   reads that file ($OPAL_SYSCONFDIR, else $OPAL_PREFIX/etc, else Debian's
   /etc/openmpi: openmpi-mca-params.conf; not when
   OMPI_MCA_mca_base_param_files names other files). */
static int ItLaunchSystemValue(const char *name, char value[], size_t len) {
  char        path[4096];
  const char *dir = getenv("OPAL_SYSCONFDIR"), *prefix = getenv("OPAL_PREFIX");
  const char *list = getenv("OMPI_MCA_mca_base_param_files");

  if (dir)
    snprintf(path, sizeof(path), "%s/openmpi-mca-params.conf", dir);
  else if (prefix)
    snprintf(path, sizeof(path), "%s/etc/openmpi-mca-params.conf", prefix);
  else
    snprintf(path, sizeof(path), "/etc/openmpi/openmpi-mca-params.conf");
  if (list && !strstr(list, path)) return 0;
  return ItLaunchFileValue(path, name, value, len);
}

/* Whether the user set the MCA parameter name: OMPI_MCA_<name>, or a line
   of the user's own parameter files (OMPI_MCA_mca_base_param_files, a
   comma-separated list, else ~/.openmpi/mca-params.conf); its value into
   value[len]. The system's file (/etc/openmpi/openmpi-mca-params.conf) is
   the installation's default, which a singleton's settings narrow. */
static int ItLaunchUserValue(const char *name, char value[], size_t len) {
  char        variable[256], files[4096];
  const char *list = getenv("OMPI_MCA_mca_base_param_files"), *home = getenv("HOME"), *env;
  int         found = 0;

  snprintf(variable, sizeof(variable), "OMPI_MCA_%s", name);
  if ((env = getenv(variable))) {
    snprintf(value, len, "%s", env);
    return 1;
  }
  if (list)
    snprintf(files, sizeof(files), "%s", list);
  else if (home)
    snprintf(files, sizeof(files), "%s/.openmpi/mca-params.conf", home);
  else
    return 0;
  for (char *path = strtok(files, ","); path; path = strtok(NULL, ","))
    found |= ItLaunchFileValue(path, name, value, len);
  return found;
}

static int ItLaunchUserSet(const char *name) {
  char value[4096];

  return ItLaunchUserValue(name, value, sizeof(value));
}

/* Whether the user set the boolean parameter name to anything but a value
   that plainly turns it on (off, or a value not read here: the user's
   choice, left alone). */
static int ItLaunchUserNotOn(const char *name) {
  char value[64];

  if (!ItLaunchUserValue(name, value, sizeof(value))) return 0;
  return !(!strcasecmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes") ||
           !strcasecmp(value, "t") || !strcasecmp(value, "y") || !strcasecmp(value, "enabled"));
}

/* Whether the user gave Open MPI an aggregate parameter file (mpirun -am:
   OMPI_MCA_mca_base_param_file_prefix) or a tune file (mpirun --tune:
   OMPI_MCA_mca_base_envar_file_prefix), whose settings are not read here:
   then nothing is set. */
static int ItLaunchUserFiles(void) {
  return getenv("OMPI_MCA_mca_base_param_file_prefix") ||
         getenv("OMPI_MCA_mca_base_envar_file_prefix");
}

static int ItLaunchRemoveEntry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  (void)remove(path);
  return 0;
}

/* Removes the folder and all below it, following no symbolic link. */
static void ItLaunchRemoveTree(const char *path) {
  (void)nftw(path, ItLaunchRemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

/* At exit: this process's session folder, if this process made it. */
static void ItLaunchRemove(void) {
  if (ItLaunch.folder[0] && getpid() == ItLaunch.owner) ItLaunchRemoveTree(ItLaunch.folder);
  ItLaunch.folder[0] = 0;
}

/* The session folders in parent that singletons on this host left when they
   died without their exit (their process is gone, the folder unchanged for
   a minute), this user's only. */
static void ItLaunchSweep(const char *parent, const char *host) {
  DIR           *dir = opendir(parent);
  struct dirent *entry;
  char           prefix[512], path[4096];
  size_t         n;

  if (!dir) return;
  n = (size_t)snprintf(prefix, sizeof(prefix), IT_LAUNCH_PREFIX "%s.", host);
  while ((entry = readdir(dir))) {
    struct stat st;
    char       *end;
    long        pid;

    if (strncmp(entry->d_name, prefix, n)) continue;
    pid = strtol(entry->d_name + n, &end, 10);
    if (end == entry->d_name + n || *end != '.' || pid <= 0) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to ask */
    snprintf(path, sizeof(path), "%s/%s", parent, entry->d_name);
    if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) continue;
    if (difftime(time(NULL), st.st_mtime) < IT_LAUNCH_STALE) continue; /* still starting */
    ItLaunchRemoveTree(path);
  }
  closedir(dir);
}

/* A session folder of this process's own, for an isolated singleton: under
   the system file's orte_tmpdir_base if it names one, else $TMPDIR, else
   /tmp. Returns 0 when none could be made (the singleton then keeps its
   daemon). */
static int ItLaunchFolder(void) {
  char        parent[2048], host[256];
  const char *tmp = getenv("TMPDIR");

  if (!ItLaunchSystemValue("orte_tmpdir_base", parent, sizeof(parent)) || !parent[0])
    snprintf(parent, sizeof(parent), "%s", tmp && tmp[0] ? tmp : "/tmp");
  if (gethostname(host, sizeof(host))) snprintf(host, sizeof(host), "localhost");
  host[sizeof(host) - 1] = 0;
  for (char *c = host; *c; c++)
    if (*c == '/' || *c == '.') *c = '_'; /* one path component; '.' separates the fields */
  ItLaunchSweep(parent, host);
  snprintf(ItLaunch.folder, sizeof(ItLaunch.folder), "%s/" IT_LAUNCH_PREFIX "%s.%ld.XXXXXX", parent,
           host, (long)getpid());
  if (!mkdtemp(ItLaunch.folder)) {
    ItLaunch.folder[0] = 0;
    return 0;
  }
  ItLaunch.owner = getpid();
  if (atexit(ItLaunchRemove)) {
    ItLaunchRemove();
    return 0;
  }
  return 1;
}

/* Sets name to value unless the user set it. */
static void ItLaunchSet(const char *name, const char *value) {
  char variable[256];

  if (ItLaunchUserSet(name)) return;
  snprintf(variable, sizeof(variable), "OMPI_MCA_%s", name);
  (void)setenv(variable, value, 0);
}

/* Whether /dev has an entry whose name starts with prefix. */
static int ItLaunchDevice(const char *prefix) {
  DIR           *dir = opendir("/dev");
  struct dirent *entry;
  int            found = 0;

  if (!dir) return 1; /* cannot tell: as if there */
  while (!found && (entry = readdir(dir))) found = !strncmp(entry->d_name, prefix, strlen(prefix));
  closedir(dir);
  return found;
}

/* Any process, launched or not: the mtl components whose hardware this node
   lacks -- psm2 (Omni-Path, /dev/hfi1*) and psm (InfiniPath, /dev/ipath*),
   whose libraries sleep 0.1 s each in their constructors when loaded --
   added to the exclusions Open MPI's system file names ("^ofi" on Debian:
   the value replaces it, so it keeps them). Nothing when the user set mtl,
   or when the system file names the components to use. Either component
   would decline this node anyway, so every rank chooses as before. */
static void ItLaunchExcludeAbsent(void) {
  char   system[1024] = "", value[1200];
  int    psm2 = !ItLaunchDevice("hfi1"), psm = !ItLaunchDevice("ipath");
  size_t n;

  if ((!psm2 && !psm) || ItLaunchUserSet("mtl")) return;
  if (ItLaunchSystemValue("mtl", system, sizeof(system)) && system[0] && system[0] != '^') return;
  n = (size_t)snprintf(value, sizeof(value), "%s", system[0] ? system : "^");
  if (psm2) n += (size_t)snprintf(value + n, sizeof(value) - n, "%spsm2", n > 1 ? "," : "");
  if (psm) (void)snprintf(value + n, sizeof(value) - n, "%spsm", n > 1 ? "," : "");
  (void)setenv("OMPI_MCA_mtl", value, 0);
}

/* Before MPI_Init, not collective: nothing with the user's aggregate or
   tune files; else the mtl components without hardware excluded; for a singleton, Open MPI's
   settings for one process alone (the file's paragraph); under a launcher, nothing more. Returns
   the session folder made ("" when none). */
const char *ItLaunchPrepare(void) {
  if (ItLaunchUserFiles()) return ""; /* Open MPI as the user configured it */
  ItLaunchExcludeAbsent();
  if (ItLaunchLaunched()) return "";
  ItLaunchSet("pml", "ob1");
  ItLaunchSet("btl", "self");
  /* hwloc's plugins find PCI devices, OpenCL and GL (and load libxml2, ICU,
     X11's NV-CONTROL): for Open MPI's placement near a network card, of no use
     to one process over btl self */
  if (!getenv("HWLOC_COMPONENTS"))
    (void)setenv("HWLOC_PLUGINS_BLACKLIST", "hwloc_pci,hwloc_opencl,hwloc_gl,hwloc_xml_libxml", 0);
  /* isolated (unless the user turned it off), in a folder of its own (unless
     the user named one: then it keeps its daemon, whose session folders are
     its own, unless the user asked for isolation too) */
  if (!ItLaunchUserNotOn("ess_singleton_isolated") && !ItLaunchUserSet("orte_tmpdir_base") &&
      ItLaunchFolder()) {
    (void)setenv("OMPI_MCA_orte_tmpdir_base", ItLaunch.folder, 1);
    ItLaunchSet("ess_singleton_isolated", "1");
  }
  return ItLaunch.folder;
}
