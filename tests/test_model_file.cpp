/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// The model file parser (src/core/model_file.c) and generator
// (src/core/model_source.c): what a file declares, the built-in files, and
// bad files reported as FILE:LINE: reason.
#include <gtest/gtest.h>

#include <string>

extern "C" {
#include "core/models.h"
}

namespace {

const char *const kTwoScale = R"(model two_scale
title "two-scale test"
size K = 4 min 4
size J = 3
param F = 10 units "1" "forcing"
param h = 1/2
var X[K] units "m" "slow"
var Y[J*K] dim jk "fast"
var s "a scalar"
base 1
integrator rk4 dt 0.005
rhs
    for (int k = 0; k < K; k++) ddt(X)[k] = F - X[k];
    for (int i = 0; i < J * K; i++) ddt(Y)[i] = h * Y[i];
    ddt(s) = 0;
end
)";

struct parsed {
    ens_model_info *m = nullptr;
    ens_error err{};
    ens_status st;
    parsed(const std::string &text) : st(ens_model_parse(text.c_str(), "m.ens", &m, &err)) {}
    ~parsed() { ens_model_free(m); }
};

TEST(ModelFile, DeclarationsOfATwoArrayModel)
{
    parsed p(kTwoScale);
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    const ens_model_info *m = p.m;
    EXPECT_STREQ(m->name, "two_scale");
    ASSERT_EQ(m->nsizes, 2);
    EXPECT_EQ(m->sizes[1].value, 3);
    ASSERT_EQ(m->nparams, 2);
    EXPECT_DOUBLE_EQ(m->params[1].value, 0.5);
    EXPECT_STREQ(m->params[0].long_name, "forcing");
    ASSERT_EQ(m->nvardecls, 3);
    EXPECT_STREQ(m->vars[1].dim, "jk");
    EXPECT_STREQ(m->vars[0].dim, "k"); // default: the length in lower case
    EXPECT_STREQ(m->vars[0].units, "m");
    EXPECT_EQ(m->default_nvars, 4 + 3 * 4 + 1);
    EXPECT_EQ(m->default_integrator, ENS_INTEGRATOR_ID_RK4);
    EXPECT_DOUBLE_EQ(m->default_dt, 0.005);
    const int sizes[2] = {5, 2};
    EXPECT_EQ(ens_model_nvars(m, sizes, nullptr), 5 + 10 + 1);
}

TEST(ModelFile, SourceBindsNamesAndPointsIntoTheFile)
{
    parsed p(kTwoScale);
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    const int sizes[2] = {4, 3};
    char *src = ens_model_source(p.m, "two_scale", sizes);
    ASSERT_NE(src, nullptr);
    const std::string s(src);
    free(src);
    EXPECT_NE(s.find("#define Y (ens_x_ + 4)"), std::string::npos) << s;
    EXPECT_NE(s.find("#define s (ens_x_[16])"), std::string::npos) << s;
    EXPECT_NE(s.find("#define J 3"), std::string::npos) << s;
    EXPECT_NE(s.find("#define h (ens_p_[1])"), std::string::npos) << s;
    EXPECT_NE(s.find("#line 13 \"m.ens\""), std::string::npos) << s;
}

TEST(ModelFile, BuiltInsComeFromTheirFiles)
{
    const ens_model_info *l63 = ens_models_find("lorenz63");
    ASSERT_NE(l63, nullptr);
    EXPECT_EQ(l63->default_nvars, 3);
    EXPECT_DOUBLE_EQ(l63->param_defaults[2], 8.0 / 3.0);
    EXPECT_STREQ(l63->var_names[1], "y");
    const ens_model_info *l96 = ens_models_find("lorenz96");
    ASSERT_NE(l96, nullptr);
    EXPECT_STREQ(l96->size_param, "K");
    EXPECT_EQ(l96->min_nvars, 4);
    EXPECT_STREQ(l96->vector_dim, "k");
    for (const char *name : {"rossler", "lorenz84"})
        EXPECT_NE(ens_models_find(name), nullptr) << name;
}

