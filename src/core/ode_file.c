/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* XPPAUT's .ode files as models: the file is read into the model
 * descriptor of core/models.h (variables, parameters, base state, default
 * integration) with a right-hand side generated in the portable C subset,
 * so that every backend, integrator and output mode runs it like a model
 * file. The language is XPPAUT's (Ermentrout, "Simulating, Analyzing, and
 * Animating Dynamical Systems", 2002); what ensol cannot run is refused as
 * FILE:LINE: reason. Auxiliary quantities are kept as expression trees the
 * host evaluates at each saved time (ens_model_eval_aux). */
#include "core/models.h"
#include "core/text.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 63
#define MAX_LINE 4096
#define MAX_ARGS 9
#define MAX_INLINE_DEPTH 32
/* XPPAUT's defaults for what a file's options leave unset. */
#define XPP_DEFAULT_DT 0.05
#define XPP_DEFAULT_TOTAL 20.0

/* ---- symbols and expression trees ------------------------------------------ */

typedef enum sym_kind {
    SYM_VAR,     /* a state variable: x'=..., dx/dt=... */
    SYM_PAR,     /* par */
    SYM_NUM,     /* number: a constant */
    SYM_FIX,     /* a fixed quantity name=..., or a derived parameter !name=... */
    SYM_AUX,     /* aux: written to the file, not usable in formulas */
    SYM_NOISE,   /* wiener */
    SYM_FUNC     /* a user function f(a,b)=... */
} sym_kind;

typedef struct sym {
    char name[MAX_NAME + 1];   /* as in the file, lower case */
    char cname[MAX_NAME + 2];  /* in generated C (a trailing _ where it would clash) */
    sym_kind kind;
    int index;                 /* among symbols of its kind */
    int line;
    double value;              /* par, number, and the initial value of a variable */
    /* formulas: the text after '=' and where it starts */
    const char *expr;
    int expr_col;
    int root;                  /* parsed tree; -1 before */
    int nargs;                 /* functions */
    char args[MAX_ARGS][MAX_NAME + 1];
    int state;                 /* fixed quantities: 0 new, 1 ordering, 2 ordered */
} sym;

typedef enum node_kind {
    NODE_NUM, NODE_VAR, NODE_PAR, NODE_FIX, NODE_TIME, NODE_NOISE,
    NODE_NEG, NODE_BIN, NODE_CALL, NODE_IF
} node_kind;

/* Built-in functions: name, argument count, C spelling. */
typedef enum fn_id {
    FN_SIN, FN_COS, FN_TAN, FN_ASIN, FN_ACOS, FN_ATAN, FN_ATAN2, FN_SINH, FN_COSH, FN_TANH,
    FN_EXP, FN_LN, FN_LOG, FN_LOG10, FN_SQRT, FN_ABS, FN_HEAV, FN_SIGN, FN_MAX, FN_MIN,
    FN_MOD, FN_FLR, FN_CEIL, FN_NOT, FN_COUNT
} fn_id;

static const struct {
    const char *name;
    int nargs;
    const char *c;
} builtins[FN_COUNT] = {
    {"sin", 1, "sin"},     {"cos", 1, "cos"},     {"tan", 1, "tan"},
    {"asin", 1, "asin"},   {"acos", 1, "acos"},   {"atan", 1, "atan"},
    {"atan2", 2, "atan2"}, {"sinh", 1, "sinh"},   {"cosh", 1, "cosh"},
    {"tanh", 1, "tanh"},   {"exp", 1, "exp"},     {"ln", 1, "log"},
    {"log", 1, "log"},     {"log10", 1, "log10"}, {"sqrt", 1, "sqrt"},
    {"abs", 1, "fabs"},    {"heav", 1, "ens_ode_heav"}, {"sign", 1, "ens_ode_sign"},
    {"max", 2, "fmax"},    {"min", 2, "fmin"},    {"mod", 2, "ens_ode_mod"},
    {"flr", 1, "floor"},   {"ceil", 1, "ceil"},   {"not", 1, "ens_ode_not"},
};

typedef struct node {
    node_kind kind;
    int op;          /* NODE_BIN: '+', '-', '*', '/', '^', '<', '>', 'l' (<=), 'g' (>=),
                        'e' (==), 'n' (!=), '&', '|'; NODE_CALL: fn_id */
    int a, b, c;     /* children */
    int index;       /* symbol index of its kind */
    double value;
} node;

struct ens_ode_program {
    node *nodes;
    int nnodes, cap;
    /* Fixed quantities in the order they are computed (each after what it
     * uses), and the aux formulas' roots. */
    int nfix, *fix_roots;
    int naux, *aux_roots;
    int nnoise;
    char **aux_names;
};

/* ---- the reader ---------------------------------------------------------------- */

typedef struct stmt {
    char *text;     /* one statement, lower case, continuation lines joined */
    int line;
} stmt;

typedef struct reader {
    const char *path;
    ens_error *err;
    stmt *stmts;
    int nstmts, stmt_cap;
    sym *syms;
    int nsyms, sym_cap;
    int count[SYM_FUNC + 1];
    ens_ode_program *prog;
    /* options */
    double dt, total;
    int meth, meth_line;     /* enum ens_integrator_id, -1 none */
    long long nout;
    double bound;
    char meth_unmapped[32];  /* a method without a counterpart here */
    char title[160];
    /* the expression being parsed */
    const char *s;
    int pos, line, col0;
    int depth;
    int arg_nodes[MAX_INLINE_DEPTH][MAX_ARGS];
    const sym *arg_func[MAX_INLINE_DEPTH];
} reader;

static ens_status fail_line(reader *r, int line, const char *fmt, ...) ENS_PRINTF_LIKE(3, 4);
static ens_status fail_line(reader *r, int line, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ens_fail(r->err, ENS_ERR_INVALID_ARGUMENT, "%s:%d: %s", r->path, line, msg);
}

/* An error in the expression being parsed, at its column (from 1). */
static ens_status fail_here(reader *r, const char *fmt, ...) ENS_PRINTF_LIKE(2, 3);
static ens_status fail_here(reader *r, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ens_fail(r->err, ENS_ERR_INVALID_ARGUMENT, "%s:%d:%d: %s", r->path, r->line,
                    r->col0 + r->pos + 1, msg);
}

#define OOM(r) ens_fail((r)->err, ENS_ERR_OUT_OF_MEMORY, "out of memory")

