# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
#
# The instruction sets the CPU loops (src/backends/openmp_kernels.c) are
# compiled for. A binary built on a login node must run on compute nodes of
# another CPU generation, so the default build compiles the loops once per
# x86-64 level and picks the widest the CPU has when it runs
# (src/backends/openmp_dispatch.c):
#
#   x86_64      the ABI's baseline (SSE2): runs on every x86-64 CPU
#   x86_64_v3   AVX2, FMA, BMI1/2 (Haswell, Zen and later)
#   x86_64_v4   AVX-512 F/BW/CD/DQ/VL (Skylake-SP, Ice Lake, Zen 4 and later)
#
# ENSOL_NATIVE=ON compiles them once, for the build machine
# (-march=native), as does a compiler or CPU family without these levels.
#
# Sets ENSOL_CPU_VARIANTS (the variants' names), ENSOL_CPU_FLAGS_<variant>
# (each one's flags), ENSOL_CPU_DISPATCH (whether they are chosen at run
# time) and appends the build machine's flags to ENSOL_KERNEL_TUNING when
# native (the benchmarks' reference loops use them too).

include(CheckCCompilerFlag)
set(ENSOL_CPU_DISPATCH OFF)
if(NOT ENSOL_NATIVE AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang"
   AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  check_c_compiler_flag(-march=x86-64-v4 ENSOL_HAVE_MARCH_X86_64_V4)
  if(ENSOL_HAVE_MARCH_X86_64_V4)
    set(ENSOL_CPU_DISPATCH ON)
  endif()
endif()

# With -march=native or x86-64-v4 on AVX-512 CPUs gcc still prefers 256-bit
# vectors; the member loops are pure arithmetic and run 1.6x faster at 512
# bits (bench/README.md), so prefer the full width where the compiler takes it.
check_c_compiler_flag(-mprefer-vector-width=512 ENSOL_HAVE_PREFER_VECTOR_WIDTH)
set(_ensol_wide)
if(ENSOL_HAVE_PREFER_VECTOR_WIDTH)
  set(_ensol_wide -mprefer-vector-width=512)
endif()

if(ENSOL_CPU_DISPATCH)
  set(ENSOL_CPU_VARIANTS x86_64 x86_64_v3 x86_64_v4)
  set(ENSOL_CPU_FLAGS_x86_64)
  set(ENSOL_CPU_FLAGS_x86_64_v3 -march=x86-64-v3)
  set(ENSOL_CPU_FLAGS_x86_64_v4 -march=x86-64-v4 ${_ensol_wide})
elseif(ENSOL_NATIVE AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  set(ENSOL_CPU_VARIANTS native)
  set(ENSOL_CPU_FLAGS_native -march=native ${_ensol_wide})
  list(APPEND ENSOL_KERNEL_TUNING ${ENSOL_CPU_FLAGS_native})
else()
  set(ENSOL_CPU_VARIANTS default)
  set(ENSOL_CPU_FLAGS_default)
endif()
