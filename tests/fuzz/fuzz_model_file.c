/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * libFuzzer target for the model-file parser (core/model_file.c, the
 * .ens format of kernels/models/): the input is a model file's text.
 * What the parser accepts is taken further as a run takes it: variable
 * lengths and count at the default sizes, and the kernel source
 * (core/model_source.c). A crash, a sanitizer report or a hang is a
 * finding; a refusal (PATH:LINE: reason) is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/models.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ens_model_info *m = NULL;
    ens_error err;
    if (ens_model_parse(text, "fuzz.ens", &m, &err) == ENS_OK) {
        /* The parser refuses more than ENS_MODEL_MAX_SIZES sizes. */
        int sizes[ENS_MODEL_MAX_SIZES];
        ens_model_default_sizes(m, sizes);
        for (int v = 0; v < m->nvardecls; v++)
            ens_model_var_length(m, v, sizes, &err);
        if (ens_model_nvars(m, sizes, &err) > 0)
            free(ens_model_source(m, "fuzz", sizes));
        ens_model_free(m);
    }
    free(text);
    return 0;
}
