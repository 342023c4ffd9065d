/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The model file parser: declarations, one per line, and the C blocks of
 * the right-hand side, into a model descriptor (core/models.h). Needs no C
 * compiler: the host reads names, sizes and units from here. The format
 * is described in README.md, "Your own model". */
#include "core/models.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 32
#define MAX_NAME 63

typedef struct token {
    const char *text;   /* NUL-terminated copy in the line buffer */
    int quoted;
} token;

typedef struct parser {
    const char *path;
    int line;
    ens_model_info *m;
    ens_error *err;
} parser;

static ens_status fail_at(const parser *ps, int line, const char *what, const char *detail)
{
    return ens_fail(ps->err, ENS_ERR_INVALID_ARGUMENT, "%s:%d: %s%s", ps->path, line, what,
                    detail ? detail : "");
}

static char *dup_text(const char *s)
{
    if (!s)
        return NULL;
    const size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* Split `buf` (modified) into tokens: words, '=' and quoted strings; '#'
 * starts a comment outside quotes. */
static int tokenize(char *buf, token *tok, int max)
{
    int n = 0;
    char *s = buf;
    while (*s && n < max) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            break;
        if (*s == '"') {
            char *end = strchr(s + 1, '"');
            if (!end)
                return -1;
            *end = '\0';
            tok[n++] = (token){s + 1, 1};
            s = end + 1;
        } else if (*s == '=') {
            *s = '\0';
            tok[n++] = (token){"=", 0};
            s++;
        } else {
            char *start = s;
            while (*s && !isspace((unsigned char)*s) && *s != '"' && *s != '=' && *s != '#')
                s++;
            const char c = *s;
            *s = '\0';
            tok[n++] = (token){start, 0};
            if (c == '"' || c == '=' || c == '#')
                *s = c; /* handled by the next round */
            else if (c)
                s++;
        }
    }
    return n;
}

static int is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_') || strlen(s) > MAX_NAME)
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

/* Names the generated source uses itself, or C keywords. */
static int is_reserved(const char *s)
{
    static const char *const words[] = {
        "t", "ddt", "auto", "break", "case", "char", "const", "continue", "default", "do",
        "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int",
        "long", "register", "restrict", "return", "short", "signed", "sizeof", "static",
        "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
        "half", "kernel", "global", "local", "private", "constant"};
    if (strncmp(s, "ens_", 4) == 0 || strncmp(s, "ENS_", 4) == 0)
        return 1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    return 0;
}

/* Line of an earlier declaration of `name` and what it was, or 0. */
static int declared_line(const ens_model_info *m, const char *name, const char **kind)
{
    for (int i = 0; i < m->nsizes; i++)
        if (strcmp(m->sizes[i].name, name) == 0)
            return *kind = "size parameter", m->sizes[i].line;
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return *kind = "parameter", m->params[i].line;
    for (int i = 0; i < m->nvardecls; i++)
        if (strcmp(m->vars[i].name, name) == 0)
            return *kind = "variable", m->vars[i].line;
    for (int i = 0; i < m->nnoise; i++)
        if (strcmp(m->noises[i].name, name) == 0)
            return *kind = "noise input", m->noises[i].line;
    return 0;
}

static ens_status check_new_name(const parser *ps, const char *what, const char *name)
{
    char detail[200];
    if (!is_identifier(name)) {
        snprintf(detail, sizeof detail, "%s name '%s' is not a C identifier", what, name);
        return fail_at(ps, ps->line, detail, NULL);
    }
    if (is_reserved(name)) {
        snprintf(detail, sizeof detail,
                 "%s name '%s' is reserved (C keywords, t, ddt and ens_ names)", what, name);
        return fail_at(ps, ps->line, detail, NULL);
    }
    const char *kind = NULL;
    const int line = declared_line(ps->m, name, &kind);
    if (line) {
        snprintf(detail, sizeof detail, "duplicate name '%s': %s '%s' clashes with the %s "
                 "declared on line %d", name, what, name, kind, line);
        return fail_at(ps, ps->line, detail, NULL);
    }
    return ENS_OK;
}

/* A number, optionally a ratio ("8/3"), as a default value. */
static int parse_number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return 0;
    if (*end == '/') {
        const char *d = end + 1;
        const double den = strtod(d, &end);
        if (end == d || den == 0)
            return 0;
        v /= den;
    }
    *out = v;
    return *end == '\0';
}

