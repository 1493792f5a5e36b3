/* cli/profile_out.h — `dynn profile` without --json: the measured report (platforms/profile_json.h)
 * as an aligned table, under a header line about the model, DVFS and energy. */
#ifndef DYNN_CLI_PROFILE_OUT_H
#define DYNN_CLI_PROFILE_OUT_H

#include <stdio.h>

#include "platforms/cpufreq.h"
#include "platforms/profile_json.h"

/* arch: the model's architecture; cf: the cpufreq policies found (governors, frequencies). */
void profile_report_table(const ProfileReport *r, const char *arch, const Cpufreq *cf, FILE *fp);

#endif
