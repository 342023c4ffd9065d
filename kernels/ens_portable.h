/*
 * Portability layer for the single-source device code in kernels/.
 *
 * Everything under kernels/ is written in the common subset of C11, CUDA C
 * and OpenCL C. This header is the only place that knows which compiler is
 * reading it; the rest uses the macros below.
 *
 *   ENS_FN        qualifiers of a device-and-host inline function
 *   ENS_GLOBAL    address space of a pointer into device global memory
 *   ENS_RESTRICT  restrict where the dialect has it
 *   ens_u32/u64   fixed-width unsigned integers
 */
#ifndef ENS_PORTABLE_H
#define ENS_PORTABLE_H

#if defined(__OPENCL_C_VERSION__) || defined(__OPENCL_VERSION__)
#define ENS_OPENCL 1
#define ENS_FN static inline
#define ENS_GLOBAL __global
#define ENS_RESTRICT restrict
typedef uint ens_u32;
typedef ulong ens_u64;
#elif defined(__CUDACC__)
#define ENS_CUDA 1
#define ENS_FN static __host__ __device__ __forceinline__
#define ENS_GLOBAL
#define ENS_RESTRICT __restrict__
typedef unsigned int ens_u32;
typedef unsigned long long ens_u64;
#else
#include <math.h>
#include <stdint.h>
#define ENS_HOST_C 1
#if defined(__GNUC__)
#define ENS_FN static inline __attribute__((always_inline))
#else
#define ENS_FN static inline
#endif
#define ENS_GLOBAL
#if defined(__cplusplus)
#define ENS_RESTRICT __restrict__
#else
#define ENS_RESTRICT restrict
#endif
typedef uint32_t ens_u32;
typedef uint64_t ens_u64;
#endif

#define ENS_CAT_(a, b) a##b
#define ENS_CAT(a, b) ENS_CAT_(a, b)

/* Model identifiers shared by the host registry and the device dispatch.
 * Adding a model: a header under models/, one line here and one entry in
 * the host registry (src/core/models.c). */
#define ENS_MODEL_LIST(X) \
    X(ENS_MODEL_LORENZ63, lorenz63) \
    X(ENS_MODEL_LORENZ96, lorenz96)

#define ENS_MODEL_ENUM_ENTRY(id, prefix) id,
enum ens_model_id { ENS_MODEL_LIST(ENS_MODEL_ENUM_ENTRY) ENS_MODEL_COUNT };
#undef ENS_MODEL_ENUM_ENTRY

enum ens_integrator_id { ENS_INTEGRATOR_ID_EULER, ENS_INTEGRATOR_ID_RK4, ENS_INTEGRATOR_COUNT };

#endif /* ENS_PORTABLE_H */
