/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Dormand-Prince 5(4) with per-member step-size control, as in Hairer,
 * Norsett & Wanner, "Solving Ordinary Differential Equations I", II.4-II.6,
 * and their code DOPRI5: 7 stages, the last one evaluated at the new
 * solution and reused as the first of the next step (first same as last),
 * so a step costs 6 right-hand sides; the difference to the embedded
 * 4th-order solution estimates the error; PI step-size control; Hairer's
 * 4th-order continuous extension gives the state at any time inside the
 * last step (dense output).
 *
 * Saved states are interpolated at the save times inside the step that
 * crosses them, and the integration continues from the step's own end
 * state, never from an interpolated one: a member's step sequence does not
 * depend on where the saves are, so save_every, the output mode and the
 * batch size leave every step (and every saved bit) unchanged.
 *
 * Every operation is + - * / and comparisons: no libm or device maths
 * (pow, sqrt), whose last bits differ between compilers, so that strict
 * floating point gives the same steps on every backend. The constants are
 * ratios of integers or powers of two, rounded the same way everywhere.
 *
 * Needs a scalar ens_real (its control flow branches per member); on
 * OpenCL CPU devices the program is built with width 1 for it.
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
/* Work space: stages k2..k6, the new state, its derivative, the output. */
#define ENS_DOPRI5_WORK_PER_VAR 8
#define ENS_D5_R(num, den) ((ens_real)(num) / (ens_real)(den))

/* Settings of a run, the same for all members. */
typedef struct ENS_SYM(ens_dopri5_ctl_s) {
    ens_real h0;        /* first step (the run's dt, within the limits) */
    ens_real dt_min;    /* 0: none */
    ens_real dt_max;    /* the precision's largest finite value: none */
    ens_real t_end;     /* advance to this time */
    ens_real t0;        /* model time at t = 0, added to the stage times the
                           right-hand side sees (the member times stay
                           relative, as restart files keep them) */
    ens_i64 max_steps;  /* attempted steps per member and run */
    int fresh;          /* 1: start the members from `state` at t = 0 */
} ENS_SYM(ens_dopri5_ctl);

/*
 * One step of size h from (t, x), with k1 = f(t, x): the 5th-order solution into
 * y, f(y) into k7 and the stages k2..k6 into k[0..5nv) (for the error and
 * dense output).
 * Flops: 6 rhs + 46 per variable (with the error norm and the dense
 * output of an accepted step: 6 rhs + 82).
 */
ENS_FN void ENS_SYM(ens_dopri5_step)(int model, int nv, ens_real t,
                                      const ens_real *ENS_RESTRICT x,
                                      const ens_real *ENS_RESTRICT k1, ens_real *ENS_RESTRICT k,
                                      ens_real *ENS_RESTRICT y, ens_real *ENS_RESTRICT k7,
                                      const ens_real *ENS_RESTRICT p, ens_real h)
{
    ens_real *k2 = k, *k3 = k + nv, *k4 = k + 2 * nv, *k5 = k + 3 * nv, *k6 = k + 4 * nv;
    for (int v = 0; v < nv; v++)
        y[v] = x[v] + h * (ENS_D5_R(1, 5) * k1[v]);
    ENS_SYM(ens_rhs)(model, nv, t + ENS_D5_R(1, 5) * h, y, k2, p);
    for (int v = 0; v < nv; v++)
        y[v] = x[v] + h * (ENS_D5_R(3, 40) * k1[v] + ENS_D5_R(9, 40) * k2[v]);
    ENS_SYM(ens_rhs)(model, nv, t + ENS_D5_R(3, 10) * h, y, k3, p);
    for (int v = 0; v < nv; v++)
        y[v] = x[v] + h * (ENS_D5_R(44, 45) * k1[v] - ENS_D5_R(56, 15) * k2[v] +
                           ENS_D5_R(32, 9) * k3[v]);
    ENS_SYM(ens_rhs)(model, nv, t + ENS_D5_R(4, 5) * h, y, k4, p);
    for (int v = 0; v < nv; v++)
        y[v] = x[v] + h * (ENS_D5_R(19372, 6561) * k1[v] - ENS_D5_R(25360, 2187) * k2[v] +
                           ENS_D5_R(64448, 6561) * k3[v] - ENS_D5_R(212, 729) * k4[v]);
    ENS_SYM(ens_rhs)(model, nv, t + ENS_D5_R(8, 9) * h, y, k5, p);
    for (int v = 0; v < nv; v++)
        y[v] = x[v] + h * (ENS_D5_R(9017, 3168) * k1[v] - ENS_D5_R(355, 33) * k2[v] +
                           ENS_D5_R(46732, 5247) * k3[v] + ENS_D5_R(49, 176) * k4[v] -
                           ENS_D5_R(5103, 18656) * k5[v]);
    ENS_SYM(ens_rhs)(model, nv, t + h, y, k6, p);
    for (int v = 0; v < nv; v++)
        y[v] = x[v] + h * (ENS_D5_R(35, 384) * k1[v] + ENS_D5_R(500, 1113) * k3[v] +
                           ENS_D5_R(125, 192) * k4[v] - ENS_D5_R(2187, 6784) * k5[v] +
                           ENS_D5_R(11, 84) * k6[v]);
    ENS_SYM(ens_rhs)(model, nv, t + h, y, k7, p);
}

