#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
#
# ensol used by another project (tests/downstream/), as its users would:
#
#   check_downstream.sh install        BUILD WORK SOURCE CC CMAKE
#       `cmake --install BUILD --prefix WORK/prefix`; checks what lands
#       there and that the installed program runs
#   check_downstream.sh find_package   ...   find_package(ensol 0.2) and
#       ensol::ensol; asking for 0.3 or 1.0 must fail
#   check_downstream.sh pkg_config     ...   cc $(pkg-config --cflags --libs ensol)
#   check_downstream.sh add_subdirectory ... ensol built inside the project
#
# Each builds tests/downstream/consumer.c and runs it (a Lorenz-63 ensemble
# against RK4 written out in the consumer, and a NetCDF file). Exit 77
# (skipped) where a tool it needs is missing.
set -euo pipefail

mode=$1 build=$2 work=$3 source=$4 cc=$5 cmake=$6
prefix=$work/prefix
consumer_src=$source/tests/downstream
fail() { echo "check_downstream: $mode: $*" >&2; exit 1; }

run_consumer() {
    local exe=$1 out=$2
    rm -f "$out"
    "$exe" "$out" || fail "$exe failed"
    [ -s "$out" ] || fail "$exe wrote no $out"
}

installed_version() {
    sed -n 's/^#define ENSOL_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/ensol/version.h"
}

library_kind() {
    if compgen -G "$prefix/lib*/libensol.so*" >/dev/null ||
       compgen -G "$prefix/lib*/*/libensol.so*" >/dev/null; then
        echo shared
    else
        echo static
    fi
}

case "$mode" in
install)
    rm -rf "$prefix"
    "$cmake" --install "$build" --prefix "$prefix" >/dev/null || fail "cmake --install failed"
    for f in bin/ensol include/ensol/ensol.h include/ensol/version.h share/man/man1/ensol.1 \
             share/doc/ensol/LICENSE share/doc/ensol/CHANGELOG.md share/doc/ensol/CITATION.cff \
             share/ensol/kernels/ens_solver.h share/ensol/kernels/opencl/ens_opencl.cl; do
        [ -f "$prefix/$f" ] || fail "$f not installed"
    done
    for f in cmake/ensol/ensolConfig.cmake cmake/ensol/ensolConfigVersion.cmake \
             cmake/ensol/ensolTargets.cmake pkgconfig/ensol.pc; do
        compgen -G "$prefix/lib*/$f" >/dev/null || fail "lib/$f not installed"
    done
    compgen -G "$prefix/lib*/libensol.*" >/dev/null || fail "no libensol installed"
    # The installed program runs from there (a shared libensol by its RPATH).
    version=$("$prefix/bin/ensol" --version) || fail "the installed ensol does not run"
    want=$(installed_version)
    [[ "$version" == "ensol $want"* ]] || fail "ensol --version says '$version', version.h $want"
    # The man page documents every option of every command's --help.
    for command in run bench merge; do
        for option in $("$prefix/bin/ensol" "$command" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
            grep -qF -- "$(printf '%s' "$option" | sed 's/-/\\-/g')" "$prefix/share/man/man1/ensol.1" ||
                fail "ensol.1 lacks $command's $option"
        done
    done
    echo "installed a $(library_kind) libensol and ensol $want into $prefix"
    ;;
find_package)
    dir=$work/find_package
    rm -rf "$dir" "$dir-newer"
    "$cmake" -S "$consumer_src" -B "$dir" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$dir.log" 2>&1 ||
        { cat "$dir.log" >&2; fail "configuring against the installed package failed"; }
    grep -q "consumer: ensol .* from $prefix" "$dir.log" || { cat "$dir.log" >&2; fail "found another ensol"; }
    "$cmake" --build "$dir" >>"$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "build failed"; }
    run_consumer "$dir/consumer" "$dir/consumer.nc"
    # The version file: 0.2 takes 0.2.x only.
    for newer in 0.3 1.0; do
        if "$cmake" -S "$consumer_src" -B "$dir-newer" -DCMAKE_PREFIX_PATH="$prefix" \
               -DENSOL_WANTED_VERSION=$newer >/dev/null 2>&1; then
            fail "find_package(ensol $newer) accepted ensol $(installed_version)"
        fi
        rm -rf "$dir-newer"
    done
    ;;
pkg_config)
    command -v pkg-config >/dev/null || { echo "pkg-config not installed: skipped"; exit 77; }
    pc=$(compgen -G "$prefix/lib*/pkgconfig/ensol.pc" | head -1)
    export PKG_CONFIG_PATH=$(dirname "$pc")
    static=()
    [ "$(library_kind)" = static ] && static=(--static)
    [ "$(pkg-config --modversion ensol)" = "$(installed_version)" ] ||
        fail "pkg-config --modversion disagrees with version.h"
    read -r -a cflags <<<"$(pkg-config --cflags ensol)"
    read -r -a libs <<<"$(pkg-config "${static[@]}" --libs ensol)"
    libdir=$(pkg-config --variable=libdir ensol)
    dir=$work/pkg_config
    rm -rf "$dir" && mkdir -p "$dir"
    "$cc" -std=c11 "${cflags[@]}" "$consumer_src/consumer.c" -o "$dir/consumer" \
        -Wl,-rpath,"$libdir" "${libs[@]}" -lm || fail "cc ${cflags[*]} ... ${libs[*]} failed"
    run_consumer "$dir/consumer" "$dir/consumer.nc"
    echo "pkg-config ${static[*]}: ${cflags[*]} ${libs[*]}"
    ;;
add_subdirectory)
    dir=$work/add_subdirectory
    rm -rf "$dir"
    # Only what the consumer needs, and the backends that compile fastest.
    "$cmake" -S "$consumer_src/superbuild" -B "$dir" -DCMAKE_C_COMPILER="$cc" \
        -DENSOL_SOURCE_DIR="$source" -DCMAKE_BUILD_TYPE=Release -DENSOL_CUDA=OFF \
        -DENSOL_OPENCL=OFF -DENSOL_MPI=OFF >"$dir.log" 2>&1 ||
        { cat "$dir.log" >&2; fail "configuring the superbuild failed"; }
    "$cmake" --build "$dir" --target consumer -j "$(nproc 2>/dev/null || echo 2)" >>"$dir.log" 2>&1 ||
        { cat "$dir.log" >&2; fail "building the consumer with ensol inside failed"; }
    run_consumer "$dir/consumer/consumer" "$dir/consumer.nc"
    ;;
*)
    fail "unknown mode (install, find_package, pkg_config or add_subdirectory)"
    ;;
esac
