# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
#
# Spack recipe for ensol, kept with the sources (tests/check_spack_recipe.py
# checks its variants against the CMake options). Build a checkout with it
# in a Spack environment, from the top of the source tree:
#
#   spack repo add packaging/spack
#   spack env create -d spack-env && spack env activate spack-env
#   spack develop --path "$PWD" ensol@0.2.0
#   spack add ensol@0.2.0 +mpi +cuda cuda_arch=80 && spack install
#
# A published release adds its url and sha256 here.
#
# The variants map one to one onto CMake options (see cmake_args): +cuda,
# +opencl, +mpi, +openmp and +native onto ENSOL_CUDA, ENSOL_OPENCL,
# ENSOL_MPI, ENSOL_OPENMP and ENSOL_NATIVE, +shared onto BUILD_SHARED_LIBS,
# cuda_arch (from CudaPackage) onto CMAKE_CUDA_ARCHITECTURES.

from spack.package import *


class Ensol(CMakePackage, CudaPackage):
    """Integrates large ensembles of ODE trajectories (Lorenz-63, Lorenz-96;
    RK4, Euler, DOPRI5) on OpenMP CPU threads, OpenCL devices or CUDA GPUs,
    across MPI ranks, and writes them to NetCDF."""

    license("BSD-3-Clause")

    # The version of project(VERSION) in CMakeLists.txt; sources from
    # `spack develop` (above).
    version("0.2.0")

    variant("shared", default=True, description="Build libensol as a shared library")
    variant("openmp", default=True, description="OpenMP threads in the CPU backend")
    variant("opencl", default=False, description="The OpenCL backend")
    variant("mpi", default=False, description="Members split across MPI ranks")
    variant(
        "native",
        default=False,
        description="Tune the CPU loops for the build machine only (-march=native); "
        "off: x86-64, AVX2 and AVX-512 loops chosen at run time",
    )

    depends_on("c", type="build")
    depends_on("cmake@3.20:", type="build")
    depends_on("netcdf-c~mpi", when="~mpi")
    depends_on("netcdf-c+mpi", when="+mpi")
    depends_on("mpi", when="+mpi")
    depends_on("opencl", when="+opencl")
    conflicts("cuda_arch=none", when="+cuda", msg="ensol +cuda needs cuda_arch=<compute capability>")

    def cmake_args(self):
        spec = self.spec
        args = [
            self.define("ENSOL_BUILD_TESTS", False),
            self.define("ENSOL_BUILD_BENCH", False),
            self.define("ENSOL_PYTHON", False),
            self.define_from_variant("BUILD_SHARED_LIBS", "shared"),
            self.define_from_variant("ENSOL_OPENMP", "openmp"),
            self.define_from_variant("ENSOL_OPENCL", "opencl"),
            self.define_from_variant("ENSOL_CUDA", "cuda"),
            self.define_from_variant("ENSOL_MPI", "mpi"),
            self.define_from_variant("ENSOL_NATIVE", "native"),
        ]
        if spec.satisfies("+cuda"):
            args.append(
                self.define("CMAKE_CUDA_ARCHITECTURES", spec.variants["cuda_arch"].value)
            )
        return args