static char *dup_text(const char *s)
{
    const size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static int is_name_start(int c) { return isalpha(c) || c == '_'; }
static int is_name_char(int c) { return isalnum(c) || c == '_'; }

/* ---- statements: comments, continuations, case, array shorthand --------------- */

static ens_status add_stmt(reader *r, const char *text, int line)
{
    if (r->nstmts == r->stmt_cap) {
        const int cap = r->stmt_cap ? 2 * r->stmt_cap : 64;
        stmt *grown = realloc(r->stmts, (size_t)cap * sizeof *grown);
        if (!grown)
            return OOM(r);
        r->stmts = grown;
        r->stmt_cap = cap;
    }
    char *copy = dup_text(text);
    if (!copy)
        return OOM(r);
    r->stmts[r->nstmts++] = (stmt){copy, line};
    return ENS_OK;
}

/* An integer expression inside [...]: + - * / and parentheses, of the index
 * j where j is given (an array statement). */
static int index_expr(const char **s, const long *j, long *out);
static int index_atom(const char **s, const long *j, long *out)
{
    while (**s == ' ')
        (*s)++;
    if (**s == '(') {
        (*s)++;
        if (!index_expr(s, j, out))
            return 0;
        while (**s == ' ')
            (*s)++;
        return *(*s)++ == ')';
    }
    if (**s == '-') {
        (*s)++;
        if (!index_atom(s, j, out))
            return 0;
        *out = -*out;
        return 1;
    }
    if (**s == 'j' && !is_name_char((unsigned char)(*s)[1]) && j) {
        (*s)++;
        *out = *j;
        return 1;
    }
    if (isdigit((unsigned char)**s)) {
        char *end;
        *out = strtol(*s, &end, 10);
        *s = end;
        return 1;
    }
    return 0;
}

static int index_term(const char **s, const long *j, long *out)
{
    if (!index_atom(s, j, out))
        return 0;
    for (;;) {
        while (**s == ' ')
            (*s)++;
        const char op = **s;
        if (op != '*' && op != '/')
            return 1;
        (*s)++;
        long v;
        if (!index_atom(s, j, &v) || (op == '/' && v == 0))
            return 0;
        *out = op == '*' ? *out * v : *out / v;
    }
}

static int index_expr(const char **s, const long *j, long *out)
{
    if (!index_term(s, j, out))
        return 0;
    for (;;) {
        while (**s == ' ')
            (*s)++;
        const char op = **s;
        if (op != '+' && op != '-')
            return 1;
        (*s)++;
        long v;
        if (!index_term(s, j, &v))
            return 0;
        *out = op == '+' ? *out + v : *out - v;
    }
}

/* `text` with each [expression] replaced by its value, glued to a name
 * before it (x[j+1] is x3 for j = 2), into out (MAX_LINE bytes); j NULL
 * outside an array statement. */
static ens_status put_indices(reader *r, const char *text, const long *j, char *out, int line)
{
    size_t n = 0;
    for (const char *c = text; *c && n + 32 < MAX_LINE;) {
        const int after_name = c > text && is_name_char((unsigned char)c[-1]);
        if (*c == '[' && after_name && c - text >= 3 && strncmp(c - 3, "int", 3) == 0 &&
            (c - text == 3 || !is_name_char((unsigned char)c[-4])))
            return fail_line(r, line, "Volterra integrals (int{...}): not supported");
        const char *e = c + 1;
        long v;
        if (*c == '[' && (index_expr(&e, j, &v) && *e == ']')) {
            /* x[j+1] glued to its name; [j] alone the number */
            n += (size_t)snprintf(out + n, MAX_LINE - n, "%ld", v);
            c = e + 1;
        } else if (*c == '[' && after_name) {
            return fail_line(r, line, "array index: expected [%s], at '%.20s'",
                             j ? "expression of j" : "integer expression", c);
        } else {
            out[n++] = *c++;
        }
    }
    out[n] = '\0';
    return n + 32 < MAX_LINE ? ENS_OK : fail_line(r, line, "line too long");
}

/* x[1..N]'=...[j]...: one statement per j, the name's [FIRST..LAST] by j
 * and each [expression] by its value. */
static ens_status expand_arrays(reader *r, const char *text, int line)
{
    const char *open = strstr(text, "..");
    const char *lb = open ? open : NULL;
    while (lb && lb > text && *lb != '[')
        lb--;
    char *out = malloc(MAX_LINE);
    if (!out)
        return OOM(r);
    ens_status st = ENS_OK;
    if (!open || !lb || *lb != '[') {
        st = put_indices(r, text, NULL, out, line);
        if (st == ENS_OK)
            st = add_stmt(r, out, line);
        free(out);
        return st;
    }
    const char *s = lb + 1;
    long lo = 0, hi = 0;
    if (!index_expr(&s, NULL, &lo) || strncmp(s, "..", 2) != 0 ||
        (s += 2, !index_expr(&s, NULL, &hi)) || *s != ']')
        st = fail_line(r, line, "array range: expected [FIRST..LAST]");
    else if (hi < lo || hi - lo > 100000)
        st = fail_line(r, line, "array range [%ld..%ld]: empty or too long", lo, hi);
    const char *after = s + 1;
    char *row = malloc(MAX_LINE);
    if (!row)
        st = OOM(r);
    for (long j = lo; j <= hi && st == ENS_OK; j++) {
        const size_t head = (size_t)(lb - text);
        memcpy(row, text, head);
        snprintf(row + head, MAX_LINE - head, "%ld", j);
        st = put_indices(r, after, &j, out, line);
        const size_t used = strlen(row);
        if (st == ENS_OK && used + strlen(out) + 1 >= MAX_LINE)
            st = fail_line(r, line, "line too long");
        if (st == ENS_OK) {
            memcpy(row + used, out, strlen(out) + 1);
            st = expand_arrays(r, row, line);
        }
    }
    free(row);
    free(out);
    return st;
}

/* The file into statements: '#' and '"' comment lines dropped (the first
 * comment becomes the title), '\' continuations joined, lower case, array
 * shorthand expanded; nothing after 'done'. */
static ens_status read_statements(reader *r, const char *text)
{
    char *buf = malloc(MAX_LINE);
    if (!buf)
        return OOM(r);
    ens_status st = ENS_OK;
    int line = 0;
    const char *pos = text;
    while (*pos && st == ENS_OK) {
        size_t n = 0;
        const int first = line + 1;
        int more = 1;
        while (more && *pos) {
            const char *eol = strchr(pos, '\n');
            size_t len = eol ? (size_t)(eol - pos) : strlen(pos);
            line++;
            while (len && (pos[len - 1] == '\r' || isspace((unsigned char)pos[len - 1])))
                len--;
            more = len && pos[len - 1] == '\\';
            if (more)
                len--;
            if (n + len + 2 >= MAX_LINE) {
                st = fail_line(r, first, "line too long");
                break;
            }
            memcpy(buf + n, pos, len);
            n += len;
            buf[n++] = ' ';
            pos = eol ? eol + 1 : pos + strlen(pos);
        }
        if (st != ENS_OK)
            break;
        buf[n] = '\0';
        char *s = buf;
        while (isspace((unsigned char)*s))
            s++;
        for (char *e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        if (!*s)
            continue;
        if (strncmp(s, "#include", 8) == 0) {
            st = fail_line(r, first, "#include is not supported (put the included lines in "
                           "the file)");
            break;
        }
        if (*s == '#' || *s == '"') {
            const char *c = s + 1;
            while (*c == ' ' || *c == '#')
                c++;
            if (*s == '#' && !r->title[0] && *c)
                snprintf(r->title, sizeof r->title, "%s", c);
            continue;
        }
        for (char *c = s; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (strcmp(s, "done") == 0 || strncmp(s, "done ", 5) == 0 || strcmp(s, "d") == 0)
            break;
        st = expand_arrays(r, s, first);
    }
    free(buf);
    return st;
}

/* ---- symbols -------------------------------------------------------------------- */

static sym *find_sym(reader *r, const char *name)
{
    for (int i = 0; i < r->nsyms; i++)
        if (strcmp(r->syms[i].name, name) == 0)
            return &r->syms[i];
    return NULL;
}

static const char *kind_text(sym_kind k)
{
    static const char *const text[] = {"variable", "parameter", "number", "fixed quantity",
                                       "aux quantity", "wiener noise", "function"};
    return text[k];
}

static int builtin_find(const char *name)
{
    for (int f = 0; f < FN_COUNT; f++)
        if (strcmp(builtins[f].name, name) == 0)
            return f;
    return -1;
}

/* Names generated C code uses besides the file's own: C and OpenCL C
 * keywords, the functions the formulas call, the right-hand side's t and
 * ddt. A file's name among them gets a trailing underscore. */
static int clashes_in_c(const char *name)
{
    static const char *const words[] = {
        "ddt", "auto", "break", "case", "char", "const", "continue", "default", "do",
        "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int",
        "long", "register", "restrict", "return", "short", "signed", "sizeof", "static",
        "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
        "half", "kernel", "global", "local", "private", "constant", "bool", "true", "false",
        "pow", "fabs", "floor", "fmod", "fmax", "fmin", "log", "log10", "ceil", "sqrt", "exp",
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "state"};
    if (strncmp(name, "ens_", 4) == 0)
        return 1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(name, words[i]) == 0)
            return 1;
    return 0;
}

static ens_status new_sym(reader *r, const char *name, sym_kind kind, int line, sym **out)
{
    if (!is_name_start((unsigned char)name[0]) || strlen(name) > MAX_NAME)
        return fail_line(r, line, "'%s' is not a name", name);
    if (strcmp(name, "t") == 0 || strcmp(name, "pi") == 0 || builtin_find(name) >= 0 ||
        strcmp(name, "if") == 0 || strcmp(name, "then") == 0 || strcmp(name, "else") == 0)
        return fail_line(r, line, "'%s' is reserved (t, pi and the built-in functions)", name);
    sym *old = find_sym(r, name);
    if (old)
        return fail_line(r, line, "'%s' declared twice: as a %s on line %d and as a %s here",
                         name, kind_text(old->kind), old->line, kind_text(kind));
    if (r->nsyms == r->sym_cap) {
        const int cap = r->sym_cap ? 2 * r->sym_cap : 64;
        sym *grown = realloc(r->syms, (size_t)cap * sizeof *grown);
        if (!grown)
            return OOM(r);
        r->syms = grown;
        r->sym_cap = cap;
    }
    sym *s = &r->syms[r->nsyms++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->cname, sizeof s->cname, "%s%s", name, clashes_in_c(name) ? "_" : "");
    s->kind = kind;
    s->index = r->count[kind]++;
    s->line = line;
    s->root = -1;
    *out = s;
    return ENS_OK;
}

/* ---- expressions ---------------------------------------------------------------- */

static int new_node(reader *r, node n)
{
    ens_ode_program *p = r->prog;
    if (p->nnodes == p->cap) {
        const int cap = p->cap ? 2 * p->cap : 256;
        node *grown = realloc(p->nodes, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        p->nodes = grown;
        p->cap = cap;
    }
    p->nodes[p->nnodes] = n;
    return p->nnodes++;
}

#define NODE(r, out, ...) \
    do { \
        if ((*(out) = new_node((r), (node){__VA_ARGS__})) < 0) \
            return OOM(r); \
    } while (0)

static void skip_blanks(reader *r)
{
    while (r->s[r->pos] == ' ' || r->s[r->pos] == '\t')
        r->pos++;
}

static int peek(reader *r)
{
    skip_blanks(r);
    return (unsigned char)r->s[r->pos];
}

static int accept(reader *r, const char *tok)
{
    skip_blanks(r);
    const size_t n = strlen(tok);
    if (strncmp(r->s + r->pos, tok, n) != 0)
        return 0;
    r->pos += (int)n;
    return 1;
}

static void read_name(reader *r, char *name)
{
    skip_blanks(r);
    int n = 0;
    while (is_name_char((unsigned char)r->s[r->pos])) {
        if (n < MAX_NAME)
            name[n++] = r->s[r->pos];
        r->pos++;
    }
    name[n] = '\0';
}

static ens_status parse_expr(reader *r, int *out);

/* A call of a user function: its formula parsed again with the arguments
 * in place of its formal names (the function is inlined). */
static ens_status call_user(reader *r, const sym *f, const int *args, int *out)
{
    if (r->depth + 1 >= MAX_INLINE_DEPTH)
        return fail_here(r, "function '%s' calls itself, or functions nest too deep", f->name);
    const char *s = r->s;
    const int pos = r->pos, line = r->line, col0 = r->col0;
    r->depth++;
    r->arg_func[r->depth] = f;
    memcpy(r->arg_nodes[r->depth], args, sizeof(int) * (size_t)f->nargs);
    r->s = f->expr;
    r->pos = 0;
    r->line = f->line;
    r->col0 = f->expr_col;
    ens_status st = parse_expr(r, out);
    if (st == ENS_OK && peek(r) != '\0')
        st = fail_here(r, "unexpected '%c'", r->s[r->pos]);
    r->depth--;
    if (st == ENS_OK) {
        r->s = s;
        r->pos = pos;
        r->line = line;
        r->col0 = col0;
    }
    return st;
}

/* Constructs of XPPAUT that ensol does not run, met inside a formula. */
static const char *unsupported_call(const char *name)
{
    static const struct { const char *name, *what; } calls[] = {
        {"delay", "delay equations (delay(...))"},
        {"int", "Volterra integrals (int{...})"},
        {"sum", "sum(...)of(...)"},
        {"shift", "shift(...)"},
        {"ishift", "ishift(...)"},
        {"del_shft", "delay shifts"},
        {"ran", "random numbers ran(...) (use wiener)"},
        {"normal", "random numbers normal(...) (use wiener)"},
        {"besselj", "Bessel functions"},
        {"bessely", "Bessel functions"},
        {"erf", "erf(...)"},
        {"erfc", "erfc(...)"},
        {"lgamma", "lgamma(...)"},
        {"hom_bcs", "boundary conditions"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (strcmp(calls[i].name, name) == 0)
            return calls[i].what;
    return NULL;
}

static ens_status parse_args(reader *r, int *args, int *nargs)
{
    *nargs = 0;
    if (accept(r, ")"))
        return ENS_OK;
    for (;;) {
        if (*nargs == MAX_ARGS)
            return fail_here(r, "more than %d arguments", MAX_ARGS);
        ENS_CHECK(parse_expr(r, &args[(*nargs)++]));
        if (accept(r, ")"))
            return ENS_OK;
        if (!accept(r, ","))
            return fail_here(r, "expected ',' or ')'");
    }
}

static ens_status parse_primary(reader *r, int *out)
{
    const int c = peek(r);
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)r->s[r->pos + 1]))) {
        char *end;
        const double v = strtod(r->s + r->pos, &end);
        r->pos = (int)(end - r->s);
        NODE(r, out, .kind = NODE_NUM, .value = v);
        return ENS_OK;
    }
    if (accept(r, "(")) {
        ENS_CHECK(parse_expr(r, out));
        return accept(r, ")") ? ENS_OK : fail_here(r, "expected ')'");
    }
    if (!is_name_start(c))
        return c ? fail_here(r, "unexpected '%c'", c) : fail_here(r, "formula ends early");
    const int start = r->pos;
    char name[MAX_NAME + 1];
    read_name(r, name);
    if (r->s[r->pos] == '{' || r->s[r->pos] == '[')
        return r->pos = start,
               strcmp(name, "int") == 0
                   ? fail_here(r, "Volterra integrals (int{...}): not supported")
                   : fail_here(r, "'%c' after a name: not supported", r->s[r->pos]);
    if (peek(r) == '(') {
        if (strcmp(name, "if") == 0) {
            int cond, yes, no;
            r->pos++;
            ENS_CHECK(parse_expr(r, &cond));
            if (!accept(r, ")") || !accept(r, "then") || !accept(r, "("))
                return fail_here(r, "expected if(CONDITION)then(A)else(B)");
            ENS_CHECK(parse_expr(r, &yes));
            if (!accept(r, ")") || !accept(r, "else") || !accept(r, "("))
                return fail_here(r, "expected if(CONDITION)then(A)else(B)");
            ENS_CHECK(parse_expr(r, &no));
            if (!accept(r, ")"))
                return fail_here(r, "expected ')'");
            NODE(r, out, .kind = NODE_IF, .a = cond, .b = yes, .c = no);
            return ENS_OK;
        }
        const char *what = unsupported_call(name);
        if (what)
            return r->pos = start, fail_here(r, "%s: not supported", what);
        const int f = builtin_find(name);
        sym *user = f < 0 ? find_sym(r, name) : NULL;
        if (f < 0 && (!user || user->kind != SYM_FUNC))
            return r->pos = start, fail_here(r, user ? "'%s' is a %s, not a function"
                                                     : "unknown function '%s'",
                                             name, user ? kind_text(user->kind) : "");
        r->pos++;
        int args[MAX_ARGS], nargs;
        ENS_CHECK(parse_args(r, args, &nargs));
        const int want = f >= 0 ? builtins[f].nargs : user->nargs;
        if (nargs != want)
            return r->pos = start, fail_here(r, "%s takes %d argument%s, not %d", name, want,
                                             want == 1 ? "" : "s", nargs);
        if (user)
            return call_user(r, user, args, out);
        NODE(r, out, .kind = NODE_CALL, .op = f, .a = args[0], .b = nargs > 1 ? args[1] : -1);
        return ENS_OK;
    }
    /* A formal argument of the function being inlined. */
    if (r->depth > 0) {
        const sym *f = r->arg_func[r->depth];
        for (int i = 0; i < f->nargs; i++)
            if (strcmp(f->args[i], name) == 0)
                return *out = r->arg_nodes[r->depth][i], ENS_OK;
    }
    if (strcmp(name, "t") == 0) {
        NODE(r, out, .kind = NODE_TIME);
        return ENS_OK;
    }
    if (strcmp(name, "pi") == 0) {
        NODE(r, out, .kind = NODE_NUM, .value = 3.14159265358979323846);
        return ENS_OK;
    }
    const sym *s = find_sym(r, name);
    if (!s)
        return r->pos = start, fail_here(r, "unknown name '%s'", name);
    switch (s->kind) {
    case SYM_VAR: NODE(r, out, .kind = NODE_VAR, .index = s->index); return ENS_OK;
    case SYM_PAR: NODE(r, out, .kind = NODE_PAR, .index = s->index); return ENS_OK;
    case SYM_NUM: NODE(r, out, .kind = NODE_NUM, .value = s->value); return ENS_OK;
    case SYM_FIX: NODE(r, out, .kind = NODE_FIX, .index = s->index); return ENS_OK;
    case SYM_NOISE: NODE(r, out, .kind = NODE_NOISE, .index = s->index); return ENS_OK;
    case SYM_AUX:
        return r->pos = start, fail_here(r, "'%s' is an aux quantity: formulas cannot use it "
                                         "(make it a fixed quantity, %s=...)", name, name);
    case SYM_FUNC:
        return r->pos = start, fail_here(r, "function '%s' used without arguments", name);
    }
    return fail_here(r, "unknown name '%s'", name);
}

/* a^b, left to right as XPPAUT reads 2^3^2; a minus sign may lead b. */
static ens_status parse_power(reader *r, int *out)
{
    ENS_CHECK(parse_primary(r, out));
    for (;;) {
        if (!accept(r, "**") && !accept(r, "^"))
            return ENS_OK;
        int sign = 1, rhs;
        while (peek(r) == '-' || peek(r) == '+')
            sign = r->s[r->pos++] == '-' ? -sign : sign;
        ENS_CHECK(parse_primary(r, &rhs));
        if (sign < 0)
            NODE(r, &rhs, .kind = NODE_NEG, .a = rhs);
        NODE(r, out, .kind = NODE_BIN, .op = '^', .a = *out, .b = rhs);
    }
}

static ens_status parse_unary(reader *r, int *out)
{
    if (accept(r, "-")) {
        ENS_CHECK(parse_unary(r, out));
        NODE(r, out, .kind = NODE_NEG, .a = *out);
        return ENS_OK;
    }
    if (accept(r, "+"))
        return parse_unary(r, out);
    return parse_power(r, out);
}

static ens_status parse_product(reader *r, int *out)
{
    ENS_CHECK(parse_unary(r, out));
    for (;;) {
        const int c = peek(r);
        if ((c != '*' && c != '/') || r->s[r->pos + 1] == '*')
            return ENS_OK;
        r->pos++;
        int rhs;
        ENS_CHECK(parse_unary(r, &rhs));
        NODE(r, out, .kind = NODE_BIN, .op = c, .a = *out, .b = rhs);
    }
}

static ens_status parse_sum(reader *r, int *out)
{
    ENS_CHECK(parse_product(r, out));
    for (;;) {
        const int c = peek(r);
        if (c != '+' && c != '-')
            return ENS_OK;
        r->pos++;
        int rhs;
        ENS_CHECK(parse_product(r, &rhs));
        NODE(r, out, .kind = NODE_BIN, .op = c, .a = *out, .b = rhs);
    }
}

static ens_status parse_comparison(reader *r, int *out)
{
    ENS_CHECK(parse_sum(r, out));
    for (;;) {
        int op;
        if (accept(r, "<="))
            op = 'l';
        else if (accept(r, ">="))
            op = 'g';
        else if (accept(r, "=="))
            op = 'e';
        else if (accept(r, "!="))
            op = 'n';
        else if (accept(r, "<"))
            op = '<';
        else if (accept(r, ">"))
            op = '>';
        else
            return ENS_OK;
        int rhs;
        ENS_CHECK(parse_sum(r, &rhs));
        NODE(r, out, .kind = NODE_BIN, .op = op, .a = *out, .b = rhs);
    }
}

static ens_status parse_and(reader *r, int *out)
{
    ENS_CHECK(parse_comparison(r, out));
    while (accept(r, "&")) {
        int rhs;
        ENS_CHECK(parse_comparison(r, &rhs));
        NODE(r, out, .kind = NODE_BIN, .op = '&', .a = *out, .b = rhs);
    }
    return ENS_OK;
}

static ens_status parse_expr(reader *r, int *out)
{
    ENS_CHECK(parse_and(r, out));
    while (accept(r, "|")) {
        int rhs;
        ENS_CHECK(parse_and(r, &rhs));
        NODE(r, out, .kind = NODE_BIN, .op = '|', .a = *out, .b = rhs);
    }
    return ENS_OK;
}

/* A whole formula: text from column col0 (0-based) of its statement. */
static ens_status parse_formula(reader *r, const char *text, int line, int col0, int *out)
{
    r->s = text;
    r->pos = 0;
    r->line = line;
    r->col0 = col0;
    r->depth = 0;
    ENS_CHECK(parse_expr(r, out));
    if (peek(r) != '\0')
        return fail_here(r, "unexpected '%c'", r->s[r->pos]);
    return ENS_OK;
}

/* ---- evaluation on the host ----------------------------------------------------- */

static double ode_mod(double a, double b)
{
    const double z = fmod(a, b);
    return z < 0 ? z + b : z;
}

typedef struct eval_ctx {
    const node *nodes;
    double t;
    const double *x, *p, *fix, *noise;
} eval_ctx;

static double eval(const eval_ctx *c, int i)
{
    const node *n = &c->nodes[i];
    switch (n->kind) {
    case NODE_NUM: return n->value;
    case NODE_VAR: return c->x[n->index];
    case NODE_PAR: return c->p[n->index];
    case NODE_FIX: return c->fix[n->index];
    case NODE_TIME: return c->t;
    case NODE_NOISE: return c->noise ? c->noise[n->index] : 0.0;
    case NODE_NEG: return -eval(c, n->a);
    case NODE_IF: return eval(c, n->a) != 0 ? eval(c, n->b) : eval(c, n->c);
    case NODE_BIN: {
        const double a = eval(c, n->a), b = eval(c, n->b);
        switch (n->op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return a / b;
        case '^': return pow(a, b);
        case '<': return a < b;
        case '>': return a > b;
        case 'l': return a <= b;
        case 'g': return a >= b;
        case 'e': return a == b;
        case 'n': return a != b;
        case '&': return a != 0 && b != 0;
        default: return a != 0 || b != 0;
        }
    }
    case NODE_CALL: {
        const double a = eval(c, n->a), b = n->b >= 0 ? eval(c, n->b) : 0;
        switch ((fn_id)n->op) {
        case FN_SIN: return sin(a);
        case FN_COS: return cos(a);
        case FN_TAN: return tan(a);
        case FN_ASIN: return asin(a);
        case FN_ACOS: return acos(a);
        case FN_ATAN: return atan(a);
        case FN_ATAN2: return atan2(a, b);
        case FN_SINH: return sinh(a);
        case FN_COSH: return cosh(a);
        case FN_TANH: return tanh(a);
        case FN_EXP: return exp(a);
        case FN_LN:
        case FN_LOG: return log(a);
        case FN_LOG10: return log10(a);
        case FN_SQRT: return sqrt(a);
        case FN_ABS: return fabs(a);
        case FN_HEAV: return a < 0 ? 0.0 : 1.0;
        case FN_SIGN: return a > 0 ? 1.0 : a < 0 ? -1.0 : 0.0;
        case FN_MAX: return fmax(a, b);
        case FN_MIN: return fmin(a, b);
        case FN_MOD: return ode_mod(a, b);
        case FN_FLR: return floor(a);
        case FN_CEIL: return ceil(a);
        case FN_NOT: return a == 0;
        case FN_COUNT: break;
        }
        return NAN;
    }
    }
    return NAN;
}

int ens_model_naux(const ens_model_info *m)
{
    return m->ode ? m->ode->naux : 0;
}

const char *ens_model_aux_name(const ens_model_info *m, int i)
{
    return m->ode && i >= 0 && i < m->ode->naux ? m->ode->aux_names[i] : NULL;
}

void ens_model_eval_aux(const ens_model_info *m, double t, const double *x, const double *p,
                        double *aux)
{
    const ens_ode_program *prog = m->ode;
    if (!prog)
        return;
    double fix_stack[64];
    double *fix = prog->nfix <= 64 ? fix_stack : malloc((size_t)prog->nfix * sizeof *fix);
    if (!fix) {
        for (int i = 0; i < prog->naux; i++)
            aux[i] = NAN;
        return;
    }
    eval_ctx c = {prog->nodes, t, x, p, fix, NULL};
    /* fix_roots is in computing order; node FIX(k) reads slot k. */
    for (int i = 0; i < prog->nfix; i++) {
        const int root = prog->fix_roots[i];
        fix[prog->nodes[root].index] = eval(&c, prog->nodes[root].a);
    }
    for (int i = 0; i < prog->naux; i++)
        aux[i] = eval(&c, prog->aux_roots[i]);
    if (fix != fix_stack)
        free(fix);
}

void ens_ode_program_free(ens_ode_program *p)
{
    if (!p)
        return;
    free(p->nodes);
    free(p->fix_roots);
    free(p->aux_roots);
    for (int i = 0; p->aux_names && i < p->naux; i++)
        free(p->aux_names[i]);
    free(p->aux_names);
    free(p);
}

/* ---- statements into symbols ---------------------------------------------------- */

static int word_is(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return 1;
    return 0;
}

/* A value of par, init, number or an option: a formula of numbers only. */
static int const_tree(const ens_ode_program *p, int i)
{
    const node *n = &p->nodes[i];
    switch (n->kind) {
    case NODE_NUM: return 1;
    case NODE_NEG: return const_tree(p, n->a);
    case NODE_BIN: return const_tree(p, n->a) && const_tree(p, n->b);
    case NODE_CALL: return const_tree(p, n->a) && (n->b < 0 || const_tree(p, n->b));
    case NODE_IF: return const_tree(p, n->a) && const_tree(p, n->b) && const_tree(p, n->c);
    default: return 0;
    }
}

static int uses_time(const ens_ode_program *p, int i)
{
    const node *n = &p->nodes[i];
    switch (n->kind) {
    case NODE_TIME: return 1;
    case NODE_NEG: return uses_time(p, n->a);
    case NODE_BIN: return uses_time(p, n->a) || uses_time(p, n->b);
    case NODE_CALL: return uses_time(p, n->a) || (n->b >= 0 && uses_time(p, n->b));
    case NODE_IF: return uses_time(p, n->a) || uses_time(p, n->b) || uses_time(p, n->c);
    default: return 0;
    }
}

static ens_status const_value(reader *r, const char *text, int line, int col0, double *out)
{
    int root;
    ENS_CHECK(parse_formula(r, text, line, col0, &root));
    if (uses_time(r->prog, root))
        return r->pos = 0, fail_here(r, "initial data as a function of t (delay equations): "
                                        "not supported");
    if (!const_tree(r->prog, root))
        return r->pos = 0, fail_here(r, "'%s': expected a number", text);
    const eval_ctx c = {r->prog->nodes, 0, NULL, NULL, NULL, NULL};
    *out = eval(&c, root);
    return ENS_OK;
}

/* Pending initial values: init lists and x(0)= may come before x'=. */
typedef struct init_value {
    char name[MAX_NAME + 1];
    double value;
    int line;
} init_value;

typedef struct pass1 {
    init_value *inits;
    int ninits, cap;
} pass1;

/* NAME=VALUE items of par, init, number and @ lines, separated by commas
 * or blanks (blanks around '=' allowed). `fn` takes each item. */
typedef ens_status (*item_fn)(reader *r, pass1 *p1, const char *name, const char *value,
                              int line, int col0, int kind);

static ens_status item_declare(reader *r, pass1 *p1, const char *name, const char *value,
                               int line, int col0, int kind);

static ens_status each_item(reader *r, pass1 *p1, const stmt *st, const char *list, item_fn fn,
                            int kind)
{
    char buf[MAX_LINE];
    /* Join "a = 1" into "a=1": blanks next to '=' go. */
    size_t n = 0;
    int cols[MAX_LINE];
    for (const char *c = list; *c && n + 1 < sizeof buf; c++) {
        if (*c == ' ' || *c == '\t') {
            const char *d = c;
            while (*d == ' ' || *d == '\t')
                d++;
            if (*d == '=' || (n && buf[n - 1] == '='))
                continue;
        }
        cols[n] = (int)(c - st->text);
        buf[n++] = *c == '\t' ? ' ' : *c;
    }
    buf[n] = '\0';
    for (char *item = buf; *item;) {
        while (*item == ' ' || *item == ',')
            item++;
        if (!*item)
            break;
        char *end = item;
        int paren = 0;
        while (*end && (paren || (*end != ' ' && *end != ','))) {
            paren += *end == '(' ? 1 : *end == ')' ? -1 : 0;
            end++;
        }
        const char save = *end;
        *end = '\0';
        char *eq = strchr(item, '=');
        if (!eq && fn == item_declare) {
            /* a name with no value (init x=1.5,y): 0, as XPPAUT takes it */
            ENS_CHECK(fn(r, p1, item, "0", st->line, cols[item - buf], kind));
            *end = save;
            item = end;
            continue;
        }
        if (!eq || eq == item)
            return fail_line(r, st->line, "expected NAME=VALUE, not '%s'", item);
        *eq = '\0';
        ENS_CHECK(fn(r, p1, item, eq + 1, st->line, cols[eq + 1 - buf], kind));
        *end = save;
        item = end;
    }
    return ENS_OK;
}

static ens_status item_declare(reader *r, pass1 *p1, const char *name, const char *value,
                               int line, int col0, int kind)
{
    double v;
    ENS_CHECK(const_value(r, value, line, col0, &v));
    if (kind == SYM_VAR) {
        /* an initial value, for a variable that may be declared later */
        if (p1->ninits == p1->cap) {
            const int cap = p1->cap ? 2 * p1->cap : 32;
            init_value *grown = realloc(p1->inits, (size_t)cap * sizeof *grown);
            if (!grown)
                return OOM(r);
            p1->inits = grown;
            p1->cap = cap;
        }
        init_value *iv = &p1->inits[p1->ninits++];
        snprintf(iv->name, sizeof iv->name, "%s", name);
        iv->value = v;
        iv->line = line;
        return ENS_OK;
    }
    sym *s;
    ENS_CHECK(new_sym(r, name, (sym_kind)kind, line, &s));
    s->value = v;
    return ENS_OK;
}

/* XPPAUT's methods: euler, the Runge-Kutta of order 4, and its adaptive
 * ones (dopri5 here); the rest have no counterpart and leave the choice
 * to the run. */
static int method_id(const char *v)
{
    static const char *const rk4[] = {"rungekutta", "runge", "rk4", "rk", "r", NULL};
    static const char *const adaptive[] = {"qualrk", "qualst", "stiff", "cvode", "dp5", "dp83",
                                           "dopri5", "dopri83", "rosen", "rb2", "2rb", "ymp",
                                           "gear", "q", "s", "c", "5", "8", NULL};
    if (strcmp(v, "euler") == 0 || strcmp(v, "e") == 0)
        return ENS_INTEGRATOR_ID_EULER;
    if (word_is(v, rk4))
        return ENS_INTEGRATOR_ID_RK4;
    if (word_is(v, adaptive))
        return ENS_INTEGRATOR_ID_DOPRI5;
    return -1;
}

static ens_status item_option(reader *r, pass1 *p1, const char *name, const char *value,
                              int line, int col0, int kind)
{
    (void)p1;
    (void)kind;
    if (strcmp(name, "meth") == 0 || strcmp(name, "method") == 0) {
        if (strcmp(value, "discrete") == 0 || strcmp(value, "d") == 0)
            return fail_line(r, line, "meth=%s: maps (discrete dynamical systems) are not "
                             "supported", value);
        r->meth = method_id(value);
        if (r->meth < 0)
            snprintf(r->meth_unmapped, sizeof r->meth_unmapped, "%s", value);
        r->meth_line = line;
        return ENS_OK;
    }
    static const char *const numeric[] = {"dt", "total", "bound", "nout", NULL};
    if (!word_is(name, numeric))
        return ENS_OK; /* trans, maxstor, plot and window settings: not the run's */
    double v;
    ENS_CHECK(const_value(r, value, line, col0, &v));
    if (strcmp(name, "dt") == 0) {
        if (!(v > 0) || !isfinite(v))
            return fail_line(r, line, "dt=%s: must be a positive number", value);
        r->dt = v;
    } else if (strcmp(name, "total") == 0) {
        if (!(v > 0) || !isfinite(v))
            return fail_line(r, line, "total=%s: must be a positive number", value);
        r->total = v;
    } else if (strcmp(name, "bound") == 0) {
        if (!(v > 0))
            return fail_line(r, line, "bound=%s: must be a positive number", value);
        r->bound = v;
    } else {
        if (!(v >= 1) || v > 1e12 || v != floor(v))
            return fail_line(r, line, "nout=%s: must be a positive integer", value);
        r->nout = (long long)v;
    }
    return ENS_OK;
}

/* A formula NAME...=EXPR: the symbol gets the text after '='. */
static void set_formula(sym *s, const stmt *st, const char *eq)
{
    s->expr = eq + 1;
    s->expr_col = (int)(eq + 1 - st->text);
}

/* Constructs refused by their first word. */
static const char *refused_word(const char *w)
{
    static const struct { const char *word, *what; } words[] = {
        {"table", "tables (table)"},
        {"markov", "Markov chains (markov)"},
        {"global", "events (global)"},
        {"special", "special functions (special)"},
        {"bdry", "boundary value problems (bdry)"},
        {"b", "boundary value problems (b)"},
        {"volt", "Volterra equations (volt)"},
        {"v", "Volterra equations (v)"},
        {"solv", "algebraic equations (solv)"},
        {"export", "exported functions (export)"},
        {"only", "output selection (only)"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i].word, w) == 0)
            return words[i].what;
    return NULL;
}

