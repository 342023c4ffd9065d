/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The writer thread: the sink writes batch k while batch k+1 computes. One
 * slab is in flight at a time; the first failure is kept and returned by
 * every later call.
 */
#ifndef ENS_HOST_WRITER_THREAD_H
#define ENS_HOST_WRITER_THREAD_H

#include <pthread.h>

#include "host/sink.h"

typedef struct ens_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    const ens_slab *pending;   /* handed over and not yet written */
    int quit;
    ens_sink *sink;
    int states_double;
    ens_status status;         /* the first failure */
    ens_error error;
    int sync;                  /* no thread: submit writes at once */
    long long written_m0, written_count, written_times; /* the last slab written
                                                            whole; count 0: none */
} ens_writer;

/* sync: write from the calling thread (under MPI, where the parallel
 * file's collective calls stay on the thread that initialised MPI). */
ens_status ens_writer_start(ens_writer *w, ens_sink *sink, int states_double, int sync,
                            ens_error *err);
/* Hand a slab over once the previous one is written; returns the writer's
 * first failure so far. While it waits, stop(user) is asked every tenth
 * of a second (stop may be NULL): true returns ENS_ERR_INTERRUPTED at once,
 * the slab not handed over (err untouched: stop says why). */
ens_status ens_writer_submit(ens_writer *w, const ens_slab *slab, int (*stop)(void *),
                             void *user, ens_error *err);
/* Wait for the last slab, stop the thread; returns its first failure. */
ens_status ens_writer_finish(ens_writer *w, ens_error *err);

#endif
