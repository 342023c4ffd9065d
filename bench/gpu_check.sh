#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
# The first command to run on a GPU node: builds ensol with the CUDA
# backend, shows the devices and the kernels' registers, runs the CUDA
# tests (CUDA against OpenMP, bit for bit in strict mode), then compares
# the throughput of the CPU and the GPU(s) with `ensol bench` and prints
# the tables, and Lorenz-96 (K = 40, RK4) with a thread per member against
# a warp or part of one per member (ENSOL_CUDA_LANE_KERNEL).
#
#   bench/gpu_check.sh [BUILD_DIR]       default: build-gpu
#
# Environment: CUDA_ARCHS (CMAKE_CUDA_ARCHITECTURES, default the project's
# 80-real;90-real;90-virtual), JOBS (build jobs, default all cores),
# QUICK=1 (small problems: a smoke test of the script itself), BACKENDS
# (those ensol bench compares, default openmp,cuda; e.g. openmp,opencl,cuda).
# Results (CSV, one file per table) go to BUILD_DIR/gpu_check/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$build/gpu_check

step() { printf '\n=== %s\n' "$*"; }

step "build ($build, ENSOL_CUDA=ON)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DENSOL_CUDA=ON -DENSOL_BUILD_BENCH=OFF \
    ${CUDA_ARCHS:+"-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCHS"} >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
mkdir -p "$out"

step "devices"
"$build/ensol" info | sed -n '/^Backends/,/^$/p'
probe=$("$build/ensol" info | sed -n 's/^  cuda *//p')
case $probe in
    available*) ;;
    *)
        echo "gpu_check: the CUDA backend cannot run here: ${probe:-not built in}" >&2
        exit 1
        ;;
esac
ngpu=$("$build/ensol" info | sed -n 's/^  cuda *available: \([0-9]*\) device.*/\1/p')
cc=$("$build/ensol" info |
    sed -n 's/.*\[0\].*compute capability \([0-9]*\)\.\([0-9]*\).*/\1\2/p' | head -1)

step "kernels: registers and spills (ptxas, sm_${cc:-80})"
bash bench/cuda_registers.sh "sm_${cc:-80}" || echo "gpu_check: ptxas report failed (continuing)"

step "tests: CUDA against OpenMP (test_cuda)"
tests_ok=1
"$build/tests/test_cuda" >"$out/test_cuda.log" 2>&1 || tests_ok=0
grep -E '^\[ cuda|^\[  (PASSED|FAILED|SKIPPED) |Failure' "$out/test_cuda.log" || true
if [ "$tests_ok" = 0 ]; then
    echo "gpu_check: CUDA tests failed (log: $out/test_cuda.log); no throughput run" >&2
    exit 1
fi

step "throughput: CPU (openmp, all cores) against every GPU"
if [ "${QUICK:-0}" = 1 ]; then
    l63_members=1e4:1e5 l96_members=1e3:1e4 l63_steps=100 l96_steps=20 repeats=1
else
    l63_members=1e5:1e7 l96_members=1e4:1e6 l63_steps=1000 l96_steps=100 repeats=5
fi
bench() { # name, ensol bench options...
    local name=$1
    shift
    printf '\n--- %s\n' "$name"
    "$build/ensol" bench --backends "${BACKENDS:-openmp,cuda}" --repeats "$repeats" \
        --csv "$out/$name.csv" "$@"
}
bench l63_rk4_double --model lorenz63 --integrator rk4 --precision double \
    --members "$l63_members" --steps "$l63_steps"
bench l63_rk4_float --model lorenz63 --integrator rk4 --precision float \
    --members "$l63_members" --steps "$l63_steps" --no-peak
bench l63_euler_double --model lorenz63 --integrator euler --precision double \
    --members "$l63_members" --steps "$l63_steps" --no-peak
bench l96_rk4_double --model lorenz96 --param K=40 --integrator rk4 --precision double \
    --members "$l96_members" --steps "$l96_steps" --no-peak
bench l96_rk4_float --model lorenz96 --param K=40 --integrator rk4 --precision float \
    --members "$l96_members" --steps "$l96_steps" --no-peak

step "Lorenz-96 K = 40 RK4 on GPU 0: thread per member against lanes per member"
# ENSOL_CUDA_LANE_KERNEL: thread (the default), warp (32 lanes), warp16,
# warp8. The fastest becomes ENS_CUDA_LANE_KERNEL_DEFAULT in
# src/backends/cuda.cu (bench/README.md).
if [ "${QUICK:-0}" = 1 ]; then
    kernel_members=1e4 kernel_steps=20
else
    kernel_members=1e6 kernel_steps=200
fi
# the median member-steps/s of CUDA device 0 in an `ensol bench --json` file
cuda_rate() {
    local pattern='.*"backend": "cuda",.*"device_index": 0,.*"median_member_steps_per_s": '
    sed -n "s/${pattern}\([^,]*\),.*/\1/p" "$1" | head -1
}
printf 'precision,kernel,member_steps_per_s,ratio_to_thread\n' >"$out/l96_kernels.csv"
for precision in double float; do
    printf '\n--- %s, %s members x %s steps\n' "$precision" "$kernel_members" "$kernel_steps"
    printf '%-8s %16s %18s\n' kernel member-steps/s "ratio to thread"
    thread_rate=
    for kernel in thread warp warp16 warp8; do
        json=$out/l96_kernel_${kernel}_$precision.json
        rate=
        if ENSOL_CUDA_LANE_KERNEL=$kernel "$build/ensol" bench --backends cuda --no-peak \
            --repeats "$repeats" --model lorenz96 --param K=40 --integrator rk4 \
            --precision "$precision" --members "$kernel_members" --steps "$kernel_steps" \
            --json "$json" >"${json%.json}.log" 2>&1; then
            rate=$(cuda_rate "$json")
        fi
        if [ -z "$rate" ] || [ "$rate" = null ]; then
            printf '%-8s %16s %18s  (log: %s)\n' "$kernel" failed - "${json%.json}.log"
            continue
        fi
        [ "$kernel" = thread ] && thread_rate=$rate
        ratio=$(awk -v r="$rate" -v t="${thread_rate:-0}" \
            'BEGIN { if (t > 0) printf "%.3f", r / t; else print "-" }')
        printf '%-8s %16s %18s\n' "$kernel" "$rate" "$ratio"
        printf '%s,%s,%s,%s\n' "$precision" "$kernel" "$rate" "$ratio" >>"$out/l96_kernels.csv"
    done
done

if [ "${ngpu:-1}" -ge 2 ]; then
    step "all $ngpu GPUs in one run (--device all) against GPU 0"
    members=$([ "${QUICK:-0}" = 1 ] && echo 100000 || echo 20000000)
    for device in 0 all; do
        "$build/ensol" run --backend cuda --device "$device" --integrator rk4 \
            --members "$members" --steps 1000 --output-mode final -o "$out/all_$device.nc" 2>&1 |
            tail -1
        rm -f "$out/all_$device.nc"
    done
fi

step "done: tables above; CSV and the test log in $out/"
