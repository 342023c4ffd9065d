#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Set up, build and run ensol on a Debian or Ubuntu machine.
#
#   ./quickstart.sh run [ensol run options]   build the ensol program, then run it
#   ./quickstart.sh test                       build everything, then run the test suite
#
# `run` builds only the program: no tests, no benchmarks, and the CUDA
# backend only where nvidia-smi finds a GPU (or CMAKE_ARGS asks for it).
# `test` builds the tests, the benchmarks and every backend found (CUDA
# where nvcc is installed).
# Missing system packages are installed with apt-get when running as root;
# otherwise the script prints the command to install them and stops.
# Environment: BUILD_DIR (default: build), CMAKE_ARGS (extra cmake options).
set -euo pipefail

cd "$(dirname "$0")"
build_dir=${BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)

usage() {
    sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

# Debian package names: what building the program needs, and what the tests
# add (GoogleTest needs g++; so does nvcc).
build_packages=(cmake make gcc pkg-config libnetcdf-dev netcdf-bin)
# OpenCL on the CPU (PoCL) lets the OpenCL backend's tests run without a GPU.
# SciPy gives the dopri5 tests their reference (tests/make_scipy_reference.py).
# OpenMPI and the parallel NetCDF build make the test build an MPI build
# (ENSOL_MPI=AUTO), whose tests run `mpirun -n 2` and `-n 3` (a few seconds);
# Dask lets them open per-rank pieces with xarray's open_mfdataset.
# XPPAUT runs its example .ode files beside ensol (tests/check_xppaut.py).
# pytest runs the Python package's tests (tests/python); tqdm and a Jupyter
# kernel (ipykernel, jupyter_client, ipywidgets) let them check the progress
# bar and the notebook's interrupt (tests/python/test_jupyter.py).
# CDO and NCO are run on the output files (tests/check_tools.py); the CF
# checker (PyPI's cfchecker, installed by install_cfchecker into a virtual
# environment, python3-venv) needs UDUNITS-2 (libudunits2-0).
test_packages=(g++ libgtest-dev python3 python3-xarray python3-netcdf4 python3-numpy
               python3-scipy python3-dask python3-pytest python3-tqdm python3-ipykernel
               python3-jupyter-client python3-ipywidgets ocl-icd-opencl-dev opencl-headers
               pocl-opencl-icd libopenmpi-dev openmpi-bin libnetcdf-mpi-dev
               cdo nco libudunits2-0 python3-venv xppaut)

missing_packages() {
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            printf '%s\n' "$pkg"
        fi
    done
}

install_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "quickstart: not a Debian/Ubuntu system; install CMake 3.20+, a C11 compiler with OpenMP," >&2
        echo "  NetCDF-C (headers and library) and, for the tests, GoogleTest and Python's xarray." >&2
        return 0
    fi
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "quickstart: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "quickstart: missing packages; install them with:" >&2
        echo "  sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
}

# The CF checker for tests/check_cf.py: PyPI's cfchecker in a virtual
# environment, BUILD_DIR/cfvenv (a few seconds; kept for later runs).
# Without PyPI it is left out, and the CF tests skip, saying so.
cfchecks_args=()
install_cfchecker() {
    local venv
    mkdir -p "$build_dir"
    venv="$(cd "$build_dir" && pwd)/cfvenv"
    if [ ! -x "$venv/bin/cfchecks" ]; then
        echo "quickstart: installing cfchecker into $venv" >&2
        if ! { python3 -m venv "$venv" >/dev/null &&
               timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check \
                   --timeout 20 --retries 1 cfchecker; }; then
            echo "quickstart: cfchecker could not be installed (no network?):" \
                 "the CF compliance tests will skip" >&2
            rm -rf "$venv"
            return 0
        fi
    fi
    cfchecks_args=(-DENSOL_CFCHECKS="$venv/bin/cfchecks")
}

# Whether a GPU and its driver are present (then `run` builds CUDA too).
have_gpu() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'
}

# build TARGET CMAKE-OPTIONS...: configure (CMAKE_ARGS last, so that they
# win) and build TARGET ("all": everything).
build() {
    local target=$1
    shift
    # shellcheck disable=SC2086
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" ${CMAKE_ARGS:-} >/dev/null
    cmake --build "$build_dir" -j "$jobs" --target "$target"
}

command=${1:-}
[ -n "$command" ] || usage
shift

case "$command" in
    run)
        cuda=OFF
        if have_gpu; then
            cuda=AUTO
            build_packages+=(g++)
        fi
        install_packages "${build_packages[@]}"
        build ensol_cli -DENSOL_BUILD_TESTS=OFF -DENSOL_BUILD_BENCH=OFF -DENSOL_CUDA=$cuda
        "$build_dir/ensol" run "$@"
        ;;
    test)
        install_packages "${build_packages[@]}" "${test_packages[@]}"
        install_cfchecker
        build all -DENSOL_BUILD_TESTS=ON -DENSOL_BUILD_BENCH=ON -DENSOL_CUDA=AUTO \
            "${cfchecks_args[@]}"
        ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
        ;;
    -h|--help|help)
        usage
        ;;
    *)
        echo "quickstart: unknown command '$command' (use run or test)" >&2
        exit 2
        ;;
esac
