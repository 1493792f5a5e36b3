/* platforms/platform_file.h — a platform description (experiments/platforms/NAME.yaml) as structs:
 *
 *   name: odroid-xu3
 *   arch: armv7l
 *   clusters: {little: "0-3", big: "4-7"}            # name -> CPU list
 *   frequencies_khz: {little: [200000, ...], big: [...]}
 *   sensors:
 *     - {name: a15, kind: ina231, path: /sys/bus/i2c/drivers/INA231/3-0040/sensor_W, scale: 1}
 *
 * Every key is checked (unknown keys are errors with file:line:col and a suggestion); sensor kinds
 * are hwmon, ina231, ina3221, rapl (energy.h gives their units); scale defaults to 1. */
#ifndef DYNN_PLATFORMS_PLATFORM_FILE_H
#define DYNN_PLATFORMS_PLATFORM_FILE_H

#include <sched.h>

#include "platforms/energy.h"
#include "util/err.h"

#define PLATFORM_MAX_CLUSTERS 8
#define PLATFORM_MAX_FREQS 64

typedef struct PlatformCluster {
    char name[32];
    cpu_set_t cpus;
    int n_freqs;
    long freqs_khz[PLATFORM_MAX_FREQS];
} PlatformCluster;

typedef struct PlatformSensor {
    char name[64];
    SensorKind kind;
    char path[512];
    double scale;
} PlatformSensor;

typedef struct PlatformFile {
    char path[512];
    char name[64], arch[32];
    int n_clusters;
    PlatformCluster clusters[PLATFORM_MAX_CLUSTERS];
    int n_sensors;
    PlatformSensor sensors[ENERGY_MAX_SENSORS];
} PlatformFile;

int platform_file_load(const char *path, PlatformFile *pf, Err *err);
/* The cluster of that name, or NULL. */
const PlatformCluster *platform_cluster(const PlatformFile *pf, const char *name);

#endif