/* The step's error y5 - y4 in variable v (Hairer's e coefficients). */
ENS_FN ens_real ENS_SYM(ens_dopri5_err_var)(int nv, int v, const ens_real *ENS_RESTRICT k1,
                                             const ens_real *ENS_RESTRICT k,
                                             const ens_real *ENS_RESTRICT k7, ens_real h)
{
    return h * (ENS_D5_R(71, 57600) * k1[v] - ENS_D5_R(71, 16695) * k[nv + v] +
                ENS_D5_R(71, 1920) * k[2 * nv + v] - ENS_D5_R(17253, 339200) * k[3 * nv + v] +
                ENS_D5_R(22, 525) * k[4 * nv + v] - ENS_D5_R(1, 40) * k7[v]);
}

/*
 * Square of the scaled RMS error norm of SciPy and DOPRI5,
 *   err^2 = 1/nv sum_v (e_v / (atol_v + rtol_v max(|x_v|, |y_v|)))^2,
 * with tol = {rtol[nv], atol[nv]}. NaN or Inf when the step produced a
 * value that is not finite. The square root is never needed.
 */
ENS_FN ens_real ENS_SYM(ens_dopri5_error2)(int nv, const ens_real *ENS_RESTRICT x,
                                            const ens_real *ENS_RESTRICT y,
                                            const ens_real *ENS_RESTRICT k1,
                                            const ens_real *ENS_RESTRICT k,
                                            const ens_real *ENS_RESTRICT k7, ens_real h,
                                            const ENS_GLOBAL ens_real *ENS_RESTRICT tol)
{
    ens_real sum = 0;
    for (int v = 0; v < nv; v++) {
        const ens_real ax = x[v] < 0 ? -x[v] : x[v];
        const ens_real ay = y[v] < 0 ? -y[v] : y[v];
        const ens_real sc = tol[nv + v] + tol[v] * (ax > ay ? ax : ay);
        const ens_real e = ENS_SYM(ens_dopri5_err_var)(nv, v, k1, k, k7, h);
        /* atol 0 and a variable exactly 0: no scale, and no error either */
        const ens_real r = sc > 0 ? e / sc : (e == 0 ? (ens_real)0 : e / sc);
        sum += r * r;
    }
    return sum / (ens_real)nv;
}

/*
 * Hairer's continuous extension of the step x -> y of size h: five
 * coefficient vectors rc[0..5nv) such that
 *   x(t + theta h) = rc0 + theta (rc1 + (1-theta) (rc2 + theta (rc3 + (1-theta) rc4)))
 * to 4th order for theta in [0, 1].
 */
ENS_FN void ENS_SYM(ens_dopri5_dense)(int nv, const ens_real *ENS_RESTRICT x,
                                       const ens_real *ENS_RESTRICT y,
                                       const ens_real *ENS_RESTRICT k1,
                                       const ens_real *ENS_RESTRICT k,
                                       const ens_real *ENS_RESTRICT k7, ens_real h,
                                       ens_real *ENS_RESTRICT rc)
{
    for (int v = 0; v < nv; v++) {
        const ens_real ydiff = y[v] - x[v];
        const ens_real bspl = h * k1[v] - ydiff;
        rc[v] = x[v];
        rc[nv + v] = ydiff;
        rc[2 * nv + v] = bspl;
        rc[3 * nv + v] = ydiff - h * k7[v] - bspl;
        rc[4 * nv + v] =
            h * (ENS_D5_R(-12715105075, 11282082432) * k1[v] +
                 ENS_D5_R(87487479700, 32700410799) * k[nv + v] +
                 ENS_D5_R(-10690763975, 1880347072) * k[2 * nv + v] +
                 ENS_D5_R(701980252875, 199316789632) * k[3 * nv + v] +
                 ENS_D5_R(-1453857185, 822651844) * k[4 * nv + v] +
                 ENS_D5_R(69997945, 29380423) * k7[v]);
    }
}

