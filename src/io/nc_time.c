/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Model time in files (see nc_time.h): CF units written, and units read.
 */
#include "io/nc_time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int ens_nc_time_dimensionless(const ens_model_info *m)
{
    return !m->time_units || !m->time_units[0] || strcmp(m->time_units, "1") == 0;
}

void ens_nc_time_units(const ens_model_info *m, char *buf, size_t size)
{
    if (ens_nc_time_dimensionless(m))
        snprintf(buf, size, "days since " ENS_NC_TIME_EPOCH);
    else if (strstr(m->time_units, " since "))
        snprintf(buf, size, "%s", m->time_units);
    else
        snprintf(buf, size, "%s since " ENS_NC_TIME_EPOCH, m->time_units);
}

/* Seconds in one `unit` (UDUNITS names and plurals); 0 when unknown. */
static double unit_seconds(const char *unit, size_t n)
{
    static const struct { const char *name; double seconds; } units[] = {
        {"nanosecond", 1e-9}, {"ns", 1e-9},      {"microsecond", 1e-6}, {"us", 1e-6},
        {"millisecond", 1e-3}, {"ms", 1e-3},     {"second", 1.0},       {"sec", 1.0},
        {"s", 1.0},           {"minute", 60.0},  {"min", 60.0},         {"hour", 3600.0},
        {"hr", 3600.0},       {"h", 3600.0},     {"day", 86400.0},      {"d", 86400.0},
    };
    if (n > 1 && unit[n - 1] == 's' && n > 2)
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == n - 1 && strncasecmp(unit, units[i].name, n - 1) == 0)
                return units[i].seconds;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && strncasecmp(unit, units[i].name, n) == 0)
            return units[i].seconds;
    return 0.0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, long long m, long long d)
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const long long yoe = y - era * 400;
    const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "UNIT since Y-M-D[ T]h:m:s": the unit's seconds and the epoch's seconds
 * from 1970-01-01; -1 when not of that form. */
static int parse_units(const char *units, double *unit_s, double *epoch_s)
{
    const char *since = strstr(units, " since ");
    if (!since)
        return -1;
    const char *u = units;
    while (isspace((unsigned char)*u))
        u++;
    *unit_s = unit_seconds(u, (size_t)(since - u));
    long long y = 0, mo = 0, d = 0;
    int h = 0, mi = 0, n = 0;
    double sec = 0.0;
    const char *date = since + 7;
    if (*unit_s <= 0 || sscanf(date, "%lld-%lld-%lld%n", &y, &mo, &d, &n) < 3 || mo < 1 ||
        mo > 12 || d < 1 || d > 31)
        return -1;
    const char *clock = date + n;
    if (*clock == 'T' || *clock == ' ')
        sscanf(clock + 1, "%d:%d:%lf", &h, &mi, &sec);
    *epoch_s = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
    return 0;
}

static int gregorian(const char *calendar)
{
    return !calendar || !calendar[0] || strcasecmp(calendar, "standard") == 0 ||
           strcasecmp(calendar, "gregorian") == 0 ||
           strcasecmp(calendar, "proleptic_gregorian") == 0;
}

int ens_nc_time_to_model(const ens_model_info *m, const char *units, const char *calendar,
                         double value, double *model_time)
{
    *model_time = value;
    if (!units || !strstr(units, " since "))
        return 0;
    char mine[256];
    ens_nc_time_units(m, mine, sizeof mine);
    double fu, fe, mu, me;
    if (parse_units(mine, &mu, &me) != 0)
        return strcmp(units, mine) == 0 ? 0 : -1;
    if (parse_units(units, &fu, &fe) != 0)
        return -1;
    /* Another calendar counts the same days only from the same epoch. */
    if (!gregorian(calendar) && fe != me)
        return -1;
    *model_time = (value * fu + (fe - me)) / mu;
    return 0;
}