static int parse_int(const char *s, int *out)
{
    char *end;
    const long v = strtol(s, &end, 10);
    if (end == s || *end || v < -1000000000L || v > 1000000000L)
        return 0;
    *out = (int)v;
    return 1;
}

/* Options after a declaration's name: KEY VALUE pairs from `keys` and one
 * quoted long name. values[i] gets the value of keys[i] (or stays NULL). */
static ens_status parse_options(const parser *ps, const token *tok, int n, const char *const *keys,
                                const char **values, const char **long_name)
{
    for (int i = 0; i < n; i++) {
        if (tok[i].quoted) {
            if (*long_name)
                return fail_at(ps, ps->line, "two long names: ", tok[i].text);
            *long_name = tok[i].text;
            continue;
        }
        int k = 0;
        while (keys[k] && strcmp(keys[k], tok[i].text) != 0)
            k++;
        if (!keys[k])
            return fail_at(ps, ps->line, "unexpected word: ", tok[i].text);
        if (i + 1 >= n)
            return fail_at(ps, ps->line, "no value after ", tok[i].text);
        values[k] = tok[++i].text;
    }
    return ENS_OK;
}

/* ---- declarations -------------------------------------------------------- */

#define GROW(array, count) \
    do { \
        void *grown_ = realloc((array), sizeof *(array) * (size_t)((count) + 1)); \
        if (!grown_) \
            return ens_fail(ps->err, ENS_ERR_OUT_OF_MEMORY, "out of memory"); \
        (array) = grown_; \
        memset(&(array)[count], 0, sizeof *(array)); \
    } while (0)

