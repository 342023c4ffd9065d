/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The writer thread (see writer_thread.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "host/writer_thread.h"

#include <string.h>
#include <time.h>

#include "io/nc_common.h"

/* Write the slab; a slab written whole is the last one written. */
static ens_status write_slab(ens_writer *w, const ens_slab *slab, ens_error *err)
{
    const ens_status st = w->sink->write(w->sink->self, slab, w->states_double, err);
    if (st == ENS_OK && slab->count > 0) {
        w->written_m0 = slab->m0;
        w->written_count = slab->count;
        w->written_times = slab->times;
    }
    return st;
}

static void *writer_main(void *arg)
{
    ens_writer *w = arg;
    ens_nc_quiet_thread(); /* the sinks write NetCDF */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->pending && !w->quit)
            pthread_cond_wait(&w->changed, &w->lock);
        if (!w->pending)
            break;
        const ens_slab *slab = w->pending;
        const int failed = w->status != ENS_OK;
        pthread_mutex_unlock(&w->lock);
        ens_error err;
        ens_status st = failed ? ENS_OK : write_slab(w, slab, &err);
        pthread_mutex_lock(&w->lock);
        if (st != ENS_OK && w->status == ENS_OK) {
            w->status = st;
            w->error = err;
        }
        w->pending = NULL;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

ens_status ens_writer_start(ens_writer *w, ens_sink *sink, int states_double, int sync,
                            ens_error *err)
{
    memset(w, 0, sizeof *w);
    w->sink = sink;
    w->states_double = states_double;
    w->sync = sync;
    if (sync)
        return ENS_OK;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->changed);
        pthread_mutex_destroy(&w->lock);
        return ens_fail(err, ENS_ERR_INTERNAL, "cannot start the output thread");
    }
    return ENS_OK;
}

/* Wait for the writer's slab to be written, asking stop every tenth of a
 * second; returns whether it said to stop. Called with the lock held. */
static int wait_written(ens_writer *w, int (*stop)(void *), void *user)
{
    while (w->pending) {
        if (!stop) {
            pthread_cond_wait(&w->changed, &w->lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&w->changed, &w->lock, &until) != 0 && w->pending) {
            pthread_mutex_unlock(&w->lock);
            const int stopped = stop(user);
            pthread_mutex_lock(&w->lock);
            if (stopped)
                return 1;
        }
    }
    return 0;
}

ens_status ens_writer_submit(ens_writer *w, const ens_slab *slab, int (*stop)(void *),
                             void *user, ens_error *err)
{
    if (w->sync) {
        if (w->status == ENS_OK)
            w->status = write_slab(w, slab, &w->error);
        if (w->status != ENS_OK)
            *err = w->error;
        return w->status;
    }
    pthread_mutex_lock(&w->lock);
    if (wait_written(w, stop, user)) {
        pthread_mutex_unlock(&w->lock);
        return ENS_ERR_INTERRUPTED;
    }
    ens_status st = w->status;
    if (st != ENS_OK)
        *err = w->error;
    else
        w->pending = slab;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    return st;
}

ens_status ens_writer_finish(ens_writer *w, ens_error *err)
{
    if (w->sync) {
        if (w->status != ENS_OK)
            *err = w->error;
        return w->status;
    }
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->status != ENS_OK)
        *err = w->error;
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    return w->status;
}
