/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors
 *
 * A program of another project, built against an installed ensol (through
 * find_package, pkg-config or add_subdirectory; tests/check_downstream.sh):
 * the header and library agree on the version, and a small Lorenz-63
 * ensemble run through the library matches RK4 written out here, and
 * writes its NetCDF file.
 *
 *   consumer OUTPUT.nc      exit 0 when all holds, 1 otherwise
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <ensol/ensol.h>

enum { MEMBERS = 3, STEPS = 50 };
static const double DT = 0.01;

static void lorenz63(const double s[3], double ds[3])
{
    const double sigma = 10.0, rho = 28.0, beta = 8.0 / 3.0;
    ds[0] = sigma * (s[1] - s[0]);
    ds[1] = s[0] * (rho - s[2]) - s[1];
    ds[2] = s[0] * s[1] - beta * s[2];
}

/* The classic fourth-order Runge-Kutta step, independent of ensol's. */
static void rk4_step(double s[3])
{
    double k[4][3], tmp[3];
    lorenz63(s, k[0]);
    for (int v = 0; v < 3; v++) tmp[v] = s[v] + 0.5 * DT * k[0][v];
    lorenz63(tmp, k[1]);
    for (int v = 0; v < 3; v++) tmp[v] = s[v] + 0.5 * DT * k[1][v];
    lorenz63(tmp, k[2]);
    for (int v = 0; v < 3; v++) tmp[v] = s[v] + DT * k[2][v];
    lorenz63(tmp, k[3]);
    for (int v = 0; v < 3; v++)
        s[v] += DT / 6.0 * (k[0][v] + 2.0 * k[1][v] + 2.0 * k[2][v] + k[3][v]);
}

static int configure(ens_config *cfg, const double base[3])
{
    return ens_config_set_model(cfg, "lorenz63") || ens_config_set_members(cfg, MEMBERS) ||
           ens_config_set_base_state(cfg, base, 3) || ens_config_set_perturbation(cfg, 0.0) ||
           ens_config_set_integrator(cfg, "rk4") || ens_config_set_dt(cfg, DT) ||
           ens_config_set_steps(cfg, STEPS) || ens_config_set_save_every(cfg, STEPS) ||
           ens_config_set_backend(cfg, "openmp");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer OUTPUT.nc\n");
        return 1;
    }
    if (strcmp(ens_version(), ENSOL_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s, header %s\n", ens_version(), ENSOL_VERSION_STRING);
        return 1;
    }
    const double base[3] = {1.0, 1.0, 1.0};
    ens_config *cfg;
    if (ens_config_create(&cfg) != ENS_OK || configure(cfg, base) != ENS_OK) {
        fprintf(stderr, "consumer: configuration failed\n");
        return 1;
    }
    double out[MEMBERS * 2 * 3];
    ens_run_info info;
    int failed = 0;
    if (ens_run_to_memory(cfg, out, sizeof out / sizeof out[0], &info) != ENS_OK) {
        fprintf(stderr, "consumer: %s\n", ens_config_last_error(cfg));
        failed = 1;
    }
    double ref[3] = {base[0], base[1], base[2]};
    for (int i = 0; i < STEPS; i++)
        rk4_step(ref);
    for (int m = 0; !failed && m < MEMBERS; m++)
        for (int v = 0; v < 3; v++) {
            const double got = out[(m * 2 + 1) * 3 + v];
            if (!(fabs(got - ref[v]) <= 1e-9 * fabs(ref[v]))) {
                fprintf(stderr, "consumer: member %d var %d: %.17g, RK4 gives %.17g\n", m, v,
                        got, ref[v]);
                failed = 1;
            }
        }
    if (!failed && (ens_config_set_output_path(cfg, argv[1]) != ENS_OK ||
                    ens_run(cfg, &info) != ENS_OK)) {
        fprintf(stderr, "consumer: %s: %s\n", argv[1], ens_config_last_error(cfg));
        failed = 1;
    }
    ens_config_destroy(cfg);
    if (!failed)
        printf("consumer: ensol %s, %d members match RK4, wrote %s\n", ens_version(), MEMBERS,
               argv[1]);
    return failed;
}