static ens_status set_text(const parser *ps, const char **field, const token *tok, int n,
                           const char *key)
{
    if (n != 1)
        return fail_at(ps, ps->line, key, ": takes one value");
    if (*field)
        return fail_at(ps, ps->line, key, " given twice");
    *field = dup_text(tok[0].text);
    return *field ? ENS_OK : ens_fail(ps->err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
}

/* size NAME = INT [min INT] ["long name"] */
static ens_status decl_size(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    if (n < 3 || strcmp(tok[1].text, "=") != 0)
        return fail_at(ps, ps->line, "expected: size NAME = INTEGER [min INTEGER] [\"long name\"]",
                       NULL);
    ENS_CHECK(check_new_name(ps, "size parameter", tok[0].text));
    static const char *const keys[] = {"min", NULL};
    const char *values[1] = {NULL}, *long_name = NULL;
    ENS_CHECK(parse_options(ps, tok + 3, n - 3, keys, values, &long_name));
    int value, min = 1;
    if (!parse_int(tok[2].text, &value) || value < 1)
        return fail_at(ps, ps->line, "size must be a positive integer, not ", tok[2].text);
    if (values[0] && (!parse_int(values[0], &min) || min < 1))
        return fail_at(ps, ps->line, "min must be a positive integer, not ", values[0]);
    if (value < min)
        return fail_at(ps, ps->line, "default size below its min", NULL);
    GROW(m->sizes, m->nsizes);
    m->sizes[m->nsizes++] = (ens_model_size){dup_text(tok[0].text), dup_text(long_name), value,
                                             min, ps->line};
    return ENS_OK;
}

/* Room for one more of `count`, which holds at most `max`. */
static ens_status check_room(const parser *ps, int count, int max, const char *what)
{
    if (count < max)
        return ENS_OK;
    char detail[64];
    snprintf(detail, sizeof detail, "more than %d %s", max, what);
    return fail_at(ps, ps->line, detail, NULL);
}

/* param NAME = NUMBER [units "U"] ["long name"] */
static ens_status decl_param(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    if (n < 3 || strcmp(tok[1].text, "=") != 0)
        return fail_at(ps, ps->line, "expected: param NAME = NUMBER [units \"U\"] [\"long name\"]",
                       NULL);
    ENS_CHECK(check_new_name(ps, "parameter", tok[0].text));
    static const char *const keys[] = {"units", NULL};
    const char *values[1] = {NULL}, *long_name = NULL;
    ENS_CHECK(parse_options(ps, tok + 3, n - 3, keys, values, &long_name));
    double value;
    if (!parse_number(tok[2].text, &value))
        return fail_at(ps, ps->line, "not a number: ", tok[2].text);
    ENS_CHECK(check_room(ps, m->nparams, ENS_MAX_PARAMS, "parameters"));
    GROW(m->params, m->nparams);
    m->params[m->nparams++] = (ens_model_param){dup_text(tok[0].text), dup_text(long_name),
                                                dup_text(values[0]), value, ps->line};
    return ENS_OK;
}

/* noise NAME ["long name"] */
static ens_status decl_noise(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    if (n < 1 || n > 2 || tok[0].quoted || (n == 2 && !tok[1].quoted))
        return fail_at(ps, ps->line, "expected: noise NAME [\"long name\"]", NULL);
    ENS_CHECK(check_new_name(ps, "noise input", tok[0].text));
    ENS_CHECK(check_room(ps, m->nnoise, ENS_MAX_NOISE, "noise inputs"));
    GROW(m->noises, m->nnoise);
    m->noises[m->nnoise++] =
        (ens_model_noise){dup_text(tok[0].text), dup_text(n == 2 ? tok[1].text : NULL), ps->line};
    return ENS_OK;
}

/* var NAME | NAME[LENGTH] [dim D] [units "U"] ["long name"] */
static ens_status decl_var(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    if (n < 1)
        return fail_at(ps, ps->line, "expected: var NAME[LENGTH] [dim D] [units \"U\"] [\"long "
                       "name\"]", NULL);
    char name[MAX_NAME + 2] = "", length[128] = "";
    const char *open = strchr(tok[0].text, '[');
    if (open) {
        const size_t len = strlen(open);
        if (open[len - 1] != ']' || len < 3 || len - 2 >= sizeof length ||
            (size_t)(open - tok[0].text) > MAX_NAME)
            return fail_at(ps, ps->line, "expected NAME[LENGTH], not ", tok[0].text);
        memcpy(name, tok[0].text, (size_t)(open - tok[0].text));
        memcpy(length, open + 1, len - 2);
    } else {
        snprintf(name, sizeof name, "%s", tok[0].text);
    }
    ENS_CHECK(check_new_name(ps, "variable", name));
    static const char *const keys[] = {"dim", "units", NULL};
    const char *values[2] = {NULL, NULL}, *long_name = NULL;
    ENS_CHECK(parse_options(ps, tok + 1, n - 1, keys, values, &long_name));
    if (values[0] && !is_identifier(values[0]))
        return fail_at(ps, ps->line, "dimension name is not an identifier: ", values[0]);
    char dim[MAX_NAME + 1];
    if (open && !values[0]) { /* default dimension: the length in lower case, letters only */
        size_t k = 0;
        for (const char *c = length; *c && k < MAX_NAME; c++)
            if (isalnum((unsigned char)*c))
                dim[k++] = (char)tolower((unsigned char)*c);
        dim[k] = '\0';
        if (!k || isdigit((unsigned char)dim[0]))
            snprintf(dim, sizeof dim, "%s_index", name);
    }
    GROW(m->vars, m->nvardecls);
    m->vars[m->nvardecls++] = (ens_model_var){
        dup_text(name), dup_text(long_name), dup_text(values[1] ? values[1] : "1"),
        open ? dup_text(length) : NULL, open ? dup_text(values[0] ? values[0] : dim) : NULL,
        ps->line};
    return ENS_OK;
}

static ens_status decl_base(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    if (n < 1 || m->base_state)
        return fail_at(ps, ps->line, n < 1 ? "base: no values" : "base given twice", NULL);
    m->base_state = calloc((size_t)n, sizeof *m->base_state);
    if (!m->base_state)
        return ens_fail(ps->err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n; i++)
        if (tok[i].quoted || !parse_number(tok[i].text, &m->base_state[i]))
            return fail_at(ps, ps->line, "base: not a number: ", tok[i].text);
    m->base_state_len = n;
    return ENS_OK;
}

/* integrator NAME [dt NUMBER] */
static ens_status decl_integrator(const parser *ps, const token *tok, int n)
{
    static const char *const names[] = {
#define ENS_INTEGRATOR_NAME(id, name) #name,
        ENS_INTEGRATOR_LIST(ENS_INTEGRATOR_NAME)
#undef ENS_INTEGRATOR_NAME
    };
    ens_model_info *m = ps->m;
    if (n != 1 && !(n == 3 && strcmp(tok[1].text, "dt") == 0))
        return fail_at(ps, ps->line, "expected: integrator NAME [dt NUMBER]", NULL);
    m->default_integrator = -1;
    for (int i = 0; i < ENS_INTEGRATOR_COUNT; i++)
        if (strcmp(tok[0].text, names[i]) == 0)
            m->default_integrator = i;
    if (m->default_integrator < 0)
        return fail_at(ps, ps->line, "unknown integrator ", tok[0].text);
    if (n == 3 && (!parse_number(tok[2].text, &m->default_dt) || !(m->default_dt > 0)))
        return fail_at(ps, ps->line, "dt must be a positive number, not ", tok[2].text);
    return ENS_OK;
}

/* flops A [per_var B] */
static ens_status decl_flops(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    if (!(n == 1 || (n == 3 && strcmp(tok[1].text, "per_var") == 0)) ||
        !parse_number(tok[0].text, &m->rhs_flops_const) ||
        (n == 3 && !parse_number(tok[2].text, &m->rhs_flops_per_var)))
        return fail_at(ps, ps->line, "expected: flops NUMBER [per_var NUMBER]", NULL);
    return ENS_OK;
}

static ens_status declaration(const parser *ps, const token *tok, int n)
{
    ens_model_info *m = ps->m;
    const char *key = tok[0].text;
    tok++, n--;
    if (strcmp(key, "model") == 0) {
        if (n == 1 && (!is_identifier(tok[0].text) || tok[0].quoted))
            return fail_at(ps, ps->line, "model name is not an identifier: ", tok[0].text);
        return set_text(ps, &m->name, tok, n, key);
    }
    if (strcmp(key, "title") == 0)
        return set_text(ps, &m->title, tok, n, key);
    if (strcmp(key, "time_units") == 0)
        return set_text(ps, &m->time_units, tok, n, key);
    if (strcmp(key, "component") == 0)
        return set_text(ps, &m->component, tok, n, key);
    if (strcmp(key, "size") == 0)
        return decl_size(ps, tok, n);
    if (strcmp(key, "param") == 0)
        return decl_param(ps, tok, n);
    if (strcmp(key, "var") == 0)
        return decl_var(ps, tok, n);
    if (strcmp(key, "noise") == 0)
        return decl_noise(ps, tok, n);
    if (strcmp(key, "base") == 0)
        return decl_base(ps, tok, n);
    if (strcmp(key, "integrator") == 0)
        return decl_integrator(ps, tok, n);
    if (strcmp(key, "flops") == 0)
        return decl_flops(ps, tok, n);
    return fail_at(ps, ps->line, "unknown declaration ", key);
}

static void free_decls(ens_model_info *m)
{
    for (int i = 0; i < m->nsizes; i++) {
        free((char *)m->sizes[i].name);
        free((char *)m->sizes[i].long_name);
    }
    for (int i = 0; i < m->nparams; i++) {
        free((char *)m->params[i].name);
        free((char *)m->params[i].long_name);
        free((char *)m->params[i].units);
    }
    for (int i = 0; i < m->nvardecls; i++) {
        free((char *)m->vars[i].name);
        free((char *)m->vars[i].long_name);
        free((char *)m->vars[i].units);
        free((char *)m->vars[i].length);
        free((char *)m->vars[i].dim);
    }
    for (int i = 0; i < m->nnoise; i++) {
        free((char *)m->noises[i].name);
        free((char *)m->noises[i].long_name);
    }
    free(m->sizes);
    free(m->params);
    free(m->vars);
    free(m->noises);
}

void ens_model_free(ens_model_info *m)
{
    if (!m)
        return;
    free_decls(m);
    free((char *)m->name);
    free((char *)m->title);
    free((char *)m->path);
    free((char *)m->time_units);
    free(m->base_state);
    free((char *)m->functions);
    free((char *)m->component);
    free((char *)m->rhs);
    ens_ode_program_free(m->ode);
    free(m);
}

/* ---- array lengths -------------------------------------------------------- */

typedef struct length_expr {
    const char *s;
    const ens_model_info *m;
    const int *sizes;
    const char *bad; /* first name that is not a size parameter */
} length_expr;

static long long length_sum(length_expr *e);

static void skip_space(length_expr *e)
{
    while (isspace((unsigned char)*e->s))
        e->s++;
}

static long long length_atom(length_expr *e)
{
    skip_space(e);
    if (*e->s == '(') {
        e->s++;
        const long long v = length_sum(e);
        skip_space(e);
        if (*e->s != ')')
            return -1;
        e->s++;
        return v;
    }
    if (isdigit((unsigned char)*e->s)) {
        long long v = 0;
        while (isdigit((unsigned char)*e->s) && v < 1000000000LL)
            v = 10 * v + (*e->s++ - '0');
        return v;
    }
    const char *start = e->s;
    while (isalnum((unsigned char)*e->s) || *e->s == '_')
        e->s++;
    for (int i = 0; i < e->m->nsizes && e->s > start; i++)
        if (strlen(e->m->sizes[i].name) == (size_t)(e->s - start) &&
            strncmp(e->m->sizes[i].name, start, (size_t)(e->s - start)) == 0)
            return e->sizes[i];
    if (!e->bad)
        e->bad = start;
    return -1;
}

static long long length_product(length_expr *e)
{
    long long v = length_atom(e);
    for (skip_space(e); *e->s == '*' && v >= 0; skip_space(e)) {
        e->s++;
        const long long w = length_atom(e);
        v = w < 0 ? -1 : v * w;
        if (v > 1000000000LL)
            v = -1;
    }
    return v;
}

static long long length_sum(length_expr *e)
{
    long long v = length_product(e);
    for (skip_space(e); *e->s == '+' && v >= 0; skip_space(e)) {
        e->s++;
        const long long w = length_product(e);
        v = w < 0 ? -1 : v + w;
    }
    return v;
}

long long ens_model_var_length(const ens_model_info *m, int v, const int *sizes, ens_error *err)
{
    const ens_model_var *var = &m->vars[v];
    if (!var->length)
        return 1;
    length_expr e = {var->length, m, sizes, NULL};
    long long n = length_sum(&e);
    skip_space(&e);
    if (*e.s)
        n = -1;
    if (n >= 1)
        return n;
    const char *path = m->path ? m->path : m->name;
    if (e.bad)
        ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                 "%s:%d: %s[%s]: '%.*s' is not a size parameter (declare it with size)", path,
                 var->line, var->name, var->length, (int)strcspn(e.bad, " *+()"), e.bad);
    else
        ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                 "%s:%d: %s[%s]: the length must be a positive integer (products and sums of "
                 "integers and size parameters)", path, var->line, var->name, var->length);
    return -1;
}

