/* platforms/sysfs_restore.h — what the sysfs knobs that dynn changes and must put back (cpufreq for
 * the CPUs, devfreq for a GPU) share: small-file reads and writes and number formatting that use only
 * async-signal-safe calls, and the one SIGINT/SIGTERM handler of the process.
 *
 * Any number of owners (a Cpufreq, a Devfreq) register a restore function while they hold changed
 * settings; the handler, installed while at least one is registered, calls every registered function
 * (the latest registered first), then ends the process by the same signal. Registering and removing
 * are done by the main thread with the two signals blocked, so the handler never sees a half-made
 * entry. A restore function must itself be async-signal-safe. */
#ifndef DYNN_PLATFORMS_SYSFS_RESTORE_H
#define DYNN_PLATFORMS_SYSFS_RESTORE_H

#include <stddef.h>

#define SYSFS_RESTORE_MAX 8 /* owners registered at once */

/* Reads a small file into buf (NUL-terminated, trailing white space removed). Returns 0 or -errno. */
int sysfs_raw_read(const char *path, char *buf, size_t size);
/* Writes val to path (truncating). A value sysfs refuses at close counts as a failure. 0 or -errno. */
int sysfs_raw_write(const char *path, const char *val);
/* Decimal text of v into out (at least 24 bytes). */
void sysfs_fmt_ll(char *out, long long v);
/* A non-negative decimal integer that is the whole of s; *ok 0 when it is not. */
long long sysfs_parse_ll(const char *s, int *ok);
/* Copies src into dst[size], truncated, always terminated. */
void sysfs_copy(char *dst, size_t size, const char *src);

typedef void (*SysfsRestoreFn)(void *owner);

/* Registers owner's restore function (once per owner; again is a no-op) and installs the handler if
 * it is not installed. -1 when SYSFS_RESTORE_MAX owners are registered already. */
int sysfs_restore_register(SysfsRestoreFn fn, void *owner);
/* Removes owner's entry; the handler (and the dispositions found before it) are put back when none
 * is left. */
void sysfs_restore_unregister(void *owner);

#endif
