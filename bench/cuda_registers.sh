#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
# Registers, stack and spills of every kernel of the CUDA backend, from
# ptxas (nvcc -Xptxas -v), for both builds of src/backends/cuda.cu: the
# default one (multiply-adds contracted) and the strict one (--fmad=false).
# "lanes": threads per member (1; Lorenz-96 fixed steps also 32, 16, 8:
# ENSOL_CUDA_LANE_KERNEL). Needs nvcc only, no GPU.
#
#   bench/cuda_registers.sh [ARCH]      ARCH: sm_80 (default), sm_90, ...
#
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-sm_80}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$nvcc" ]; then
    echo "cuda_registers: nvcc not found (set NVCC)" >&2
    exit 1
fi
demangle=cat
command -v c++filt >/dev/null 2>&1 && demangle=c++filt

compile() { # variant flags...
    local variant=$1
    shift
    "$nvcc" -c src/backends/cuda.cu -o /dev/null -std=c++17 -O3 \
        -Isrc -Ikernels -Iinclude "$@" \
        -gencode "arch=compute_${arch#sm_},code=$arch" -Xptxas -v 2>&1 |
        awk -v variant="$variant" '
            /Compiling entry function/ { name = $0; sub(/.*function \047/, "", name); sub(/\047.*/, "", name) }
            /bytes stack frame/ { stack = $1; stores = $5; loads = $9 }
            /Used [0-9]+ registers/ {
                regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
                print variant "\t" name "\t" regs "\t" stack "\t" stores "\t" loads
            }'
}

{
    compile default
    compile strict -DENS_CUDA_STRICT=1 --fmad=false -prec-div=true -prec-sqrt=true
} | while IFS=$'\t' read -r variant name regs stack stores loads; do
    # (anonymous namespace)::ens_cuda_fixed<double, 0, 1, 3, true, 3>(...), or
    # ens_cuda_lanes<float, 1, 32, 2, 40>(...): real, integrator, lanes, J, K (0: up to lanes J)
    pretty=$(printf '%s\n' "$name" | $demangle | sed -E 's/^.*ens_cuda_([a-z0-9]+)<([^>]*)>.*$/\1 \2/')
    read -r kind args <<<"$pretty"
    IFS=', ' read -r -a a <<<"$args"
    lanes=1
    if [ "$kind" = lanes ]; then
        model=lorenz96 lanes=${a[2]}
        integ=$([ "${a[1]}" = 1 ] && echo rk4 || echo euler)
        size=$([ "${a[4]}" != 0 ] && echo "${a[4]}" || echo "<=$((a[2] * a[3]))")
    else
        model=$([ "${a[1]}" = 0 ] && echo lorenz63 || echo lorenz96)
        if [ "$kind" = dopri5 ]; then
            integ=dopri5 nvars=${a[2]} exact=${a[3]}
        else
            integ=$([ "${a[2]}" = 1 ] && echo rk4 || echo euler) nvars=${a[3]} exact=${a[4]}
        fi
        size=$([ "$exact" = true ] && echo "$nvars" || echo "<=$nvars")
    fi
    printf '%-8s %-9s %-7s %-7s %-6s %5s %5s %7s %7s %7s\n' "$variant" "$model" "$integ" \
        "${a[0]}" "$size" "$lanes" "$regs" "$stack" "$stores" "$loads"
done | sort -k1,1 -k2,2 -k3,3 -k4,4 -k5,5 -k6,6n | {
    printf 'ptxas -v for %s (src/backends/cuda.cu)\n' "$arch"
    printf '%-8s %-9s %-7s %-7s %-6s %5s %5s %7s %7s %7s\n' build model integ. real vars lanes regs \
        stack spill-st spill-ld
    cat
}
