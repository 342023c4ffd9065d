#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The Spack recipe (packaging/spack/packages/ensol/package.py) against the
build: read with Python's ast (no Spack needed), its variants must be the
CMake options of CMakeLists.txt and cmake/*.cmake, each passed on to the
option it names; NetCDF-C with MPI exactly under +mpi; and its version the
build's project(VERSION).

    check_spack_recipe.py SOURCE_DIR
"""
import ast
import pathlib
import re
import sys


def fail(message):
    print(f"check_spack_recipe: {message}", file=sys.stderr)
    sys.exit(1)


def cmake_options(source):
    """Names of option() and ensol_feature() in the build files."""
    names = set()
    files = [source / "CMakeLists.txt", *sorted((source / "cmake").glob("*.cmake"))]
    for path in files:
        text = path.read_text()
        names.update(re.findall(r"^\s*(?:option|ensol_feature)\(\s*([A-Z_][A-Z0-9_]*)", text, re.M))
    return names


def call_name(node):
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def literal_args(node):
    return [a.value for a in node.args if isinstance(a, ast.Constant)]


def keyword(node, name):
    for k in node.keywords:
        if k.arg == name and isinstance(k.value, ast.Constant):
            return k.value.value
    return None


def main():
    source = pathlib.Path(sys.argv[1])
    recipe_path = source / "packaging/spack/packages/ensol/package.py"
    tree = ast.parse(recipe_path.read_text(), filename=str(recipe_path))
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Ensol"]
    if len(classes) != 1:
        fail("package.py defines no class Ensol")
    cls = classes[0]
    bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
    if not {"CMakePackage", "CudaPackage"} <= bases:
        fail(f"class Ensol derives from {sorted(bases)}, not CMakePackage and CudaPackage")

    class_calls = [n.value for n in cls.body
                   if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    # CudaPackage brings the cuda and cuda_arch variants.
    variants = {"cuda", "cuda_arch"} | {
        literal_args(c)[0] for c in class_calls if call_name(c) == "variant"}
    depends = {(literal_args(c)[0], keyword(c, "when"))
               for c in class_calls if call_name(c) == "depends_on"}

    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    if "cmake_args" not in methods:
        fail("no cmake_args")
    calls = [n for n in ast.walk(methods["cmake_args"]) if isinstance(n, ast.Call)]
    from_variant = {}
    for c in calls:
        if call_name(c) == "define_from_variant":
            option, variant = literal_args(c)
            from_variant[variant] = option
    defined = {literal_args(c)[0] for c in calls
               if call_name(c) == "define" and literal_args(c)}

    options = cmake_options(source)
    errors = []
    for variant in sorted(variants - {"cuda_arch"}):
        option = from_variant.get(variant)
        if option is None:
            errors.append(f"variant {variant} is passed to no CMake option")
        elif option not in options:
            errors.append(f"variant {variant} sets {option}, which the build does not have")
    for name in sorted(defined):
        if name not in options and not name.startswith("CMAKE_"):
            errors.append(f"cmake_args sets {name}, which the build does not have")
    # Every backend and dependency choice of the build is a variant; the
    # build-only, developer (fuzzing), Python package (pip's build) and
    # parallel-NetCDF choices (AUTO under +mpi) are not.
    not_variants = {"ENSOL_BUILD_TESTS", "ENSOL_BUILD_BENCH", "ENSOL_FUZZ",
                    "ENSOL_PARALLEL_NETCDF", "ENSOL_PYTHON"}
    for option in sorted(options - not_variants - set(from_variant.values())):
        errors.append(f"the CMake option {option} has no variant")
    for variant in ("cuda", "opencl", "mpi", "cuda_arch"):
        if variant not in variants:
            errors.append(f"no variant {variant}")
    if "CMAKE_CUDA_ARCHITECTURES" not in defined:
        errors.append("cuda_arch does not reach CMAKE_CUDA_ARCHITECTURES")
    for dep in (("netcdf-c~mpi", "~mpi"), ("netcdf-c+mpi", "+mpi"), ("mpi", "+mpi")):
        if dep not in depends:
            errors.append(f"no depends_on({dep[0]!r}, when={dep[1]!r})")
    project = re.search(r"project\(ensol VERSION ([0-9.]+)", (source / "CMakeLists.txt").read_text())
    versions = {literal_args(c)[0] for c in class_calls if call_name(c) == "version"}
    if not project or project.group(1) not in versions:
        errors.append(f"the recipe's versions {sorted(versions)} lack project(VERSION) "
                      f"{project.group(1) if project else '?'}")
    if errors:
        fail("; ".join(errors))
    print(f"check_spack_recipe: variants {sorted(variants)} match the CMake options "
          f"{sorted(from_variant.values())}")


main()
