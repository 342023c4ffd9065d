/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The CUDA backend's host side, shared by its files: a device of the run
 * (cuda_gpu), how CUDA failures become messages, and the device queries
 * (cuda_devices.cu) that the backend (cuda.cu) builds on. */
#ifndef ENS_BACKENDS_CUDA_BACKEND_H
#define ENS_BACKENDS_CUDA_BACKEND_H

#include <cuda_runtime.h>

#include <stddef.h>

extern "C" {
#include "backends/backend.h"
}
#include "backends/cuda_kernels.h"

#define ENS_CUDA_MAX_DEVICES 64
#define ENS_CUDA_STREAMS 2

#ifndef ENSOL_CUDA_ARCHITECTURES
#define ENSOL_CUDA_ARCHITECTURES ""
#endif

/* One device: its description, streams and buffers. */
typedef struct cuda_gpu {
    int ordinal;           /* CUDA device number */
    char name[256];
    int sms;
    int threads_per_sm;
    int cc_major, cc_minor;
    size_t total_mem;
    size_t max_pitch;
    cudaStream_t stream[ENS_CUDA_STREAMS];
    /* device memory, `alloc` members */
    void *state, *params, *aux, *tol;
    ens_i64 *aux_int;
    /* pinned host staging, `alloc` members */
    void *h_state, *h_params;
    long long alloc;
    long long fit;         /* members its free memory holds */
    /* the loaded members: [first, first + count) of the batch */
    long long first, count;
} cuda_gpu;

/* "cuda backend: cudaMalloc failed on device 0 (NVIDIA H100): cudaErrorMemoryAllocation: out
 * of memory". `call` is the call's source text: its name is what precedes '('. */
ens_status ens_cuda_fail(ens_error *err, const char *call, const char *what, cudaError_t rc,
                         const cuda_gpu *g);

/* Every CUDA call of the backend goes through these: on failure, return
 * the error naming the call, the error and the device. */
#define CU_CHECK_WHAT(g, what, call)                             \
    do {                                                         \
        const cudaError_t rc_ = (call);                          \
        if (rc_ != cudaSuccess)                                  \
            return ens_cuda_fail(err, #call, what, rc_, g);            \
    } while (0)
#define CU_CHECK(g, call) CU_CHECK_WHAT(g, NULL, call)

/* Devices (cuda_devices.cu). Whether this build has code for a device of
 * compute capability major.minor: */
int ens_cuda_arch_runnable(int major, int minor);
/* The devices of a run, as the job requests them; weight: their SMs. */
ens_status ens_cuda_choose_gpus(const ens_backend_job *job, cuda_gpu *gpus, int *count,
                                long long *weight, ens_error *err);
ens_status ens_cuda_probe(char *detail, size_t size);

#endif
