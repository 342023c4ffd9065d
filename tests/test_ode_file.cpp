/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// XPPAUT .ode files as models (src/core/ode_file.c): what a file declares
// becomes the model and the run's defaults, formulas are evaluated as
// XPPAUT defines them, and what ensol cannot run is refused as
// FILE:LINE[:COLUMN]: reason. Runs against XPPAUT itself are in
// tests/check_xppaut.py.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

extern "C" {
#include "core/models.h"
}

namespace {

struct parsed {
    ens_model_info *m = nullptr;
    ens_error err{};
    ens_status st;
    parsed(const std::string &text, const char *path = "m.ode")
        : st(ens_model_parse(text.c_str(), path, &m, &err))
    {
    }
    ~parsed() { ens_model_free(m); }
};

const char *const kOscillator = R"(# A forced Duffing oscillator
# a second comment is not the title
PAR Delta=0.2, beta=1 omega=1.2
param gamma = 0.3
number two=2
!half=gamma/two
f(u,v)=u*v
init x=1
X' = y
dy/dt = -Delta*y - beta*x^3 + x \
        + HALF*two*cos(omega*t)
y(0)=0.5
aux energy=0.5*y**2+f(x,x)/2
@ dt=0.02, total=10, meth=euler
@ nout=5, bound=1e4, maxstor=100000, xp=x
done
ignored after done
)";

TEST(OdeFile, DeclarationsBecomeTheModelAndTheRunDefaults)
{
    parsed p(kOscillator, "dir/duffing-forced.ode");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    const ens_model_info *m = p.m;
    EXPECT_STREQ(m->name, "duffing_forced");
    EXPECT_STREQ(m->title, "A forced Duffing oscillator");
    ASSERT_EQ(m->default_nvars, 2);
    EXPECT_STREQ(m->var_names[0], "x"); // names are case-insensitive
    EXPECT_STREQ(m->var_names[1], "y");
    ASSERT_EQ(m->nparams, 4);
    EXPECT_STREQ(m->params[0].name, "delta");
    EXPECT_DOUBLE_EQ(m->params[2].value, 1.2);
    EXPECT_DOUBLE_EQ(m->params[3].value, 0.3);
    ASSERT_EQ(m->base_state_len, 2);
    EXPECT_DOUBLE_EQ(m->base_state[0], 1.0);
    EXPECT_DOUBLE_EQ(m->base_state[1], 0.5);
    EXPECT_EQ(m->default_integrator, ENS_INTEGRATOR_ID_EULER);
    EXPECT_DOUBLE_EQ(m->default_dt, 0.02);
    EXPECT_EQ(m->default_steps, 500);
    EXPECT_EQ(m->default_save_every, 5);
    EXPECT_DOUBLE_EQ(m->default_blowup_bound, 1e4);
    EXPECT_EQ(m->rhs_line, 9);
}

// wiener names become the model's noise inputs, after its parameters in
// p[], in the generated source; a file with noise and no meth runs Euler.
TEST(OdeFile, WienerNamesAreNoiseInputs)
{
    parsed p("wiener w, u\npar s=0.5\nx'=-x+s*w\ny'=u\ndone\n");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    ASSERT_EQ(p.m->nnoise, 2);
    EXPECT_STREQ(p.m->noises[0].name, "w");
    EXPECT_STREQ(p.m->noises[1].name, "u");
    EXPECT_EQ(p.m->default_integrator, ENS_INTEGRATOR_ID_EULER);
    int sizes[1] = {0};
    char *src = ens_model_source(p.m, "m", sizes);
    ASSERT_NE(src, nullptr);
    const std::string s(src);
    free(src);
    EXPECT_NE(s.find("#define w (ens_p_[1])"), std::string::npos) << s;
    EXPECT_NE(s.find("#define u (ens_p_[2])"), std::string::npos) << s;
}

TEST(OdeFile, AuxQuantitiesAreItsFormulasOfTheState)
{
    parsed p(kOscillator);
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    ASSERT_EQ(ens_model_naux(p.m), 1);
    EXPECT_STREQ(ens_model_aux_name(p.m, 0), "energy");
    const double x[2] = {1.5, -2.0}, par[4] = {0.2, 1.0, 1.2, 0.3};
    double aux = 0;
    ens_model_eval_aux(p.m, 0.7, x, par, &aux);
    EXPECT_DOUBLE_EQ(aux, 0.5 * 4.0 + 1.5 * 1.5 / 2.0);
}

// XPPAUT's definitions where C's differ: heav(0) = 1, sign(0) = 0, mod's
// negative result is shifted by the divisor, flr, comparisons and if as 0/1.
TEST(OdeFile, FunctionsAsXppautDefinesThem)
{
    parsed p(R"(x'=0
aux h0=heav(0)
aux hneg=heav(-1e-300)
aux s0=sign(0)
aux sm=sign(-3)
aux m=mod(-7,3)
aux m2=mod(7,-3)
aux fl=flr(-2.5)
aux c=(x>=1)&(x<2)|not(1)
aux i=if(x<0)then(10)else(20)
aux p=2^3*2
aux e=atan2(1,1)*4-pi
done
)");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    ASSERT_EQ(ens_model_naux(p.m), 11);
    const double x[1] = {1.5};
    double a[11];
    ens_model_eval_aux(p.m, 0.0, x, nullptr, a);
    EXPECT_EQ(a[0], 1.0);
    EXPECT_EQ(a[1], 0.0);
    EXPECT_EQ(a[2], 0.0);
    EXPECT_EQ(a[3], -1.0);
    EXPECT_EQ(a[4], std::fmod(-7.0, 3.0) + 3.0);
    EXPECT_EQ(a[5], std::fmod(7.0, -3.0)); // only a negative result is shifted
    EXPECT_EQ(a[6], -3.0);
    EXPECT_EQ(a[7], 1.0);
    EXPECT_EQ(a[8], 20.0);
    EXPECT_EQ(a[9], 16.0); // ^ binds tighter than *
    EXPECT_NEAR(a[10], 0.0, 1e-15);
}