/* A refused construct named by another word of its first letter, as
 * XPPAUT reads it: "tables (tabular)". */
static const char *refused_letter(const char *w, char *what, size_t size)
{
    static const struct { char letter; const char *what; } letters[] = {
        {'t', "tables"}, {'m', "Markov chains"}, {'g', "events"},
        {'s', "special functions"}, {'b', "boundary value problems"},
        {'v', "Volterra equations"}, {'o', "output selection"}, {'e', "exported functions"},
    };
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++)
        if (w[0] == letters[i].letter) {
            snprintf(what, size, "%s (%s)", letters[i].what, w);
            return what;
        }
    return NULL;
}

static ens_status statement(reader *r, pass1 *p1, const stmt *st)
{
    const char *s = st->text;
    char word[MAX_NAME + 1];
    int n = 0;
    if (*s == '@') {
        return each_item(r, p1, st, s + 1, item_option, 0);
    }
    if (*s == '!') {
        /* a derived parameter: a fixed quantity of parameters */
        const char *eq = strchr(s, '=');
        r->s = s + 1;
        r->pos = 0;
        read_name(r, word);
        if (!eq || !word[0])
            return fail_line(r, st->line, "expected !NAME=FORMULA");
        sym *sy;
        ENS_CHECK(new_sym(r, word, SYM_FIX, st->line, &sy));
        set_formula(sy, st, eq);
        return ENS_OK;
    }
    if (s[0] == '0' && strchr(s, '=') && !is_name_char((unsigned char)s[1]))
        return fail_line(r, st->line, "algebraic equations (0=...) are not supported");
    while (is_name_char((unsigned char)s[n]) && n < MAX_NAME)
        word[n] = s[n], n++;
    word[n] = '\0';
    const char *rest = s + n;
    while (*rest == ' ')
        rest++;
    if (!n) {
        return fail_line(r, st->line, "cannot read '%.40s'", s);
    }
    /* A leading keyword, not a name being defined. */
    if (s[n] == ' ' && *rest != '=' && *rest != '\'' && *rest != '(') {
        static const char *const par[] = {"par", "param", "parameter", "parameters", "p", NULL};
        static const char *const init[] = {"init", "i", NULL};
        static const char *const num[] = {"number", "num", "n", NULL};
        static const char *const aux[] = {"aux", "a", NULL};
        static const char *const wiener[] = {"wiener", "w", NULL};
        static const char *const ignored[] = {"option", "options", "opt", "set", NULL};
        /* XPPAUT reads a keyword by its first letter (params, bndry, tabular). */
        char refused[MAX_NAME + 64];
        const char *what = refused_word(word);
        if (!what && !word_is(word, ignored) && !word_is(word, par) && !word_is(word, init) &&
            !word_is(word, num) && !word_is(word, aux) && !word_is(word, wiener)) {
            const char *const *by_letter[] = {par, init, num, aux, wiener};
            for (size_t k = 0; k < sizeof by_letter / sizeof by_letter[0]; k++)
                if (word[0] == by_letter[k][0][0])
                    snprintf(word, sizeof word, "%s", by_letter[k][0]);
            what = refused_letter(word, refused, sizeof refused);
        }
        if (what)
            return fail_line(r, st->line, "%s: not supported", what);
        if (word_is(word, par))
            return each_item(r, p1, st, rest, item_declare, SYM_PAR);
        if (word_is(word, init))
            return each_item(r, p1, st, rest, item_declare, SYM_VAR);
        if (word_is(word, num))
            return each_item(r, p1, st, rest, item_declare, SYM_NUM);
        if (word_is(word, ignored))
            return ENS_OK;
        if (word_is(word, wiener)) {
            for (const char *c = rest; *c;) {
                while (*c == ' ' || *c == ',')
                    c++;
                char name[MAX_NAME + 1];
                int k = 0;
                while (is_name_char((unsigned char)*c) && k < MAX_NAME)
                    name[k++] = *c++;
                name[k] = '\0';
                if (!k && *c)
                    return fail_line(r, st->line, "wiener: expected names, not '%.20s'", c);
                sym *sy;
                if (k)
                    ENS_CHECK(new_sym(r, name, SYM_NOISE, st->line, &sy));
            }
            return ENS_OK;
        }
        if (word_is(word, aux)) {
            /* An aux name is only written to the file: it may have dots (T.E). */
            const char *eq = strchr(rest, '=');
            int k = 0;
            while ((is_name_char((unsigned char)rest[k]) || rest[k] == '.') && k < MAX_NAME)
                word[k] = rest[k], k++;
            word[k] = '\0';
            if (!eq || !word[0] || word[0] == '.')
                return fail_line(r, st->line, "expected aux NAME=FORMULA");
            sym *sy;
            ENS_CHECK(new_sym(r, word, SYM_AUX, st->line, &sy));
            set_formula(sy, st, eq);
            return ENS_OK;
        }
        return fail_line(r, st->line, "unknown statement '%s'", word);
    }
    const char *what = refused_word(word);
    if (what && (*rest != '=' && *rest != '\'' && *rest != '('))
        return fail_line(r, st->line, "%s: not supported", what);
    /* x'=..., dx/dt=..., x(0)=..., x(t)=..., x(t+1)=..., f(a,b)=..., name=... */
    const char *eq = strchr(s, '=');
    if (!eq)
        return fail_line(r, st->line, "expected a definition NAME...=FORMULA, not '%.40s'", s);
    sym *sy;
    if (*rest == '\'') {
        const char *after = rest + 1;
        while (*after == ' ')
            after++;
        if (after != eq)
            return fail_line(r, st->line, "expected %s'=FORMULA", word);
        ENS_CHECK(new_sym(r, word, SYM_VAR, st->line, &sy));
        set_formula(sy, st, eq);
        return ENS_OK;
    }
    if (word[0] == 'd' && *rest == '/') {
        const char *c = rest + 1;
        while (*c == ' ')
            c++;
        if (strncmp(c, "dt", 2) == 0) {
            c += 2;
            while (*c == ' ')
                c++;
            if (c == eq) {
                ENS_CHECK(new_sym(r, word + 1, SYM_VAR, st->line, &sy));
                set_formula(sy, st, eq);
                return ENS_OK;
            }
        }
    }
    if (*rest == '(') {
        const char *close = strchr(rest, ')');
        char inside[MAX_LINE];
        size_t k = 0;
        for (const char *c = rest + 1; close && c < close && k + 1 < sizeof inside; c++)
            if (*c != ' ')
                inside[k++] = *c;
        inside[k] = '\0';
        const char *after = close ? close + 1 : rest;
        while (*after == ' ')
            after++;
        if (!close || after != eq)
            return fail_line(r, st->line, "expected %s(...)=FORMULA", word);
        if (strcmp(inside, "0") == 0)
            return item_declare(r, p1, word, eq + 1, st->line, (int)(eq + 1 - s), SYM_VAR);
        if (strcmp(inside, "t") == 0)
            return fail_line(r, st->line, "Volterra equations (%s(t)=...) are not supported",
                             word);
        if (strncmp(inside, "t+", 2) == 0 || strncmp(inside, "t-", 2) == 0)
            return fail_line(r, st->line, "maps and difference equations (%s(%s)=...) are "
                             "not supported", word, inside);
        /* a function of its formal arguments */
        ENS_CHECK(new_sym(r, word, SYM_FUNC, st->line, &sy));
        for (char *a = inside; *a;) {
            char *comma = strchr(a, ',');
            if (comma)
                *comma = '\0';
            if (sy->nargs == MAX_ARGS)
                return fail_line(r, st->line, "%s: more than %d arguments", word, MAX_ARGS);
            if (!is_name_start((unsigned char)a[0]) || strlen(a) > MAX_NAME)
                return fail_line(r, st->line, "%s: '%s' is not an argument name", word, a);
            for (const char *c = a; *c; c++)
                if (!is_name_char((unsigned char)*c))
                    return fail_line(r, st->line, "%s: '%s' is not an argument name", word, a);
            snprintf(sy->args[sy->nargs++], MAX_NAME + 1, "%s", a);
            a = comma ? comma + 1 : a + strlen(a);
        }
        set_formula(sy, st, eq);
        return ENS_OK;
    }
    if (rest == eq) {
        ENS_CHECK(new_sym(r, word, SYM_FIX, st->line, &sy));
        set_formula(sy, st, eq);
        return ENS_OK;
    }
    return fail_line(r, st->line, "cannot read '%.40s'", s);
}

