/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* C source compiled at run time into a cached shared object (cc_cache.h). */
#define _GNU_SOURCE /* posix_spawnp, environ, dladdr-free dlopen flags */
#include "backends/cc_cache.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ensol/ensol.h"

extern char **environ;

/* The build's compiler and the flags of its CPU loops (src/CMakeLists.txt). */
#ifndef ENSOL_CC_COMPILER
#define ENSOL_CC_COMPILER "cc"
#endif
#ifndef ENSOL_CC_FLAGS
#define ENSOL_CC_FLAGS "-O3"
#endif

enum { MAX_ARGS = 64, PATH_LEN = 4096 };

static const char *compiler(void)
{
    const char *cc = getenv("ENSOL_CC");
    return cc && cc[0] ? cc : ENSOL_CC_COMPILER;
}

/* FNV-1a, two 64-bit lanes with different offsets: 128 bits, enough to
 * tell sources apart (the hash is checked again inside the object). */
typedef struct hash128 {
    uint64_t a, b;
} hash128;

static void hash_add(hash128 *h, const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        h->a = (h->a ^ *c) * 0x100000001b3ULL;
        h->b = (h->b ^ *c) * 0x100000001b3ULL;
    }
    /* a separator, so that ("ab", "c") and ("a", "bc") differ */
    h->a = (h->a ^ 0xffu) * 0x100000001b3ULL;
    h->b = (h->b ^ 0xfeu) * 0x100000001b3ULL;
}

/* The cache folder, created private to the user (0700). */
static ens_status cache_dir(char *dir, size_t size, ens_error *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(dir, size, "%s", xdg);
    else if (home && home[0])
        n = snprintf(dir, size, "%s/.cache", home);
    else
        return ens_fail(err, ENS_ERR_IO,
                        "model compilation: no cache folder (set XDG_CACHE_HOME or HOME)");
    if (n < 0 || (size_t)n + 8 >= size)
        return ens_fail(err, ENS_ERR_IO, "model compilation: cache folder path too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ens_fail(err, ENS_ERR_IO, "model compilation: cannot create %s: %s", dir,
                        strerror(errno));
    strcat(dir, "/ensol");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ens_fail(err, ENS_ERR_IO, "model compilation: cannot create %s: %s", dir,
                        strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
        return ens_fail(err, ENS_ERR_IO, "model compilation: %s is not a folder of this user",
                        dir);
    if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0)
        return ens_fail(err, ENS_ERR_IO, "model compilation: cannot make %s private: %s", dir,
                        strerror(errno));
    return ENS_OK;
}

/* Split `words` (spaces) into argv entries, copied into `store`. */
static int split_words(const char *words, char *store, size_t size, char **argv, int argc,
                       int max)
{
    size_t used = 0;
    for (const char *s = words; *s && argc < max;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        const size_t len = strcspn(s, " ");
        if (used + len + 1 > size)
            break;
        memcpy(store + used, s, len);
        store[used + len] = '\0';
        argv[argc++] = store + used;
        used += len + 1;
        s += len;
    }
    return argc;
}

/* Open `path` and check the hash it records. */
static void *open_checked(const char *path, const char *hex)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return NULL;
    const char *recorded = dlsym(h, ENS_CC_HASH_SYMBOL);
    if (recorded && strcmp(recorded, hex) == 0)
        return h;
    dlclose(h);
    return NULL;
}

static int write_file(const char *path, const char *text, const char *tail)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    const int ok = fputs(text, f) >= 0 && fputs(tail, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* "FILE:LINE:COL" -> "FILE:LINE" in place. */
static void drop_column(char *where)
{
    char *last = strrchr(where, ':');
    if (last && last[1] >= '0' && last[1] <= '9' && strchr(where, ':') != last)
        *last = '\0';
}

void ens_cc_first_error(const char *log, char *msg, size_t size)
{
    snprintf(msg, size, "the compiler failed without a message");
    for (const char *s = log; s && *s;) {
        const size_t len = strcspn(s, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), s);
        s += len + (s[len] == '\n');
        char *e = strstr(line, "error: ");
        if (!e)
            continue;
        char *text = e + 7, *where = line, *where_end = e;
        while (where_end > line && (where_end[-1] == ' ' || where_end[-1] == ':'))
            where_end--;
        /* "fatal " of "fatal error: " */
        if (where_end - line >= 5 && strncmp(where_end - 5, "fatal", 5) == 0) {
            where_end -= 5;
            while (where_end > line && (where_end[-1] == ' ' || where_end[-1] == ':'))
                where_end--;
        }
        *where_end = '\0';
        /* "error: FILE:LINE:COL: message" (PoCL's logs): the place follows */
        char *colon = strstr(text, ": ");
        if (!where[0] && colon && colon > text && colon[-1] >= '0' && colon[-1] <= '9') {
            *colon = '\0';
            where = text;
            text = colon + 2;
        }
        drop_column(where);
        snprintf(msg, size, "%s: %s", where[0] ? where : "compiler", text);
        return;
    }
}

