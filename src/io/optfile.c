/* Options checked against what PETSc's objects read: after the time stepper
   or the stationary solver has read its options, any option of its families
   (-ts_*, -ksp_*, -pc_*, -snes_*; -stationary_ksp_*, -stationary_pc_*) that
   PETSc left unused is a misspelling (-ts_rtoll, -ksp_rtl) that would
   otherwise run with the default, and stops the command with one line
   (PETSc's own list of options left unused; -options_left no lets the run go
   on, as for infotherm's options). Names that PETSc reads only when a solve
   ends or is viewed (-*_view*, -*_monitor*, -*_converged_reason) are left to
   PETSc. */
#include <strings.h>
#include <infotherm/io.h>

/* Whether PETSc reads option `name` only after a solve (viewers, monitors, reports). */
static PetscBool ItIOReadLate(const char name[]) {
  return (PetscBool)(strstr(name, "view") || strstr(name, "monitor") ||
                     strstr(name, "converged_reason") || strstr(name, "_log") ||
                     strstr(name, "mg_levels_") || strstr(name, "mg_coarse_"));
}

/* Stops at an option that starts with one of the n prefixes (without '-')
   and that PETSc has left unused; `what` names the object that has read its
   options. Collective on comm: every rank holds the same options. */
PetscErrorCode ItIOCheckUnusedOptions(MPI_Comm comm, const char *const prefixes[], PetscInt n,
                                      const char what[]) {
  PetscInt  nleft;
  char    **names, **values, bad[256] = "";
  PetscBool help, left = PETSC_TRUE, set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &set));
  if (help || (set && !left)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscOptionsLeftGet(NULL, &nleft, &names, &values));
  for (PetscInt k = 0; k < nleft && !bad[0]; k++)
    for (PetscInt j = 0; j < n && !bad[0]; j++)
      if (!strncasecmp(names[k], prefixes[j], strlen(prefixes[j])) && !ItIOReadLate(names[k]))
        PetscCall(PetscStrncpy(bad, names[k], sizeof(bad)));
  PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
  PetscCheck(!bad[0], comm, PETSC_ERR_USER_INPUT,
             "nothing reads -%s: %s has read its options and left it unused (a misspelling? "
             "-help lists what it reads); -options_left no lets a run go on with options that "
             "nothing reads",
             bad, what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- options files, scanned before PETSc reads them ----
   PETSc's reader follows -options_file lines inside a file without end (a
   file that includes itself, directly, mutually or through a symlink,
   crashed it), reads /dev/zero until memory runs out, stops with a trace at
   two options on a line, and drops the rest of a line after a NUL byte. The
   scan below runs on every rank before PetscInitialize (plain C: PETSc is not
   started) and returns the first fault as one sentence naming the file and
   line. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define IT_OPTFILE_MAX_BYTES (1 << 20) /* an options file is a few hundred lines */
#define IT_OPTFILE_MAX_DEPTH 16        /* files that include files */

/* Whether arg is an option name to PETSc ('-' or "--" and a letter, not a number). */
static int ItOptFileLooksLikeOption(const char *arg) {
  char *end;

  if (arg[0] != '-') return 0;
  if (arg[1] == '-') arg++;
  if (!((arg[1] >= 'a' && arg[1] <= 'z') || (arg[1] >= 'A' && arg[1] <= 'Z'))) return 0;
  (void)strtod(arg, &end);
  return end == arg || *end == '_' || (*end >= 'a' && *end <= 'z') ||
         (*end >= 'A' && *end <= 'Z') || (*end >= '0' && *end <= '9');
}

/* Splits line into at most 3 tokens (double quotes group), as PETSc's reader does. */
static int ItOptFileTokens(char *line, char *tok[3]) {
  int n = 0;

  while (*line && n < 3) {
    line += strspn(line, " \t\r\n");
    if (!*line) break;
    if (*line == '"') {
      tok[n++] = ++line;
      line += strcspn(line, "\"");
    } else {
      tok[n++] = line;
      line += strcspn(line, " \t\r\n");
    }
    if (*line) *line++ = 0;
  }
  return n;
}

/* The file's bytes (NUL-terminated) in *text, or a sentence in message. */
static int ItOptFileLoad(const char file[], char **text, size_t *len, char message[], size_t mlen) {
  struct stat st;
  FILE       *f;

  *text = NULL;
  if (stat(file, &st) != 0) {
    snprintf(message, mlen, "cannot read the options file %s (%s)", file, strerror(errno));
    return 1;
  }
  if (S_ISDIR(st.st_mode)) {
    snprintf(message, mlen, "the options file %s is a directory; name a file", file);
    return 1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(message, mlen, "the options file %s is not a regular file (a device or a pipe)", file);
    return 1;
  }
  if (st.st_size > IT_OPTFILE_MAX_BYTES) {
    snprintf(message, mlen,
             "the options file %s has %lld bytes, more than %d: is it an options "
             "file?",
             file, (long long)st.st_size, IT_OPTFILE_MAX_BYTES);
    return 1;
  }
  if (!(f = fopen(file, "rb"))) {
    snprintf(message, mlen, "cannot read the options file %s (%s)", file, strerror(errno));
    return 1;
  }
  *text = (char *)malloc((size_t)st.st_size + 1);
  *len  = *text ? fread(*text, 1, (size_t)st.st_size, f) : 0;
  fclose(f);
  if (!*text) {
    snprintf(message, mlen, "out of memory reading the options file %s", file);
    return 1;
  }
  (*text)[*len] = 0;
  return 0;
}