/* ---- the formulas, their order, and the generated source ------------------------ */

static sym *sym_at(reader *r, sym_kind kind, int index)
{
    for (int i = 0; i < r->nsyms; i++)
        if (r->syms[i].kind == kind && r->syms[i].index == index)
            return &r->syms[i];
    return NULL;
}

static ens_status parse_sym(reader *r, sym *s)
{
    return parse_formula(r, s->expr, s->line, s->expr_col, &s->root);
}

/* Fixed quantities a tree reads, each ordered before it; a cycle is an
 * error naming where it closes. */
static ens_status order_fix(reader *r, int i, int *order, int *n);
static ens_status order_tree(reader *r, int i, int *order, int *n)
{
    const node *nd = &r->prog->nodes[i];
    switch (nd->kind) {
    case NODE_FIX: return order_fix(r, nd->index, order, n);
    case NODE_NEG: return order_tree(r, nd->a, order, n);
    case NODE_BIN:
        ENS_CHECK(order_tree(r, nd->a, order, n));
        return order_tree(r, nd->b, order, n);
    case NODE_CALL:
        ENS_CHECK(order_tree(r, nd->a, order, n));
        return nd->b >= 0 ? order_tree(r, nd->b, order, n) : ENS_OK;
    case NODE_IF:
        ENS_CHECK(order_tree(r, nd->a, order, n));
        ENS_CHECK(order_tree(r, nd->b, order, n));
        return order_tree(r, nd->c, order, n);
    default: return ENS_OK;
    }
}