ENS_FN void ENS_SYM(ens_dopri5_interpolate)(int nv, const ens_real *ENS_RESTRICT rc,
                                             ens_real theta, ens_real *ENS_RESTRICT out)
{
    const ens_real theta1 = (ens_real)1 - theta;
    for (int v = 0; v < nv; v++)
        out[v] = rc[v] + theta * (rc[nv + v] +
                                  theta1 * (rc[2 * nv + v] +
                                            theta * (rc[3 * nv + v] + theta1 * rc[4 * nv + v])));
}

/* log2(x) for finite x > 0 from + - * / alone (see the top of the file).
 * Within 1e-8 of log2 (1/ln 2 is rounded to float, so that both
 * precisions use one constant): far more than step-size control needs. */
ENS_FN ens_real ENS_SYM(ens_log2_pos)(ens_real x)
{
    ens_real e = 0;
    while (x >= (ens_real)0x1p16) {
        x *= (ens_real)0x1p-16;
        e += 16;
    }
    while (x < (ens_real)0x1p-16) {
        x *= (ens_real)0x1p16;
        e -= 16;
    }
    while (x >= 2) {
        x *= (ens_real)0.5;
        e += 1;
    }
    while (x < 1) {
        x *= 2;
        e -= 1;
    }
    if (x > (ens_real)0x1.6a09e6p0) { /* about sqrt(2): |s| <= 0.172 below */
        x *= (ens_real)0.5;
        e += 1;
    }
    /* ln x = 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ...), s = (x-1)/(x+1);
     * the coefficients fold to constants at compile time */
    const ens_real s = (x - 1) / (x + 1);
    const ens_real s2 = s * s;
    const ens_real sum =
        1 + s2 * (ENS_D5_R(1, 3) +
                  s2 * (ENS_D5_R(1, 5) +
                        s2 * (ENS_D5_R(1, 7) +
                              s2 * (ENS_D5_R(1, 9) +
                                    s2 * (ENS_D5_R(1, 11) +
                                          s2 * (ENS_D5_R(1, 13) + s2 * ENS_D5_R(1, 15)))))));
    return e + (2 * s * sum) * (ens_real)0x1.715476p0; /* 1 / ln 2 */
}

/* 2^y for |y| <= 64 (clamped), from + - * / alone; relative error 2e-9. */
ENS_FN ens_real ENS_SYM(ens_exp2)(ens_real y)
{
    y = y > 64 ? (ens_real)64 : (y < -64 ? (ens_real)-64 : y);
    int n = (int)y;
    if ((ens_real)n > y)
        n -= 1;
    const ens_real r = (y - (ens_real)n) * (ens_real)0x1.62e43p-1; /* ln 2 */
    /* exp(r) = sum r^k / k!, r in [0, ln 2): to k = 12, within 1.3e-12;
     * Horner from the highest power, the coefficients folded at compile time */
    ens_real e = ENS_D5_R(1, 479001600);
    e = ENS_D5_R(1, 39916800) + r * e;
    e = ENS_D5_R(1, 3628800) + r * e;
    e = ENS_D5_R(1, 362880) + r * e;
    e = ENS_D5_R(1, 40320) + r * e;
    e = ENS_D5_R(1, 5040) + r * e;
    e = ENS_D5_R(1, 720) + r * e;
    e = ENS_D5_R(1, 120) + r * e;
    e = ENS_D5_R(1, 24) + r * e;
    e = ENS_D5_R(1, 6) + r * e;
    e = ENS_D5_R(1, 2) + r * e;
    e = 1 + r * e;
    e = 1 + r * e;
    for (; n > 0; n--)
        e *= 2;
    for (; n < 0; n++)
        e *= (ens_real)0.5;
    return e;
}

/* Controller constants (DOPRI5's defaults): safety 0.9, step ratio within
 * [1/5, 10], PI exponents alpha = 0.2 - 0.75 beta and beta = 0.04. */
#define ENS_D5_SAFE ENS_D5_R(9, 10)
#define ENS_D5_ALPHA ENS_D5_R(17, 100)
#define ENS_D5_BETA ENS_D5_R(1, 25)

ENS_FN int ENS_SYM(ens_dopri5_nonfinite)(ens_real v) { return !(v - v == 0); }

