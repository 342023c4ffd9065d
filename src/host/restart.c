/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Restart files (see restart.h). */
#include "host/restart.h"

ens_nc_spec ens_restart_spec(const ens_config *cfg, const ens_plan *plan,
                             const ens_nc_spec *run_file, const char *path,
                             const double *end_time)
{
    ens_nc_spec spec = *run_file;
    spec.path = path;
    spec.ntimes = 1;
    spec.times = end_time;
    spec.disk_double = 1;
    spec.write_states = 1;
    spec.write_aux = 0;
    spec.write_stats = 0;
    spec.counts_only = 0;
    spec.deflate_level = 0;
    spec.quantize_bits = 0;
    spec.output_mode = ens_choice_name(ENS_CHOICE_OUTPUT_MODE, ENS_OUTPUT_ID_FINAL);
    spec.write_steps = plan->save_steps;
    spec.steps_done = (plan->resume_steps > 0 ? plan->resume_steps : 0) + cfg->steps;
    return spec;
}

ens_status ens_restart_write(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                             const ens_slab *slab, ens_nc_writer *restart, ens_error *err)
{
    const size_t count = (size_t)slab->count, nvars = (size_t)cfg->nvars;
    for (size_t i = 0; i < count; i++)
        for (size_t v = 0; v < nvars; v++)
            b->final[i * nvars + v] = ens_batch_real(plan, b->state, v * count + i);
    ENS_CHECK(ens_nc_write_batch(restart, slab->m0, slab->count, 1, b->final, 1, slab->params,
                                 err));
    ENS_CHECK(ens_nc_write_members(restart, slab->m0, slab->count, &slab->members, err));
    if (!plan->save_steps)
        return ENS_OK;
    if (slab->count > 0)
        ENS_CHECK(ens_backend_dopri5_download_steps(&plan->backend, b->steps_real, b->steps_int,
                                                    err));
    return ens_nc_write_steps(restart, slab->m0, slab->count, b->steps_real, b->steps_int, err);
}

ens_status ens_restart_resume(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                              const ens_slab *slab)
{
    ENS_CHECK(ens_nc_source_read_steps(plan->source, slab->m0, slab->count, b->steps_real,
                                       b->steps_int, &cfg->error));
    return ens_backend_dopri5_upload_steps(&plan->backend, b->steps_real, b->steps_int,
                                           plan->resume_steps, &cfg->error);
}