long long ens_model_nvars(const ens_model_info *m, const int *sizes, ens_error *err)
{
    long long total = 0;
    for (int v = 0; v < m->nvardecls; v++) {
        const long long n = ens_model_var_length(m, v, sizes, err);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

/* ---- the whole file -------------------------------------------------------- */

/* Collect a C block's lines up to a line `end`; *pos moves past it. */
static ens_status read_block(parser *ps, const char **pos, const char **field, int *first_line)
{
    const int start = ps->line;
    const char *body = *pos;
    for (const char *s = *pos; *s;) {
        const char *eol = strchr(s, '\n');
        const size_t len = eol ? (size_t)(eol - s) : strlen(s);
        ps->line++;
        size_t a = 0, b = len;
        while (a < b && isspace((unsigned char)s[a]))
            a++;
        while (b > a && isspace((unsigned char)s[b - 1]))
            b--;
        if (b - a == 3 && strncmp(s + a, "end", 3) == 0) {
            if (*field)
                return fail_at(ps, start, "block given twice", NULL);
            char *text = malloc((size_t)(s - body) + 1);
            if (!text)
                return ens_fail(ps->err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
            memcpy(text, body, (size_t)(s - body));
            text[s - body] = '\0';
            *field = text;
            *first_line = start + 1;
            *pos = eol ? eol + 1 : s + len;
            return ENS_OK;
        }
        s = eol ? eol + 1 : s + len;
    }
    return fail_at(ps, start, "block without its closing line 'end'", NULL);
}

static ens_status parse_lines(parser *ps, const char *text)
{
    const char *pos = text;
    char buf[1024];
    while (*pos) {
        const char *eol = strchr(pos, '\n');
        const size_t len = eol ? (size_t)(eol - pos) : strlen(pos);
        ps->line++;
        if (len >= sizeof buf)
            return fail_at(ps, ps->line, "line too long", NULL);
        memcpy(buf, pos, len);
        buf[len] = '\0';
        pos = eol ? eol + 1 : pos + len;
        token tok[MAX_TOKENS];
        const int n = tokenize(buf, tok, MAX_TOKENS);
        if (n < 0)
            return fail_at(ps, ps->line, "unterminated string", NULL);
        if (n == 0)
            continue;
        if (n == 1 && !tok[0].quoted && strcmp(tok[0].text, "rhs") == 0)
            ENS_CHECK(read_block(ps, &pos, &ps->m->rhs, &ps->m->rhs_line));
        else if (n == 1 && !tok[0].quoted && strcmp(tok[0].text, "functions") == 0)
            ENS_CHECK(read_block(ps, &pos, &ps->m->functions, &ps->m->functions_line));
        else
            ENS_CHECK(declaration(ps, tok, n));
    }
    return ENS_OK;
}

/* The view of the host's registry and writer: the variable count at the
 * default sizes, and the scalars-or-one-array names. */
static void derive_views(ens_model_info *m)
{
    m->fixed_nvars = m->nsizes == 0;
    if (m->nsizes == 1 && m->nvardecls == 1 && m->vars[0].length &&
        strcmp(m->vars[0].length, m->sizes[0].name) == 0) {
        m->size_param = m->sizes[0].name;
        m->min_nvars = m->sizes[0].min;
    }
    int scalars = 0;
    for (int v = 0; v < m->nvardecls; v++)
        scalars += m->vars[v].length == NULL;
    if (scalars == m->nvardecls && scalars <= 4) {
        for (int v = 0; v < scalars; v++) {
            m->var_names[v] = m->vars[v].name;
            m->var_long_names[v] = m->vars[v].long_name;
        }
    } else if (m->nvardecls == 1) {
        m->vector_name = m->vars[0].name;
        m->vector_long_name = m->vars[0].long_name;
        m->vector_dim = m->vars[0].dim;
    } else {
        /* Several arrays, or arrays and scalars: the writer's one view is
         * the whole state vector, its long name saying what lies where. */
        char *s = m->state_long_name_buf;
        const size_t size = sizeof m->state_long_name_buf;
        size_t used = (size_t)snprintf(s, size, "state vector:");
        for (int v = 0; v < m->nvardecls && used < size; v++)
            used += (size_t)snprintf(s + used, size - used, "%s %s%s%s%s", v ? "," : "",
                                     m->vars[v].name, m->vars[v].length ? "[" : "",
                                     m->vars[v].length ? m->vars[v].length : "",
                                     m->vars[v].length ? "]" : "");
        m->vector_name = "state";
        m->vector_long_name = m->state_long_name_buf;
        m->vector_dim = "state_index";
    }
    m->units = m->vars[0].units;
    for (int j = 0; j < m->nparams; j++) {
        m->param_names[j] = m->params[j].name;
        m->param_long_names[j] = m->params[j].long_name;
        m->param_defaults[j] = m->params[j].value;
    }
    /* "lorenz63  3 variables x, y, z; parameters sigma=10 rho=28 beta=2.66667" */
    char *s = m->summary_buf;
    const size_t size = sizeof m->summary_buf;
    size_t used = (size_t)snprintf(s, size, "%s  %d variables", m->name, m->default_nvars);
    for (int v = 0; v < m->nvardecls && used < size; v++)
        used += (size_t)snprintf(s + used, size - used, "%s%s%s%s%s", v ? ", " : " ",
                                 m->vars[v].name, m->vars[v].length ? "[" : "",
                                 m->vars[v].length ? m->vars[v].length : "",
                                 m->vars[v].length ? "]" : "");
    for (int i = 0; i < m->nsizes && used < size; i++)
        used += (size_t)snprintf(s + used, size - used, "%s%s=%d (>= %d)", i ? " " : "; sizes ",
                                 m->sizes[i].name, m->sizes[i].value, m->sizes[i].min);
    for (int j = 0; j < m->nparams && used < size; j++)
        used += (size_t)snprintf(s + used, size - used, "%s%s=%g", j ? " " : "; parameters ",
                                 m->params[j].name, m->params[j].value);
    for (int k = 0; k < m->nnoise && used < size; k++)
        used += (size_t)snprintf(s + used, size - used, "%s%s", k ? " " : "; noise ",
                                 m->noises[k].name);
    m->summary = m->summary_buf;
}

static ens_status finish(parser *ps)
{
    ens_model_info *m = ps->m;
    if (!m->name)
        return fail_at(ps, 1, "no 'model NAME' line", NULL);
    if (m->nvardecls == 0)
        return fail_at(ps, ps->line, "no variables (declare them with: var NAME)", NULL);
    if (!m->rhs)
        return fail_at(ps, ps->line, "no right-hand side (a block 'rhs' ... 'end')", NULL);
    if (m->nnoise > 0 && m->default_integrator >= 0 &&
        m->default_integrator != ENS_INTEGRATOR_ID_EULER)
        return fail_at(ps, m->noises[0].line,
                       "noise inputs need integrator euler (Euler-Maruyama)", NULL);
    int defaults[ENS_MODEL_MAX_SIZES];
    if (m->nsizes > ENS_MODEL_MAX_SIZES)
        return fail_at(ps, m->sizes[ENS_MODEL_MAX_SIZES].line, "more than 64 size parameters",
                       NULL);
    ens_model_default_sizes(m, defaults);
    const long long nvars = ens_model_nvars(m, defaults, ps->err);
    if (nvars < 0)
        return ENS_ERR_INVALID_ARGUMENT;
    if (nvars > 1000000)
        return fail_at(ps, m->vars[0].line, "more than 1000000 state variables", NULL);
    m->default_nvars = (int)nvars;
    if (!m->base_state) {
        m->base_state = calloc(1, sizeof *m->base_state);
        if (!m->base_state)
            return ens_fail(ps->err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
        m->base_state_len = 1;
    }
    if (m->base_state_len != 1 && m->base_state_len != m->default_nvars) {
        char detail[96];
        snprintf(detail, sizeof detail, "base: %d values for %d state variables (give 1 or %d)",
                 m->base_state_len, m->default_nvars, m->default_nvars);
        return fail_at(ps, ps->line, detail, NULL);
    }
    if (!m->time_units && !(m->time_units = dup_text("1")))
        return ens_fail(ps->err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    derive_views(m);
    return ENS_OK;
}

ens_status ens_model_parse(const char *text, const char *path, ens_model_info **out,
                           ens_error *err)
{
    const size_t n = path ? strlen(path) : 0;
    if (n > 4 && strcmp(path + n - 4, ".ode") == 0)
        return ens_ode_parse(text, path, out, err);
    return ens_model_parse_text(text, path, out, err);
}

ens_status ens_model_parse_text(const char *text, const char *path, ens_model_info **out,
                                ens_error *err)
{
    ens_model_info *m = calloc(1, sizeof *m);
    if (!m)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    m->id = -1;
    m->default_integrator = -1;
    m->path = dup_text(path ? path : "(model source)");
    parser ps = {m->path, 0, m, err};
    ens_status st = m->path ? parse_lines(&ps, text) : ENS_ERR_OUT_OF_MEMORY;
    if (st == ENS_OK)
        st = finish(&ps);
    if (st != ENS_OK) {
        ens_model_free(m);
        return st;
    }
    *out = m;
    return ENS_OK;
}

ens_status ens_model_read_file(const char *path, ens_model_info **out, ens_error *err)
{
    if (!path || !path[0])
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "model file: no path given");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "model file '%s': cannot be read", path);
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    ens_status st = ENS_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *grown = cap > ((size_t)64 << 20) ? NULL : realloc(text, cap);
            if (!grown) {
                st = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                              "model file '%s': too large (or out of memory)", path);
                break;
            }
            text = grown;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    if (st == ENS_OK && ferror(f))
        st = ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "model file '%s': read error", path);
    fclose(f);
    if (st == ENS_OK) {
        if (!text && !(text = calloc(1, 1)))
            st = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
        else
            text[len] = '\0';
    }
    if (st == ENS_OK && strlen(text) != len)
        st = ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "model file '%s': not a text file", path);
    if (st == ENS_OK)
        st = ens_model_parse(text, path, out, err);
    free(text);
    return st;
}

void ens_model_default_sizes(const ens_model_info *m, int sizes[ENS_MODEL_MAX_SIZES])
{
    for (int i = 0; i < m->nsizes && i < ENS_MODEL_MAX_SIZES; i++)
        sizes[i] = m->sizes[i].value;
}
