/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors
 *
 * Which compiled copy of the CPU loops runs. A portable build compiles
 * openmp_kernels.c once per x86-64 level (cmake/EnsolCpuVariants.cmake,
 * entry points suffixed _x86_64, _x86_64_v3, _x86_64_v4) and this file
 * calls the widest one the CPU and the operating system support, so that a
 * binary built on one machine runs on any x86-64 CPU and still uses AVX2 or
 * AVX-512 where they exist. ENSOL_CPU_VARIANT=x86-64|x86-64-v3|x86-64-v4
 * in the environment picks a narrower one (to compare them). A native
 * build (ENSOL_NATIVE=ON) has one copy, called directly.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/openmp_kernels.h"

#ifdef ENSOL_CPU_DISPATCH

typedef __typeof__(ens_openmp_advance_contract) advance_fn;
#define ENS_CPU_VARIANT_ENTRIES(isa)                                                          \
    advance_fn ens_openmp_advance_contract_##isa;                                             \
    advance_fn ens_openmp_advance_strict_##isa;
ENS_CPU_VARIANT_ENTRIES(x86_64)
ENS_CPU_VARIANT_ENTRIES(x86_64_v3)
ENS_CPU_VARIANT_ENTRIES(x86_64_v4)

typedef struct cpu_variant {
    const char *name, *label;
    advance_fn *contract, *strict;
    const char *flags; /* its compiler flags, for loops compiled at run time */
} cpu_variant;

/* Narrowest first. */
static const cpu_variant variants[] = {
    {"x86-64", "x86-64 loops (SSE2)", ens_openmp_advance_contract_x86_64, ens_openmp_advance_strict_x86_64,
     ENSOL_CPU_FLAGS_x86_64},
    {"x86-64-v3", "x86-64-v3 loops (AVX2, FMA)", ens_openmp_advance_contract_x86_64_v3,
     ens_openmp_advance_strict_x86_64_v3, ENSOL_CPU_FLAGS_x86_64_v3},
    {"x86-64-v4", "x86-64-v4 loops (AVX-512)", ens_openmp_advance_contract_x86_64_v4,
     ens_openmp_advance_strict_x86_64_v4, ENSOL_CPU_FLAGS_x86_64_v4},
};
/* The widest level the CPU has; libgcc's checks include the operating
 * system's support for the wider registers (XCR0). */
static int widest_supported(void)
{
    __builtin_cpu_init();
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    if (__builtin_cpu_supports("x86-64-v4"))
        return 2;
    if (__builtin_cpu_supports("x86-64-v3"))
        return 1;
#else
    const int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    if (v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return 2;
    if (v3)
        return 1;
#endif
    return 0;
}

/* Cheap enough to decide at every call (once per batch of steps): no
 * state shared between threads. */
static const cpu_variant *chosen(void)
{
    int best = widest_supported();
    const char *asked = getenv("ENSOL_CPU_VARIANT");
    for (int i = 0; asked && i < best; i++)
        if (strcmp(asked, variants[i].name) == 0)
            best = i;
    return &variants[best];
}

ens_status ens_openmp_advance_contract(const ens_backend_job *job, long long count, void *state,
                                       const void *params, long long nsteps, double t_start,
                                       const ens_noise_key *noise,
                                       const ens_openmp_adaptive *adaptive, ens_error *err)
{
    return chosen()->contract(job, count, state, params, nsteps, t_start, noise, adaptive, err);
}

ens_status ens_openmp_advance_strict(const ens_backend_job *job, long long count, void *state,
                                     const void *params, long long nsteps, double t_start,
                                     const ens_noise_key *noise,
                                     const ens_openmp_adaptive *adaptive, ens_error *err)
{
    return chosen()->strict(job, count, state, params, nsteps, t_start, noise, adaptive, err);
}

const char *ens_openmp_cpu_variant(void)
{
    return chosen()->label;
}

const char *ens_openmp_cpu_flags(void)
{
    return chosen()->flags;
}

#else

const char *ens_openmp_cpu_variant(void)
{
    return ENSOL_CPU_VARIANT " loops";
}

const char *ens_openmp_cpu_flags(void)
{
    return ENSOL_CPU_FLAGS;
}

#endif
