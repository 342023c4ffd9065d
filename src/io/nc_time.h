/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Model time in files: the CF units a model's time is written with ("days
 * since 1970-01-01 00:00:00" for dimensionless model time, one unit a
 * day) and the reading back of times written with other CF units, as
 * xarray writes a dataset it decoded ("hours since ...", "nanoseconds
 * since ...").
 */
#ifndef ENS_IO_NC_TIME_H
#define ENS_IO_NC_TIME_H

#include <stddef.h>

#include "core/models.h"

#define ENS_NC_TIME_EPOCH "1970-01-01 00:00:00"
#define ENS_NC_TIME_CALENDAR "proleptic_gregorian"

/* Whether the model's time is dimensionless (time_units "1" or none). */
int ens_nc_time_dimensionless(const ens_model_info *m);

/* The CF units of the model's time into buf. */
void ens_nc_time_units(const ens_model_info *m, char *buf, size_t size);

/* A time `value` written with CF `units` (NULL or without "since": model
 * time as it is) and `calendar` (NULL: standard) in the model's time into
 * *model_time. Returns 0, or -1 when the units or the calendar cannot be
 * converted (an unknown unit of time, another calendar's epoch). */
int ens_nc_time_to_model(const ens_model_info *m, const char *units, const char *calendar,
                         double value, double *model_time);

#endif