static ens_status order_fix(reader *r, int index, int *order, int *n)
{
    sym *s = sym_at(r, SYM_FIX, index);
    if (s->state == 2)
        return ENS_OK;
    if (s->state == 1)
        return fail_line(r, s->line, "'%s' is defined through itself (a cycle of fixed "
                         "quantities)", s->name);
    s->state = 1;
    ENS_CHECK(order_tree(r, s->root, order, n));
    s->state = 2;
    order[(*n)++] = index;
    return ENS_OK;
}

static void emit_number(ens_text *b, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        ens_text_add(b, "(ens_real)%.0f", v);
    else
        ens_text_add(b, "(ens_real)%.17g", v);
}

static void emit(reader *r, ens_text *b, int i)
{
    const node *n = &r->prog->nodes[i];
    switch (n->kind) {
    case NODE_NUM: emit_number(b, n->value); return;
    case NODE_VAR: ens_text_add(b, "%s", sym_at(r, SYM_VAR, n->index)->cname); return;
    case NODE_PAR: ens_text_add(b, "%s", sym_at(r, SYM_PAR, n->index)->cname); return;
    case NODE_FIX: ens_text_add(b, "%s", sym_at(r, SYM_FIX, n->index)->cname); return;
    case NODE_TIME: ens_text_add(b, "t"); return;
    case NODE_NOISE: ens_text_add(b, "%s", sym_at(r, SYM_NOISE, n->index)->cname); return;
    case NODE_NEG: ens_text_add(b, "(-"); emit(r, b, n->a); ens_text_add(b, ")"); return;
    case NODE_IF:
        ens_text_add(b, "(");
        emit(r, b, n->a);
        ens_text_add(b, " != (ens_real)0 ? ");
        emit(r, b, n->b);
        ens_text_add(b, " : ");
        emit(r, b, n->c);
        ens_text_add(b, ")");
        return;
    case NODE_CALL:
        ens_text_add(b, "%s(", builtins[n->op].c);
        emit(r, b, n->a);
        if (n->b >= 0) {
            ens_text_add(b, ", ");
            emit(r, b, n->b);
        }
        ens_text_add(b, ")");
        return;
    case NODE_BIN: break;
    }
    if (n->op == '^') {
        /* Small integer powers as products: what XPPAUT's pow gives to
         * rounding, at a fraction of the cost. */
        const node *e = &r->prog->nodes[n->b];
        if (e->kind == NODE_NUM && e->value == floor(e->value) && e->value >= 2 &&
            e->value <= 4) {
            ens_text_add(b, "ens_ode_pow%d(", (int)e->value);
            emit(r, b, n->a);
            ens_text_add(b, ")");
            return;
        }
        ens_text_add(b, "pow(");
        emit(r, b, n->a);
        ens_text_add(b, ", ");
        emit(r, b, n->b);
        ens_text_add(b, ")");
        return;
    }
    static const struct { int op; const char *c; } rel[] = {
        {'<', "<"}, {'>', ">"}, {'l', "<="}, {'g', ">="}, {'e', "=="}, {'n', "!="}};
    for (size_t k = 0; k < sizeof rel / sizeof rel[0]; k++)
        if (rel[k].op == n->op) {
            ens_text_add(b, "(");
            emit(r, b, n->a);
            ens_text_add(b, " %s ", rel[k].c);
            emit(r, b, n->b);
            ens_text_add(b, " ? (ens_real)1 : (ens_real)0)");
            return;
        }
    if (n->op == '&' || n->op == '|') {
        ens_text_add(b, "((");
        emit(r, b, n->a);
        ens_text_add(b, ") != (ens_real)0 %s (", n->op == '&' ? "&&" : "||");
        emit(r, b, n->b);
        ens_text_add(b, ") != (ens_real)0 ? (ens_real)1 : (ens_real)0)");
        return;
    }
    ens_text_add(b, "(");
    emit(r, b, n->a);
    ens_text_add(b, " %c ", n->op);
    emit(r, b, n->b);
    ens_text_add(b, ")");
}

