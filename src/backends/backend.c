/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The one place that calls a backend's slots: each wrapper supplies the
 * default of an optional slot, so that callers never test one. */
#include <stddef.h>

#include "backends/backend.h"

int ens_backend_auto_eligible(const ens_backend_ops *ops)
{
    return !ops->auto_eligible || ops->auto_eligible();
}

int ens_backend_runs_dopri5(const ens_backend_ops *ops) { return ops->dopri5 != NULL; }

int ens_backend_runs_model_files(const ens_backend_ops *ops) { return ops->model_files; }

ens_status ens_backend_create(const ens_backend_ops *ops, ens_backend_job *job,
                              ens_backend *backend, ens_error *err)
{
    void *ctx = NULL;
    ENS_CHECK(ops->create(job, &ctx, err));
    backend->ops = ops;
    backend->ctx = ctx;
    return ENS_OK;
}

void ens_backend_describe(const ens_backend *backend, char *device, size_t device_size)
{
    backend->ops->describe(backend->ctx, device, device_size);
}

void ens_backend_setup_note(const ens_backend *backend, char *note, size_t note_size)
{
    if (note_size > 0)
        note[0] = '\0';
    if (backend->ops->setup_note)
        backend->ops->setup_note(backend->ctx, note, note_size);
}

ens_status ens_backend_upload(const ens_backend *backend, long long first_member,
                              long long count, const void *state, const void *params,
                              ens_error *err)
{
    return backend->ops->upload(backend->ctx, first_member, count, state, params, err);
}

ens_status ens_backend_advance(const ens_backend *backend, long long nsteps, ens_error *err)
{
    return backend->ops->advance(backend->ctx, nsteps, err);
}

int ens_backend_computes_async(const ens_backend *backend) { return backend->ops->wait != NULL; }

ens_status ens_backend_wait(const ens_backend *backend, ens_error *err)
{
    return backend->ops->wait ? backend->ops->wait(backend->ctx, err) : ENS_OK;
}

ens_status ens_backend_download(const ens_backend *backend, void *state, ens_error *err)
{
    return backend->ops->download(backend->ctx, state, err);
}

void ens_backend_destroy(ens_backend *backend)
{
    if (backend->ops)
        backend->ops->destroy(backend->ctx);
    backend->ops = NULL;
    backend->ctx = NULL;
}

static ens_status no_dopri5(const ens_backend *backend, ens_error *err)
{
    return ens_fail(err, ENS_ERR_INTERNAL, "backend %s cannot run the adaptive integrator dopri5",
                    backend->ops->name);
}

ens_status ens_backend_dopri5_stats(const ens_backend *backend, const ens_member_stats *stats,
                                    ens_error *err)
{
    const ens_backend_dopri5_ops *d5 = backend->ops->dopri5;
    return d5 ? d5->download_stats(backend->ctx, stats, err) : no_dopri5(backend, err);
}

ens_status ens_backend_dopri5_download_steps(const ens_backend *backend, double *real_rows,
                                             long long *int_rows, ens_error *err)
{
    const ens_backend_dopri5_ops *d5 = backend->ops->dopri5;
    return d5 ? d5->download_steps(backend->ctx, real_rows, int_rows, err)
              : no_dopri5(backend, err);
}

ens_status ens_backend_dopri5_upload_steps(const ens_backend *backend, const double *real_rows,
                                           const long long *int_rows, long long steps_done,
                                           ens_error *err)
{
    const ens_backend_dopri5_ops *d5 = backend->ops->dopri5;
    return d5 ? d5->upload_steps(backend->ctx, real_rows, int_rows, steps_done, err)
              : no_dopri5(backend, err);
}
