-- SPDX-License-Identifier: BSD-3-Clause
-- An Lmod module file for an ensol installed with
--   cmake --install build --prefix /opt/ensol/0.2.0
-- Copy it to <modulepath>/ensol/0.2.0.lua and edit `root`; then
--   module load ensol/0.2.0
-- (Spack writes its own with `spack module lmod refresh ensol`.)
whatis("ensol 0.2.0: ODE ensembles on CPUs and GPUs, written to NetCDF")
help([[
ensol integrates large ensembles of ODE trajectories on CPU cores (OpenMP),
OpenCL devices or CUDA GPUs and writes NetCDF. Run `ensol info` for the
backends of this installation, `man ensol` for the options.
]])

local root = "/opt/ensol/0.2.0"
-- The NetCDF (and MPI) ensol was built with; names differ between sites.
depends_on("netcdf-c")

prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("MANPATH", pathJoin(root, "share/man"))
prepend_path("LD_LIBRARY_PATH", pathJoin(root, "lib"))
prepend_path("CMAKE_PREFIX_PATH", root)
prepend_path("PKG_CONFIG_PATH", pathJoin(root, "lib/pkgconfig"))
setenv("ENSOL_ROOT", root)