static void first_error(const char *log_path, char *msg, size_t size)
{
    enum { LOG_MAX = 65536 };
    char *log = malloc(LOG_MAX);
    FILE *f = log ? fopen(log_path, "r") : NULL;
    const size_t n = f ? fread(log, 1, LOG_MAX - 1, f) : 0;
    if (f)
        fclose(f);
    if (log)
        log[n] = '\0';
    ens_cc_first_error(log, msg, size);
    free(log);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run the compiler on src into out, its messages into log; no shell. */
static ens_status compile(const char *src, const char *out, const char *log_path,
                          const char *extra_flags, ens_error *err)
{
    char store[8192];
    char *argv[MAX_ARGS + 1];
    int argc = split_words(compiler(), store, 1024, argv, 0, 4);
    const char *cc = argc > 0 ? argv[0] : "cc";
    argc = split_words(ENSOL_CC_FLAGS, store + 1024, 4096, argv, argc, MAX_ARGS - 8);
    argc = split_words(extra_flags ? extra_flags : "", store + 5120, 2048, argv, argc,
                       MAX_ARGS - 6);
    argv[argc++] = (char *)"-shared";
    argv[argc++] = (char *)"-fPIC";
    argv[argc++] = (char *)"-o";
    argv[argc++] = (char *)out;
    argv[argc++] = (char *)src;
    argv[argc] = NULL;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid;
    const int rc = posix_spawnp(&pid, cc, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (rc == 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    if (rc != 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "a model file needs a C compiler: '%s' was not found (install gcc, "
                        "e.g. apt-get install gcc, or name one with ENSOL_CC)",
                        cc);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[ENS_ERROR_MAX];
        first_error(log_path, msg, sizeof msg);
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "%s", msg);
    }
    return ENS_OK;
}

ens_status ens_cc_load(const char *source, const char *extra_flags, ens_cc_object *out,
                       ens_error *err)
{
    out->handle = NULL;
    out->compile_seconds = -1;
    hash128 h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    hash_add(&h, ens_version());
    hash_add(&h, compiler());
    hash_add(&h, ENSOL_CC_FLAGS);
    hash_add(&h, extra_flags ? extra_flags : "");
    hash_add(&h, source);
    char hex[33];
    snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)h.a,
             (unsigned long long)h.b);

    char dir[PATH_LEN - 128], path[PATH_LEN], tmp_src[PATH_LEN], tmp_so[PATH_LEN],
        tmp_log[PATH_LEN];
    ENS_CHECK(cache_dir(dir, sizeof dir, err));
    snprintf(path, sizeof path, "%s/%s.so", dir, hex);
    if ((out->handle = open_checked(path, hex)) != NULL)
        return ENS_OK;

    /* Names private to this process: ranks compiling the same source at
     * once each write their own, and the last rename wins (same bits). */
    static int counter;
    const long tag = (long)getpid() * 1000 + (__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) % 1000);
    snprintf(tmp_src, sizeof tmp_src, "%s/%s.%ld.tmp.c", dir, hex, tag);
    snprintf(tmp_so, sizeof tmp_so, "%s/%s.%ld.tmp.so", dir, hex, tag);
    snprintf(tmp_log, sizeof tmp_log, "%s/%s.%ld.tmp.log", dir, hex, tag);
    char tail[128];
    snprintf(tail, sizeof tail,
             "\n__attribute__((visibility(\"default\"))) const char %s[] = \"%s\";\n",
             ENS_CC_HASH_SYMBOL, hex);
    const double t0 = seconds_now();
    if (write_file(tmp_src, source, tail) != 0)
        return ens_fail(err, ENS_ERR_IO, "model compilation: cannot write %s: %s", tmp_src,
                        strerror(errno));
    ens_status st = compile(tmp_src, tmp_so, tmp_log, extra_flags, err);
    if (st == ENS_OK && rename(tmp_so, path) != 0)
        st = ens_fail(err, ENS_ERR_IO, "model compilation: cannot rename into %s: %s", path,
                      strerror(errno));
    unlink(tmp_src);
    unlink(tmp_log);
    if (st != ENS_OK) {
        unlink(tmp_so);
        return st;
    }
    if (!(out->handle = open_checked(path, hex))) {
        const char *why = dlerror();
        return ens_fail(err, ENS_ERR_IO, "model compilation: cannot load %s: %s", path,
                        why ? why : "its recorded hash differs");
    }
    out->compile_seconds = seconds_now() - t0;
    return ENS_OK;
}

int ens_cc_found(void)
{
    char store[1024];
    char *argv[5];
    const int argc = split_words(compiler(), store, sizeof store, argv, 0, 4);
    if (argc < 1)
        return 0;
    if (strchr(argv[0], '/'))
        return access(argv[0], X_OK) == 0;
    const char *path = getenv("PATH");
    char dir[PATH_LEN];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const size_t n = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, p, argv[0]);
        if (n > 0 && access(dir, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

void *ens_cc_symbol(const ens_cc_object *obj, const char *name)
{
    return obj && obj->handle ? dlsym(obj->handle, name) : NULL;
}

void ens_cc_unload(ens_cc_object *obj)
{
    if (obj && obj->handle)
        dlclose(obj->handle);
    if (obj)
        obj->handle = NULL;
}