/* Start a member at t = 0 from mem[0..nv) (its initial state). */
ENS_FN void ENS_SYM(ens_dopri5_start)(int model, int nv, ens_real *ENS_RESTRICT mem,
                                       ens_i64 *ENS_RESTRICT cnt,
                                       const ens_real *ENS_RESTRICT p,
                                       const ENS_SYM(ens_dopri5_ctl) *ctl)
{
    ens_real *s = mem + ENS_DOPRI5_SCALARS(nv);
    ENS_SYM(ens_rhs)(model, nv, ctl->t0, mem, mem + nv, p);
    s[ENS_D5_T] = 0;
    s[ENS_D5_T_PREV] = 0;
    s[ENS_D5_H_LAST] = 0;
    s[ENS_D5_H] = ctl->h0;
    s[ENS_D5_LFACOLD] = ENS_SYM(ens_log2_pos)(ENS_D5_R(1, 10000));
    s[ENS_D5_T_FAIL] = 0;
    cnt[ENS_D5_ACCEPTED] = 0;
    cnt[ENS_D5_REJECTED] = 0;
    cnt[ENS_D5_STATUS] = ENS_MEMBER_STATUS_OK;
    for (int v = 0; v < 2 * nv; v++)
        if (ENS_SYM(ens_dopri5_nonfinite)(mem[v]))
            cnt[ENS_D5_STATUS] = ENS_MEMBER_STATUS_NONFINITE;
}

/*
 * Advance one member until its time reaches ctl->t_end, and write its
 * state at t_end to out[nv]: interpolated inside the last step, or the
 * last state reached when the member has failed (status != 0: it then
 * never moves again). mem holds ENS_DOPRI5_REAL_ROWS(nv) values and cnt
 * ENS_DOPRI5_INT_ROWS, in the row order of ens_portable.h; work holds
 * 7 nv values; tol = {rtol[nv], atol[nv]}.
 */
ENS_FN void ENS_SYM(ens_dopri5_advance)(int model, int nv, ens_real *ENS_RESTRICT mem,
                                         ens_i64 *ENS_RESTRICT cnt, ens_real *ENS_RESTRICT work,
                                         const ens_real *ENS_RESTRICT p,
                                         const ENS_GLOBAL ens_real *ENS_RESTRICT tol,
                                         const ENS_SYM(ens_dopri5_ctl) *ctl,
                                         ens_real *ENS_RESTRICT out)
{
    ens_real *x = mem, *k1 = mem + nv, *rc = mem + 2 * nv, *s = mem + ENS_DOPRI5_SCALARS(nv);
    ens_real *k = work, *y = work + 5 * nv, *k7 = work + 6 * nv;
    const ens_real t_end = ctl->t_end;
    const ens_real lerr_min = (ens_real)-40; /* err below 2^-40 grows h as much as 0 does */
    const ens_real lfacold_min = ENS_SYM(ens_log2_pos)(ENS_D5_R(1, 10000));
    int rejected = 0; /* the previous attempt was rejected: do not grow h */

    while (cnt[ENS_D5_STATUS] == ENS_MEMBER_STATUS_OK && s[ENS_D5_T] < t_end) {
        if (cnt[ENS_D5_ACCEPTED] + cnt[ENS_D5_REJECTED] >= ctl->max_steps) {
            cnt[ENS_D5_STATUS] = ENS_MEMBER_STATUS_MAX_STEPS;
            s[ENS_D5_T_FAIL] = s[ENS_D5_T];
            break;
        }
        const ens_real t = s[ENS_D5_T];
        const ens_real h = s[ENS_D5_H];
        ENS_SYM(ens_dopri5_step)(model, nv, ctl->t0 + t, x, k1, k, y, k7, p, h);
        const ens_real err2 = ENS_SYM(ens_dopri5_error2)(nv, x, y, k1, k, k7, h, tol);
        const int finite = !ENS_SYM(ens_dopri5_nonfinite)(err2);
        ens_real lerr = 0, hnew;
        if (finite) {
            lerr = err2 > 0 ? (ens_real)0.5 * ENS_SYM(ens_log2_pos)(err2) : lerr_min;
            lerr = lerr < lerr_min ? lerr_min : lerr;
        }
        if (finite && err2 <= 1) {
            /* PI control: h (err^-alpha) (errold^beta) / safety, within [h/5, 10 h] */
            ens_real fac =
                ENS_SYM(ens_exp2)(ENS_D5_ALPHA * lerr - ENS_D5_BETA * s[ENS_D5_LFACOLD]) /
                ENS_D5_SAFE;
            fac = fac < ENS_D5_R(1, 10) ? ENS_D5_R(1, 10) : (fac > 5 ? (ens_real)5 : fac);
            hnew = h / fac;
            if (rejected && hnew > h)
                hnew = h;
            rejected = 0;
            ENS_SYM(ens_dopri5_dense)(nv, x, y, k1, k, k7, h, rc);
            for (int v = 0; v < nv; v++) {
                x[v] = y[v];
                k1[v] = k7[v];
            }
            s[ENS_D5_T_PREV] = t;
            s[ENS_D5_H_LAST] = h;
            s[ENS_D5_T] = t + h;
            s[ENS_D5_LFACOLD] = lerr > lfacold_min ? lerr : lfacold_min;
            cnt[ENS_D5_ACCEPTED] += 1;
        } else {
            /* Rejected: shrink by err^-alpha / safety (at least by 0.9, at
             * most by 5); by 5 when the step left the finite numbers. */
            const ens_real fac =
                finite ? ENS_SYM(ens_exp2)(ENS_D5_ALPHA * lerr) / ENS_D5_SAFE : (ens_real)5;
            hnew = h / (fac > 5 ? (ens_real)5 : fac);
            rejected = 1;
            cnt[ENS_D5_REJECTED] += 1;
            /* Nowhere left to go: h was already at dt_min, or too small to
             * move the time (DOPRI5's test: 0.1 h vanishes next to t). */
            if (h <= ctl->dt_min || t + ENS_D5_R(1, 10) * h == t) {
                cnt[ENS_D5_STATUS] =
                    finite ? ENS_MEMBER_STATUS_DT_MIN : ENS_MEMBER_STATUS_NONFINITE;
                s[ENS_D5_T_FAIL] = t;
                break;
            }
        }
        hnew = hnew > ctl->dt_max ? ctl->dt_max : hnew;
        s[ENS_D5_H] = hnew < ctl->dt_min ? ctl->dt_min : hnew;
    }

    if (cnt[ENS_D5_STATUS] != ENS_MEMBER_STATUS_OK || s[ENS_D5_T] == t_end) {
        for (int v = 0; v < nv; v++)
            out[v] = x[v];
    } else {
        const ens_real theta = (t_end - s[ENS_D5_T_PREV]) / s[ENS_D5_H_LAST];
        ENS_SYM(ens_dopri5_interpolate)(nv, rc, theta, out);
    }
}