/* XPPAUT's own functions, in the portable subset. */
static const char ode_functions[] =
    "ENS_FN ens_real ens_ode_heav(ens_real a) { return a < (ens_real)0 ? (ens_real)0 : "
    "(ens_real)1; }\n"
    "ENS_FN ens_real ens_ode_sign(ens_real a)\n"
    "{\n    return a > (ens_real)0 ? (ens_real)1 : a < (ens_real)0 ? (ens_real)-1 : (ens_real)0;\n"
    "}\n"
    "ENS_FN ens_real ens_ode_mod(ens_real a, ens_real b)\n"
    "{\n    const ens_real z = fmod(a, b);\n    return z < (ens_real)0 ? z + b : z;\n}\n"
    "ENS_FN ens_real ens_ode_not(ens_real a) { return a == (ens_real)0 ? (ens_real)1 : "
    "(ens_real)0; }\n"
    "ENS_FN ens_real ens_ode_pow2(ens_real a) { return a * a; }\n"
    "ENS_FN ens_real ens_ode_pow3(ens_real a) { return a * a * a; }\n"
    "ENS_FN ens_real ens_ode_pow4(ens_real a) { const ens_real s = a * a; return s * s; }\n";

/* The model file the descriptor is read from: declarations, then the
 * right-hand side with #line directives into the .ode file. */
