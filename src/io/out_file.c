/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The rules every output file follows (see out_file.h), and the public
 * calls that give them to text reports (ens_write_file). */
#define _GNU_SOURCE /* mkstemps */

#include "io/out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ensol/ensol.h"

/* Links followed at most, as the kernel's own limit for a path. */
#define MAX_LINKS 40

/* The name a link at `link` points to, relative names taken from the
 * link's directory; malloc'd, NULL when it cannot be read. */
static char *link_destination(const char *link)
{
    char to[PATH_MAX];
    const ssize_t n = readlink(link, to, sizeof to - 1);
    if (n < 0)
        return NULL;
    to[n] = '\0';
    const char *slash = strrchr(link, '/');
    if (to[0] == '/' || !slash)
        return strdup(to);
    const size_t dir = (size_t)(slash - link) + 1;
    char *out = malloc(dir + (size_t)n + 1);
    if (out) {
        memcpy(out, link, dir);
        memcpy(out + dir, to, (size_t)n + 1);
    }
    return out;
}

/* path with its directory made absolute and free of links (realpath), so
 * that one file has one name; path itself when the directory is absent. */
static char *canonical(char *path)
{
    char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[PATH_MAX];
    if (slash)
        *slash = '\0';
    const int ok = realpath(slash ? (slash == path ? "/" : path) : ".", dir) != NULL;
    if (slash)
        *slash = '/';
    if (!ok)
        return path;
    char *out = malloc(strlen(dir) + strlen(base) + 2);
    if (out)
        sprintf(out, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, base);
    free(path);
    return out;
}

char *ens_out_target(const char *path)
{
    char *at = strdup(path);
    struct stat sb;
    for (int i = 0; at && i < MAX_LINKS; i++) {
        if (lstat(at, &sb) != 0 || !S_ISLNK(sb.st_mode))
            return canonical(at);
        char *next = link_destination(at);
        free(at);
        at = next;
    }
    free(at);
    return NULL;
}

/* What a file that is not regular is, for the message. */
static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode)    ? "is a directory, not a regular file"
           : S_ISCHR(mode)  ? "is a character device, not a regular file"
           : S_ISBLK(mode)  ? "is a block device, not a regular file"
           : S_ISFIFO(mode) ? "is a FIFO, not a regular file"
           : S_ISSOCK(mode) ? "is a socket, not a regular file"
                            : "is not a regular file";
}

const char *ens_out_refusal(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return NULL;
    return kind_of(sb.st_mode);
}

ens_status ens_out_check(const char *path, ens_error *err)
{
    const char *refused = ens_out_refusal(path);
    if (!refused)
        return ENS_OK;
    return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "'%s': %s", path, refused);
}

char *ens_out_partial_name(const char *target)
{
    size_t len = strlen(target);
    char *partial = malloc(len + sizeof ".partial");
    if (partial) {
        memcpy(partial, target, len);
        memcpy(partial + len, ".partial", sizeof ".partial");
    }
    return partial;
}

int ens_out_create_partial(const char *target, char **partial)
{
    *partial = ens_out_partial_name(target);
    if (!*partial)
        return ENOMEM;
    int fd = open(*partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        const size_t len = strlen(target);
        char *unique = malloc(len + sizeof ".XXXXXX.partial");
        if (!unique) {
            free(*partial);
            *partial = NULL;
            return ENOMEM;
        }
        memcpy(unique, target, len);
        memcpy(unique + len, ".XXXXXX.partial", sizeof ".XXXXXX.partial");
        free(*partial);
        *partial = unique;
        fd = mkstemps(unique, (int)strlen(".partial"));
        /* mkstemps makes it 0600; a run's file gets the usual umask. */
        if (fd >= 0) {
            const mode_t mask = umask(0);
            umask(mask);
            fchmod(fd, 0666 & ~mask);
        }
    }
    const int why = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    if (why) {
        free(*partial);
        *partial = NULL;
    }
    return why;
}

ens_status ens_out_commit(const char *partial, const char *target, ens_error *err)
{
    ens_status st = ens_out_check(target, err);
    if (st == ENS_OK && rename(partial, target) != 0)
        st = ens_fail(err, ENS_ERR_IO, "cannot rename '%s' to '%s': %s", partial, target,
                      strerror(errno));
    if (st != ENS_OK)
        remove(partial);
    return st;
}

int ens_out_storage_errno(const char *path)
{
    const int e = errno;
    if (e == ENOSPC || e == EDQUOT || e == EIO || e == EFBIG || e == EROFS)
        return e;
    struct statvfs fs;
    if (statvfs(path, &fs) == 0 && fs.f_bavail == 0)
        return ENOSPC;
    return 0;
}

/* ---- the public calls ------------------------------------------------------------ */

ens_status ens_check_output_path(const char *path, char *why, size_t why_size)
{
    const char *refused = path && *path ? ens_out_refusal(path) : "no file name";
    if (why && why_size)
        snprintf(why, why_size, "%s", refused ? refused : "");
    return refused ? ENS_ERR_INVALID_ARGUMENT : ENS_OK;
}

/* A report written by `write` into `partial`; 0 or errno. */
static int write_partial(const char *partial, int (*write)(FILE *, void *), void *user)
{
    FILE *f = fopen(partial, "w");
    if (!f)
        return errno;
    errno = 0;
    int failed = write(f, user) != 0 || ferror(f);
    int why = failed ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !why)
        why = errno ? errno : EIO;
    return why;
}

ens_status ens_write_file(const char *path, int (*write)(FILE *, void *), void *user,
                          char *why, size_t why_size)
{
    ens_error err;
    err.msg[0] = '\0';
    char *target = path ? ens_out_target(path) : NULL;
    char *partial = NULL;
    ens_status st = target ? ens_out_check(target, &err)
                           : ens_fail(&err, ENS_ERR_INVALID_ARGUMENT, "'%s': cannot resolve",
                                      path ? path : "");
    int e = st == ENS_OK ? ens_out_create_partial(target, &partial) : 0;
    if (e)
        st = ens_fail(&err, ENS_ERR_IO, "cannot create '%s.partial': %s", target,
                      strerror(e));
    if (st == ENS_OK && (e = write_partial(partial, write, user)) != 0) {
        st = ens_fail(&err, ENS_ERR_IO, "cannot write '%s': %s", partial, strerror(e));
        remove(partial);
    }
    if (st == ENS_OK)
        st = ens_out_commit(partial, target, &err);
    if (why && why_size)
        snprintf(why, why_size, "%s", err.msg);
    free(partial);
    free(target);
    return st;
}
