#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
# ensol against the NumPy peer (bench/peers/numpy_lorenz63.py) on the same
# problem: Lorenz-63, float64, final state only, Euler and RK4.
#
#   bench/compare_numpy.sh [--build DIR] [--members N] [--steps N]
#                          [--numpy-steps N] [--repeats R]
#                          [--integrator euler|rk4|both] [--threads T]
#
# 1. Correctness: ensol_throughput --strict-fp --dump-check writes the initial
#    states of a small odd-sized ensemble and ensol's states after 100 steps;
#    the NumPy script integrates the same initial states and compares (with
#    the same operation order and no FMA on either side they agree bit for bit).
# 2. Speed: R pairs (default 3), each one ensol_throughput run (members x
#    steps, default 10^6 x 1000, one warm-up then one timed run) followed by
#    one NumPy run (same members, --numpy-steps, default 100: NumPy needs
#    ~0.05 s per RK4 step at 10^6 members, and member-steps/s is a per-step
#    rate, so fewer steps measure the same thing); never two at once. Prints
#    ensol/NumPy per integrator: the median of the pairs' ratios. Exit status
#    3 when a ratio is below 20.
# Python: /usr/bin/python3 (Debian's python3-numpy is visible only to it),
# or $PYTHON.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build="$root/build"
members=1000000
steps=1000
numpy_steps=100
repeats=3
integrator=both
threads=0
python=${PYTHON:-/usr/bin/python3}

while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --members) members=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --numpy-steps) numpy_steps=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --integrator) integrator=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare_numpy.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

harness="$build/bench/ensol_throughput"
peer="$here/peers/numpy_lorenz63.py"
[ -x "$harness" ] || { echo "compare_numpy.sh: $harness not built (--build DIR)" >&2; exit 1; }
[ -x "$python" ] || python=python3
"$python" -c 'import numpy' 2>/dev/null ||
    { echo "compare_numpy.sh: $python has no numpy (set PYTHON)" >&2; exit 1; }

case "$integrator" in
    both) integrators="euler rk4" ;;
    euler|rk4) integrators=$integrator ;;
    *) echo "compare_numpy.sh: --integrator $integrator: expected euler, rk4 or both" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== correctness: NumPy and ensol from the same initial states, 4099 members x 100 steps"
"$harness" --integrator "$integrator" --members 4099 --steps 100 --repeats 1 \
    --check-steps 100 --check-members 4099 --strict-fp --threads "$threads" \
    --dump-check "$tmp/chk" > "$tmp/check.log" 2>&1 ||
    { cat "$tmp/check.log" >&2; exit 1; }
for integ in $integrators; do
    "$python" "$peer" --integrator "$integ" --steps 100 \
        --init "$tmp/chk.init.f64" --expect "$tmp/chk.$integ.f64"
done

echo "== speed: ensol ($members members x $steps steps) and NumPy ($members members x" \
     "$numpy_steps steps), interleaved, $repeats pairs"
echo "   (member-steps/s is a per-step rate: NumPy runs fewer steps to keep the run short)"
for k in $(seq 1 "$repeats"); do
    "$harness" --integrator "$integrator" --members "$members" --steps "$steps" \
        --repeats 1 --threads "$threads" --check-steps 0 --no-yardstick \
        --csv "$tmp/ensol.$k.csv" > "$tmp/ensol.$k.log" 2>&1 ||
        { cat "$tmp/ensol.$k.log" >&2; exit 1; }
    "$python" "$peer" --integrator "$integrator" --members "$members" \
        --steps "$numpy_steps" --repeats 1 > "$tmp/numpy.$k.txt"
    for integ in $integrators; do
        e=$(awk -F, -v i="$integ" '$2 == i && $7 == "ensol" { print $11 }' "$tmp/ensol.$k.csv")
        n=$(sed -n "s/.*integrator=$integ .*median_member_steps_per_s=\([^ ]*\).*/\1/p" \
            "$tmp/numpy.$k.txt")
        [ -n "$e" ] && [ -n "$n" ] ||
            { echo "compare_numpy.sh: no figure for $integ" >&2; exit 1; }
        echo "$integ $e $n" >> "$tmp/pairs.txt"
        printf '   pair %d %-5s ensol %.3g  numpy %.3g  ratio %.1fx\n' "$k" "$integ" "$e" "$n" \
            "$(awk -v e="$e" -v n="$n" 'BEGIN { print e / n }')"
    done
done
sed -n 's/.* \(numpy=[^ ]*\)$/   \1/p' "$tmp/numpy.1.txt" | head -n 1

echo "== ensol / NumPy, member-steps/s, median [min-max] over the pairs" \
     "(ensol on all its threads, NumPy on one)"
status=0
for integ in $integrators; do
    awk -v i="$integ" '
        function median(a, n,    j, k, t) {
            for (j = 1; j <= n; j++)
                for (k = j + 1; k <= n; k++)
                    if (a[k] < a[j]) { t = a[j]; a[j] = a[k]; a[k] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $1 == i { n++; e[n] = $2; p[n] = $3; r[n] = $2 / $3 }
        END {
            me = median(e, n); mp = median(p, n); mr = median(r, n)
            printf "%-6s ensol %.3g  numpy %.3g  ratio %.1fx [%.1f-%.1f]  (target >= 20x: %s)\n",
                   i, me, mp, mr, r[1], r[n], (mr >= 20 ? "met" : "NOT met")
            exit (mr >= 20 ? 0 : 3)
        }' "$tmp/pairs.txt" || { [ $? -eq 3 ] && status=3 || status=1; }
done
exit $status
