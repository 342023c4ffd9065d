/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The writer thread (see writer_thread.h). */
#include "host/writer_thread.h"

#include <string.h>

#include "io/nc_common.h"

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
        ens_status st = failed ? ENS_OK : w->sink->write(w->sink->self, slab, w->states_double, &err);
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

ens_status ens_writer_submit(ens_writer *w, const ens_slab *slab, ens_error *err)
{
    if (w->sync) {
        if (w->status == ENS_OK)
            w->status = w->sink->write(w->sink->self, slab, w->states_double, &w->error);
        if (w->status != ENS_OK)
            *err = w->error;
        return w->status;
    }
    pthread_mutex_lock(&w->lock);
    while (w->pending)
        pthread_cond_wait(&w->changed, &w->lock);
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