static char *model_text(reader *r, const char *name, const int *fix_order)
{
    ens_text b = {0};
    ens_text_add(&b, "model %s\n", name);
    if (r->title[0]) {
        ens_text_add(&b, "title \"");
        for (const char *c = r->title; *c; c++)
            ens_text_add(&b, "%c", *c == '"' ? '\'' : *c);
        ens_text_add(&b, "\"\n");
    }
    for (int j = 0; j < r->count[SYM_PAR]; j++) {
        const sym *s = sym_at(r, SYM_PAR, j);
        ens_text_add(&b, "param %s = %.17g\n", s->cname, s->value);
    }
    for (int v = 0; v < r->count[SYM_VAR]; v++)
        ens_text_add(&b, "var %s\n", sym_at(r, SYM_VAR, v)->cname);
    for (int k = 0; k < r->count[SYM_NOISE]; k++)
        ens_text_add(&b, "noise %s\n", sym_at(r, SYM_NOISE, k)->cname);
    ens_text_add(&b, "functions\n%send\nrhs\n", ode_functions);
    for (int i = 0; i < r->count[SYM_FIX]; i++) {
        const sym *s = sym_at(r, SYM_FIX, fix_order[i]);
        ens_text_line(&b, s->line, r->path);
        ens_text_add(&b, "    const ens_real %s = ", s->cname);
        emit(r, &b, s->root);
        ens_text_add(&b, ";\n    (void)%s;\n", s->cname);
    }
    for (int v = 0; v < r->count[SYM_VAR]; v++) {
        const sym *s = sym_at(r, SYM_VAR, v);
        ens_text_line(&b, s->line, r->path);
        ens_text_add(&b, "    ddt(%s) = ", s->cname);
        emit(r, &b, s->root);
        ens_text_add(&b, ";\n");
    }
    ens_text_add(&b, "end\n");
    return ens_text_take(&b);
}

