/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
#include "backends/model_probe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cc_cache.h"
#include "backends/model_program.h"

extern const char ens_model_probe_source[];

typedef void probe_fn(int nv, double t, const double *x, double *f, const double *p);

/* A signalling NaN: arithmetic never produces it, so a slot that still
 * holds it was not written. */
static const uint64_t UNWRITTEN = 0x7ff4dead5e571e11ULL;

static int unwritten(const double *slot)
{
    uint64_t bits;
    memcpy(&bits, slot, sizeof bits);
    return bits == UNWRITTEN;
}

/* The variable holding state slot i, and the index within it. */
static const char *slot_name(const ens_model_info *m, int nvars, long long i, long long *index)
{
    int sizes[ENS_MODEL_MAX_SIZES];
    ens_model_default_sizes(m, sizes);
    long long offset = 0;
    for (int v = 0; v < m->nvardecls; v++) {
        const long long n = m->nvardecls == 1 ? nvars : ens_model_var_length(m, v, sizes, NULL);
        if (i < offset + n) {
            *index = m->vars[v].length ? i - offset : -1;
            return m->vars[v].name;
        }
        offset += n > 0 ? n : 0;
    }
    *index = -1;
    return m->vars[m->nvardecls - 1].name;
}

static ens_status check_writes(const ens_model_info *m, int nvars, const double *f, long long guard,
                               ens_error *err)
{
    for (long long i = -guard; i < nvars + guard; i++) {
        if (i >= 0 && i < nvars)
            continue;
        if (!unwritten(f + i)) {
            const char *first = m->vars[0].name, *last = m->vars[m->nvardecls - 1].name;
            return i < 0 ? ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                                    "%s:%d: the right-hand side writes outside the state, "
                                    "%lld before ddt(%s)",
                                    m->path, m->rhs_line, -i, first)
                         : ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                                    "%s:%d: the right-hand side writes outside the state, "
                                    "%lld past the end of ddt(%s)",
                                    m->path, m->rhs_line, i - nvars + 1, last);
        }
    }
    for (long long i = 0; i < nvars; i++) {
        if (unwritten(f + i)) {
            long long index;
            const char *name = slot_name(m, nvars, i, &index);
            char at[32] = "";
            if (index >= 0)
                snprintf(at, sizeof at, "[%lld]", index);
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "%s:%d: the right-hand side does not set ddt(%s)%s", m->path,
                            m->rhs_line, name, at);
        }
    }
    return ENS_OK;
}

ens_status ens_model_probe(const ens_model_info *m, int nvars, const double *params,
                           ens_error *err)
{
    if (!ens_cc_found())
        return ENS_OK;
    char *source = ens_model_program(m, ens_model_probe_source, "", "");
    if (!source)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "model check: out of memory");
    ens_cc_object obj;
    ens_status st = ens_cc_load(source, "", &obj, err);
    free(source);
    if (st != ENS_OK)
        return st;
    probe_fn *rhs = (probe_fn *)ens_cc_symbol(&obj, "ens_model_probe_rhs");
    /* Guard zones as long as the state (at least 256 slots) on each side. */
    const long long guard = nvars > 256 ? nvars : 256;
    const size_t slots = (size_t)(nvars + 2 * guard);
    double *f = malloc(slots * sizeof *f), *x = malloc((size_t)nvars * sizeof *x);
    if (!rhs || !f || !x) {
        st = rhs ? ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "model check: out of memory")
                 : ens_fail(err, ENS_ERR_INTERNAL, "model check: no right-hand side in the object");
    } else {
        for (size_t i = 0; i < slots; i++)
            memcpy(f + i, &UNWRITTEN, sizeof *f);
        for (int i = 0; i < nvars; i++)
            x[i] = 1.0 + 0.125 * (i % 8);
        rhs(nvars, 0.0, x, f + guard, params);
        st = check_writes(m, nvars, f + guard, guard, err);
    }
    free(f);
    free(x);
    ens_cc_unload(&obj);
    return st;
}