/*
 * Member m of a backend's structure-of-arrays buffers, advanced to
 * ctl->t_end: what every backend runs per member (one work-item, or one
 * iteration of a CPU thread's loop). Loads the member into the private
 * arrays mem (ENS_DOPRI5_REAL_ROWS(nv)), p (nparams) and work
 * (ENS_DOPRI5_WORK_PER_VAR * nv),
 * advances it and stores it back; state receives the state at t_end.
 */
ENS_FN void ENS_SYM(ens_dopri5_member)(int model, int nv, int nparams, ens_u64 m, ens_u64 count,
                                        ENS_GLOBAL ens_real *ENS_RESTRICT state,
                                        const ENS_GLOBAL ens_real *ENS_RESTRICT params,
                                        ENS_GLOBAL ens_real *ENS_RESTRICT aux,
                                        ENS_GLOBAL ens_i64 *ENS_RESTRICT aux_int,
                                        const ENS_GLOBAL ens_real *ENS_RESTRICT tol,
                                        const ENS_SYM(ens_dopri5_ctl) *ctl,
                                        ens_real *ENS_RESTRICT mem, ens_real *ENS_RESTRICT work,
                                        ens_real *ENS_RESTRICT p)
{
    ens_i64 cnt[ENS_DOPRI5_INT_ROWS];
    const int rows = ENS_DOPRI5_REAL_ROWS(nv);
    for (int j = 0; j < nparams; j++)
        p[j] = params[(ens_u64)j * count + m];
    if (ctl->fresh) {
        for (int v = 0; v < nv; v++)
            mem[v] = state[(ens_u64)v * count + m];
        ENS_SYM(ens_dopri5_start)(model, nv, mem, cnt, p, ctl);
    } else {
        for (int r = 0; r < rows; r++)
            mem[r] = aux[(ens_u64)r * count + m];
        for (int r = 0; r < ENS_DOPRI5_INT_ROWS; r++)
            cnt[r] = aux_int[(ens_u64)r * count + m];
    }
    ens_real *out = work + 7 * nv;
    ENS_SYM(ens_dopri5_advance)(model, nv, mem, cnt, work, p, tol, ctl, out);
    for (int v = 0; v < nv; v++)
        state[(ens_u64)v * count + m] = out[v];
    for (int r = 0; r < rows; r++)
        aux[(ens_u64)r * count + m] = mem[r];
    for (int r = 0; r < ENS_DOPRI5_INT_ROWS; r++)
        aux_int[(ens_u64)r * count + m] = cnt[r];
}

#undef ENS_D5_SAFE
#undef ENS_D5_ALPHA
#undef ENS_D5_BETA
#undef ENS_D5_R