TEST(ModelFile, NoiseInputsFollowTheParameters)
{
    parsed p("model ou\nparam theta = 1\nvar x\nnoise w \"white noise\"\nnoise v\nrhs\n"
             "    ddt(x) = -theta * x + w + v;\nend\n");
    ASSERT_EQ(p.st, ENS_OK) << p.err.msg;
    ASSERT_EQ(p.m->nnoise, 2);
    EXPECT_STREQ(p.m->noises[0].long_name, "white noise");
    EXPECT_EQ(p.m->noises[1].long_name, nullptr);
    EXPECT_NE(std::string(p.m->summary).find("; noise w v"), std::string::npos) << p.m->summary;
    int sizes[1] = {0};
    char *src = ens_model_source(p.m, "ou", sizes);
    ASSERT_NE(src, nullptr);
    const std::string s(src);
    free(src);
    EXPECT_NE(s.find("#define w (ens_p_[1])"), std::string::npos) << s;
    EXPECT_NE(s.find("#define v (ens_p_[2])"), std::string::npos) << s;
    EXPECT_NE(s.find("#undef v"), std::string::npos) << s;
}

struct bad_case {
    const char *what, *text, *message;
};

class BadModelFile : public ::testing::TestWithParam<bad_case> {};

TEST_P(BadModelFile, SaysFileLineAndWhy)
{
    parsed p(GetParam().text);
    EXPECT_NE(p.st, ENS_OK);
    EXPECT_EQ(p.m, nullptr);
    EXPECT_EQ(std::string(p.err.msg).rfind("m.ens:", 0), 0u) << p.err.msg;
    EXPECT_NE(std::string(p.err.msg).find(GetParam().message), std::string::npos) << p.err.msg;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadModelFile,
    ::testing::Values(
        bad_case{"no_variables", "model a\nparam b = 1\nrhs\nend\n", ":4: no variables"},
        bad_case{"duplicate", "model a\nvar x\nvar x\nrhs\nend\n",
                 ":3: duplicate name 'x'"},
        bad_case{"param_clash", "model a\nvar x\nparam x = 1\nrhs\nend\n",
                 "parameter 'x' clashes with the variable declared on line 2"},
        bad_case{"zero_length", "model a\nvar X[0]\nrhs\nend\n",
                 ":2: X[0]: the length must be a positive integer"},
        bad_case{"unknown_size", "model a\nvar X[L]\nrhs\nend\n",
                 ":2: X[L]: 'L' is not a size parameter"},
        bad_case{"size_not_integer", "model a\nsize K = 2.5\nvar X[K]\nrhs\nend\n",
                 ":2: size must be a positive integer"},
        bad_case{"reserved", "model a\nvar t\nrhs\nend\n", ":2: variable name 't' is reserved"},
        bad_case{"open_block", "model a\nvar x\nrhs\n  ddt(x) = 1;\n",
                 ":3: block without its closing line 'end'"},
        bad_case{"unknown_decl", "model a\nvariable x\n", ":2: unknown declaration variable"},
        bad_case{"noise_clash", "model a\nparam w = 1\nnoise w\nvar x\nrhs\nend\n",
                 ":3: duplicate name 'w': noise input 'w' clashes with the parameter"},
        bad_case{"noise_rk4", "model a\nvar x\nnoise w\nintegrator rk4\nrhs\nend\n",
                 ":3: noise inputs need integrator euler"},
        bad_case{"noise_no_name", "model a\nvar x\nnoise\nrhs\nend\n",
                 ":3: expected: noise NAME"},
        bad_case{"base_length", "model a\nvar x\nvar y\nbase 1 2 3\nrhs\nend\n",
                 "base: 3 values for 2 state variables"}),
    [](const ::testing::TestParamInfo<bad_case> &info) { return std::string(info.param.what); });

} // namespace