/* Operations of one right-hand side evaluation, for the rate reports:
 * every node but leaves; a call of a library function counts as one. */
static double tree_flops(const ens_ode_program *p, int i)
{
    const node *n = &p->nodes[i];
    switch (n->kind) {
    case NODE_NEG: return tree_flops(p, n->a);
    case NODE_BIN: return 1 + tree_flops(p, n->a) + tree_flops(p, n->b);
    case NODE_CALL: return 1 + tree_flops(p, n->a) + (n->b >= 0 ? tree_flops(p, n->b) : 0);
    case NODE_IF: return 1 + tree_flops(p, n->a) + tree_flops(p, n->b) + tree_flops(p, n->c);
    default: return 0;
    }
}

/* The model's name: the file's base name, made an identifier. */
static void model_name(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = 0;
    if (!is_name_start((unsigned char)*base) && n + 1 < size)
        out[n++] = 'm';
    for (const char *c = base; *c && n + 1 < size && strcmp(c, ".ode") != 0; c++)
        out[n++] = is_name_char((unsigned char)*c) ? (char)tolower((unsigned char)*c) : '_';
    out[n] = '\0';
}

static void free_reader(reader *r)
{
    for (int i = 0; i < r->nstmts; i++)
        free(r->stmts[i].text);
    free(r->stmts);
    free(r->syms);
    ens_ode_program_free(r->prog);
}

static ens_status read_ode(reader *r, const char *text, ens_model_info **out)
{
    ENS_CHECK(read_statements(r, text));
    pass1 p1 = {0};
    ens_status st = ENS_OK;
    for (int i = 0; i < r->nstmts && st == ENS_OK; i++)
        st = statement(r, &p1, &r->stmts[i]);
    if (st == ENS_OK && r->count[SYM_VAR] == 0)
        st = ens_fail(r->err, ENS_ERR_INVALID_ARGUMENT,
                      "%s: no differential equations (x'=... or dx/dt=...)", r->path);
    for (int i = 0; st == ENS_OK && i < p1.ninits; i++) {
        sym *s = find_sym(r, p1.inits[i].name);
        if (!s || s->kind != SYM_VAR)
            st = fail_line(r, p1.inits[i].line, "initial value of '%s', which is not a "
                           "variable", p1.inits[i].name);
        else
            s->value = p1.inits[i].value;
    }
    free(p1.inits);
    if (st == ENS_OK && r->count[SYM_PAR] > ENS_MAX_PARAMS)
        st = fail_line(r, sym_at(r, SYM_PAR, ENS_MAX_PARAMS)->line,
                       "more than %d parameters", ENS_MAX_PARAMS);
    if (st == ENS_OK && r->count[SYM_NOISE] > ENS_MAX_NOISE)
        st = fail_line(r, sym_at(r, SYM_NOISE, ENS_MAX_NOISE)->line,
                       "more than %d wiener inputs", ENS_MAX_NOISE);
    if (st == ENS_OK && r->count[SYM_NOISE] > 0 && r->meth >= 0 &&
        r->meth != ENS_INTEGRATOR_ID_EULER)
        st = fail_line(r, r->meth_line, "wiener noise needs meth=euler (Euler-Maruyama)");
    /* Every formula parsed; functions are parsed where they are called. */
    for (int i = 0; i < r->nsyms && st == ENS_OK; i++)
        if (r->syms[i].kind == SYM_VAR || r->syms[i].kind == SYM_FIX ||
            r->syms[i].kind == SYM_AUX)
            st = parse_sym(r, &r->syms[i]);
    ens_ode_program *prog = r->prog;
    const int nfix = r->count[SYM_FIX], naux = r->count[SYM_AUX];
    if (st == ENS_OK) {
        prog->fix_roots = malloc(sizeof(int) * (size_t)(nfix + 1));
        prog->aux_roots = malloc(sizeof(int) * (size_t)(naux + 1));
        if (!prog->fix_roots || !prog->aux_roots)
            st = OOM(r);
    }
    int n = 0;
    for (int i = 0; i < nfix && st == ENS_OK; i++)
        st = order_fix(r, i, prog->fix_roots, &n);
    char *model = NULL;
    char name[MAX_NAME + 1];
    model_name(r->path, name, sizeof name);
    if (st == ENS_OK && !(model = model_text(r, name, prog->fix_roots)))
        st = OOM(r);
    ens_model_info *m = NULL;
    if (st == ENS_OK)
        st = ens_model_parse_text(model, r->path, &m, r->err);
    free(model);
    if (st != ENS_OK)
        return st;
    /* The base state, the run's defaults, the host's aux program. */
    const int nv = r->count[SYM_VAR];
    double *base = malloc(sizeof *base * (size_t)nv);
    if (!base) {
        ens_model_free(m);
        return OOM(r);
    }
    double flops = 0;
    for (int v = 0; v < nv; v++) {
        const sym *s = sym_at(r, SYM_VAR, v);
        base[v] = s->value;
        flops += tree_flops(prog, s->root);
    }
    for (int i = 0; i < nfix; i++) {
        /* fix_roots[i] becomes the root of the i-th computed quantity,
         * wrapped so that eval_aux knows its slot */
        const int index = prog->fix_roots[i];
        const sym *s = sym_at(r, SYM_FIX, index);
        flops += tree_flops(prog, s->root);
        const int wrap = new_node(r, (node){.kind = NODE_FIX, .index = index, .a = s->root});
        if (wrap < 0) {
            free(base);
            ens_model_free(m);
            return OOM(r);
        }
        prog->fix_roots[i] = wrap;
    }
    for (int i = 0; i < naux; i++)
        prog->aux_roots[i] = sym_at(r, SYM_AUX, i)->root;
    prog->nfix = nfix;
    prog->naux = naux;
    prog->nnoise = r->count[SYM_NOISE];
    prog->aux_names = calloc((size_t)naux + 1, sizeof *prog->aux_names);
    for (int i = 0; prog->aux_names && i < naux; i++)
        prog->aux_names[i] = dup_text(sym_at(r, SYM_AUX, i)->name);
    free(m->base_state);
    m->base_state = base;
    m->base_state_len = nv;
    m->rhs_line = sym_at(r, SYM_VAR, 0)->line;
    m->functions_line = 1;
    m->rhs_flops_const = flops;
    m->rhs_flops_per_var = 0;
    const double dt = r->dt > 0 ? r->dt : XPP_DEFAULT_DT;
    const double total = r->total > 0 ? r->total : XPP_DEFAULT_TOTAL;
    m->default_integrator = r->meth >= 0 ? r->meth
                            : r->meth_unmapped[0] ? -1
                            : r->count[SYM_NOISE] ? ENS_INTEGRATOR_ID_EULER
                                                  : ENS_INTEGRATOR_ID_RK4;
    m->default_dt = dt;
    const double steps = floor(total / dt + 0.5);
    m->default_steps = steps < 1 ? 1 : steps > 1e15 ? (long long)1e15 : (long long)steps;
    m->default_save_every = r->nout;
    m->default_blowup_bound = r->bound;
    snprintf(m->unmapped_method, sizeof m->unmapped_method, "%s", r->meth_unmapped);
    m->ode = prog;
    r->prog = NULL;
    if (!prog->aux_names) {
        ens_model_free(m);
        return OOM(r);
    }
    *out = m;
    return ENS_OK;
}

ens_status ens_ode_parse(const char *text, const char *path, ens_model_info **out,
                         ens_error *err)
{
    reader r = {.path = path, .err = err, .meth = -1, .nout = 0};
    r.prog = calloc(1, sizeof *r.prog);
    if (!r.prog)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    const ens_status st = read_ode(&r, text, out);
    free_reader(&r);
    return st;
}
