/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * A full disk for tests that cannot mount a small tmpfs: loaded with
 * LD_PRELOAD, it lets writes to files whose name contains ".partial"
 * through until ENSOL_SHIM_BYTES bytes in all, then fails them with
 * ENOSPC, as a full file system does. Other files are not touched.
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long long budget = -1; /* bytes still allowed; -1: not read yet */

/* Whether fd is a regular file with ".partial" in its name. */
static int is_partial(int fd)
{
    struct stat sb;
    char link[64], name[4096];
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, name, sizeof name - 1);
    if (n <= 0)
        return 0;
    name[n] = '\0';
    return strstr(name, ".partial") != NULL;
}

/* 0 when `count` bytes may go to fd; else -1 with errno ENOSPC. */
static int take(int fd, size_t count)
{
    if (!is_partial(fd))
        return 0;
    if (budget < 0) {
        const char *b = getenv("ENSOL_SHIM_BYTES");
        budget = b ? atoll(b) : 0;
    }
    if ((long long)count <= budget) {
        budget -= (long long)count;
        return 0;
    }
    budget = 0;
    errno = ENOSPC;
    return -1;
}

#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t write(int fd, const void *buf, size_t count)
{
    if (take(fd, count) != 0)
        return -1;
    return NEXT("write", ssize_t (*)(int, const void *, size_t))(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    if (take(fd, count) != 0)
        return -1;
    return NEXT("pwrite", ssize_t (*)(int, const void *, size_t, off_t))(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset)
{
    if (take(fd, count) != 0)
        return -1;
    return NEXT("pwrite64", ssize_t (*)(int, const void *, size_t, off_t))(fd, buf, count,
                                                                           offset);
}
