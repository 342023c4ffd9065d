/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* What the CUDA backend's host side (cuda.cu) needs of its kernels
 * (cuda_kernels.cu): the table of kernels, one per build, and the sizes
 * they are compiled for. */
#ifndef ENS_BACKENDS_CUDA_KERNELS_H
#define ENS_BACKENDS_CUDA_KERNELS_H

#include <stddef.h>

/* Threads per block. One member per thread and no shared memory: a few
 * warps per block, enough blocks per SM to hide latency. */
#define ENS_CUDA_BLOCK 128

/* Models whose size is set at run time (ENS_MODEL_LIST): their common size
 * compiled as a literal, so the loops unroll and constant indices keep the
 * state in registers where it fits; other sizes up to these maxima with
 * the size at run time (per-thread arrays in local memory, cached in L1). */
#define ENS_CUDA_MAX_VARS_SMALL 64
#define ENS_CUDA_MAX_VARS 256

/* A kernel, a bound in bytes on the local memory each thread uses, and
 * the lanes (threads) that integrate one member. */
typedef struct ens_cuda_kernel {
    const void *func;
    size_t frame_bytes;
    int lanes;
} ens_cuda_kernel;

extern "C" {
/* The kernel (its host stub, for cudaLaunchKernel and cudaFuncGetAttributes)
 * of a model, integrator, precision and size, and for a model with a
 * component form and fixed steps the lanes per member (1, 8, 16, 32);
 * func is NULL when this build has none (a size or parameter count the
 * model list does not give). */
ens_cuda_kernel ens_cuda_kernel_contract(int model, int integrator, int dbl, int nvars,
                                         int nparams, int lanes);
ens_cuda_kernel ens_cuda_kernel_strict(int model, int integrator, int dbl, int nvars,
                                       int nparams, int lanes);
}

#endif