TEST(OdeFile, ArrayShorthandWithExpressionsInIndices)
{
    parsed p(R"(par k=1
u0=0
u[1..5]=x[j]-x[j-1]
x0'=0
x[1..4]'=k*(u[j+1]-u[j])
x5'=-u5
init x[1..5]=1
aux mid=x[3]*[3]
done
)");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    EXPECT_EQ(p.m->default_nvars, 6);
    ASSERT_EQ(p.m->base_state_len, 6);
    EXPECT_EQ(p.m->base_state[0], 0.0);
    EXPECT_EQ(p.m->base_state[5], 1.0);
    ASSERT_EQ(ens_model_naux(p.m), 1);
    double x[6] = {0, 1, 2, 4, 8, 16}, aux = 0, k = 1;
    ens_model_eval_aux(p.m, 0.0, x, &k, &aux);
    EXPECT_EQ(aux, 12.0);
}

TEST(OdeFile, GeneratedSourceComputesFixedQuantitiesInOrder)
{
    // b is used before it is defined: the source computes it first.
    parsed p(R"(a=2*b
b=x+1
x'=-a
done
)");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    char *src = ens_model_source(p.m, "m", nullptr);
    ASSERT_NE(src, nullptr);
    const std::string s(src);
    free(src);
    const size_t b = s.find("const ens_real b ="), a = s.find("const ens_real a =");
    ASSERT_NE(b, std::string::npos) << s;
    ASSERT_NE(a, std::string::npos) << s;
    EXPECT_LT(b, a) << s;
    EXPECT_NE(s.find("#line 2 \"m.ode\""), std::string::npos) << s;
}

struct bad_case {
    const char *what, *text, *message;
};

class BadOdeFile : public ::testing::TestWithParam<bad_case> {};

TEST_P(BadOdeFile, SaysFileLineAndWhat)
{
    parsed p(GetParam().text);
    EXPECT_NE(p.st, ENS_OK);
    EXPECT_EQ(p.m, nullptr);
    EXPECT_EQ(std::string(p.err.msg).rfind("m.ode:", 0), 0u) << p.err.msg;
    EXPECT_NE(std::string(p.err.msg).find(GetParam().message), std::string::npos) << p.err.msg;
}

INSTANTIATE_TEST_SUITE_P(
    Refused, BadOdeFile,
    ::testing::Values(
        bad_case{"table", "x'=0\ntable w % 3 0 2 t\ndone\n", "m.ode:2: tables (table)"},
        bad_case{"markov", "x'=0\nmarkov z 2\n{0} {1}\n{1} {0}\n", "m.ode:2: Markov chains"},
        bad_case{"global", "x'=-1\nglobal 1 x {x=1}\n", "m.ode:2: events (global)"},
        bad_case{"special", "special k=conv(even,5,2,w,x0)\nx0'=0\n",
                 "m.ode:1: special functions"},
        bad_case{"volterra_int", "x'=0\nu=int{exp(-t)#x}\n", "m.ode:2:3: Volterra integrals"},
        bad_case{"volterra_eq", "u(t)=exp(-t)\n", "m.ode:1: Volterra equations (u(t)=...)"},
        bad_case{"delay", "x'=-delay(x,1)\n", "m.ode:1:5: delay equations"},
        bad_case{"bdry", "x'=y\ny'=-x\nbdry x\nbdry y-1\n", "m.ode:3: boundary value problems"},
        bad_case{"algebraic", "x'=y\n0=y-x^2\n", "m.ode:2: algebraic equations (0=...)"},
        bad_case{"map", "x(t+1)=r*x*(1-x)\n", "m.ode:1: maps and difference equations"},
        bad_case{"discrete", "x'=0\n@ meth=discrete\n", "m.ode:2: meth=discrete"},
        bad_case{"include", "#include other.ode\nx'=0\n", "m.ode:1: #include"},
        bad_case{"wiener_rk4", "wiener w\nx'=w\n@ meth=rk4\n",
                 "m.ode:3: wiener noise needs meth=euler"},
        bad_case{"syntax_column", "x'=1+*x\n", "m.ode:1:6:"},
        bad_case{"unknown_name", "x'=-k*x\n", "m.ode:1:5: unknown name 'k'"},
        bad_case{"cycle", "a=b\nb=a\nx'=a\n", "m.ode:1:"},
        bad_case{"twice", "par a=1\nx'=0\na=2\n", "'a' declared twice"},
        bad_case{"no_equation", "par a=1\n", "no differential equation"},
        bad_case{"init_unknown", "x'=0\ninit z=1\n", "m.ode:2:"}),
    [](const ::testing::TestParamInfo<bad_case> &info) { return std::string(info.param.what); });

// A helper function of a model file other than its component form is
// defined once per precision, as the component is (the file's functions
// block is compiled for float and double).
TEST(ModelFile, HelperFunctionsArePerPrecision)
{
    parsed p(R"(model helpers
var x
param k = 2
functions
ENS_FN ens_real twice(ens_real v) { return 2 * v; }
end
rhs
    ddt(x) = -k * twice(x);
end
)",
             "helpers.ens");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    char *src = ens_model_source(p.m, "m", nullptr);
    ASSERT_NE(src, nullptr);
    const std::string s(src);
    free(src);
    EXPECT_NE(s.find("#define twice ENS_SYM(ens_fn_twice)"), std::string::npos) << s;
    EXPECT_NE(s.find("#undef twice"), std::string::npos) << s;
}

} // namespace