/* Bytes an options file must not hold: a byte-order mark, NUL, other
   control characters than tab and line ends. */
static int ItOptFileBytes(const char file[], const char *text, size_t len, char message[],
                          size_t mlen) {
  int line = 1;

  if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
    snprintf(message, mlen,
             "the options file %s starts with a byte-order mark; save it as plain "
             "text (UTF-8 without BOM)",
             file);
    return 1;
  }
  for (size_t k = 0; k < len; k++) {
    const unsigned char c = (unsigned char)text[k];
    if (c == '\n') line++;
    if (c == 0 || (c < 32 && c != '\t' && c != '\n' && c != '\r') || c == 127) {
      snprintf(message, mlen,
               "the options file %s line %d holds a %s byte (binary content?); an "
               "options file is plain text",
               file, line, c ? "control" : "NUL");
      return 1;
    }
  }
  return 0;
}

/* Scans file and the files it includes; chain[0 .. depth) are the real
   paths of the files that include it. */
static int ItOptFileScanDepth(const char file[], char chain[][PATH_MAX], int depth, char message[],
                              size_t mlen) {
  char  *text, *save = NULL, *line, real[PATH_MAX];
  size_t len;
  int    n = 0, bad = 0;

  if (ItOptFileLoad(file, &text, &len, message, mlen)) return 1;
  if (ItOptFileBytes(file, text, len, message, mlen)) {
    free(text);
    return 1;
  }
  if (!realpath(file, real)) snprintf(real, sizeof(real), "%s", file);
  for (int k = 0; k < depth; k++)
    if (!strcmp(chain[k], real)) {
      snprintf(message, mlen,
               "the options file %s includes itself: -options_file %s (%s) is "
               "already being read; remove the -options_file line that closes the loop",
               chain[0], file, real);
      free(text);
      return 1;
    }
  if (depth >= IT_OPTFILE_MAX_DEPTH) {
    snprintf(message, mlen, "the options file %s includes files %d deep; at most %d", chain[0],
             depth, IT_OPTFILE_MAX_DEPTH);
    free(text);
    return 1;
  }
  snprintf(chain[depth], PATH_MAX, "%s", real);
  for (line = strtok_r(text, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
    char *tok[3] = {NULL, NULL, NULL}, *hash = strchr(line, '#');
    int   ntok;
    n++;
    if (hash) *hash = 0;
    ntok = ItOptFileTokens(line, tok);
    if (!ntok || !strcmp(tok[0], "alias")) continue;
    if (!ItOptFileLooksLikeOption(tok[0]))
      bad = snprintf(message, mlen,
                     "%s line %d: '%s' is not an option (a value on a line of its "
                     "own? write it after its option, on the option's line)",
                     file, n, tok[0]);
    else if (ntok > 2)
      bad = snprintf(message, mlen,
                     "%s line %d holds more than an option and its value (%s %s "
                     "%s...); one option per line, and a value with spaces in double quotes",
                     file, n, tok[0], tok[1], tok[2]);
    else if (ntok == 2 && ItOptFileLooksLikeOption(tok[1]) && strcmp(tok[0], "-options_file"))
      bad = snprintf(message, mlen,
                     "%s line %d: the value of %s starts with '-' and a letter, "
                     "which PETSc reads as another option; wrap a formula in parentheses, e.g. "
                     "%s \"(-v + 0.3)\"",
                     file, n, tok[0], tok[0]);
    else if (!strcmp(tok[0], "-options_file")) {
      if (ntok < 2)
        bad = snprintf(message, mlen, "%s line %d: -options_file without a file name", file, n);
      else
        bad = ItOptFileScanDepth(tok[1], chain, depth + 1, message, mlen);
    }
  }
  free(text);
  return bad != 0;
}

/* The first fault of the options file `file` (and of the files it
   includes) as a sentence in message, or message[0] = 0. No PETSc calls. */
void ItIOScanOptionsFile(const char file[], char message[], size_t len) {
  static char chain[IT_OPTFILE_MAX_DEPTH + 1][PATH_MAX];

  message[0] = 0;
  if (!ItOptFileScanDepth(file, chain, 0, message, len)) message[0] = 0;
}

/* The value of option `name` (with its '-') in the options file `file` and
   the files it includes, as PETSc would read it (the last line wins, an
   included file's lines where its -options_file line stands) into value;
   returns 1 when the file sets it. For what must be known before PETSc
   starts (-post_ranks splits the ranks). No PETSc calls; a faulty file sets
   nothing here (ItIOScanOptionsFile reports it). */
static int ItOptFileFindDepth(const char file[], const char name[], char value[], size_t len,
                              int depth) {
  char  *text, *save = NULL, *line, message[8];
  size_t n;
  int    found = 0;

  if (depth > IT_OPTFILE_MAX_DEPTH || ItOptFileLoad(file, &text, &n, message, sizeof(message)))
    return 0;
  for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *tok[3] = {NULL, NULL, NULL}, *hash = strchr(line, '#');
    int   ntok;
    if (hash) *hash = 0;
    ntok = ItOptFileTokens(line, tok);
    if (ntok >= 2 && !strcmp(tok[0], "-options_file"))
      found |= ItOptFileFindDepth(tok[1], name, value, len, depth + 1);
    else if (ntok >= 1 && !strcmp(tok[0], name)) {
      snprintf(value, len, "%s", ntok >= 2 ? tok[1] : "");
      found = 1;
    }
  }
  free(text);
  return found;
}

int ItIOOptionsFileValue(const char file[], const char name[], char value[], size_t len) {
  return ItOptFileFindDepth(file, name, value, len, 0);
}
