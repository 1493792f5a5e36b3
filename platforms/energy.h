/* platforms/energy.h — energy from power sensors, sampled by a thread while a workload runs.
 *
 * Sensor kinds and the unit of the file they read (then multiplied by the sensor's `scale`):
 *   hwmon    .../hwmonN/powerM_input                        power, microwatts
 *   ina231   /sys/bus/i2c/drivers/INA231/<dev>/sensor_W    power, watts (Odroid XU3/XU4)
 *   ina3221  .../in_powerM_input                           power, milliwatts (Jetson boards)
 *   rapl     /sys/class/powercap/intel-rapl:N/energy_uj    energy counter, microjoules; wraps at
 *                                                          max_energy_range_uj (same directory)
 * Power sensors are summed and integrated over time by the trapezoid rule; RAPL counters are
 * differenced sample to sample (so a single wrap between two samples is handled). The meter
 * takes one sample when started and one when stopped (in the caller's thread), and the thread
 * samples every period in between, so the measured interval is exactly start..stop.
 *
 * Paths starting with /sys/ are read under the sysfs root (tests use a fake tree). */
#ifndef DYNN_PLATFORMS_ENERGY_H
#define DYNN_PLATFORMS_ENERGY_H

#include <pthread.h>
#include <sched.h>

#include "util/err.h"

#define ENERGY_MAX_SENSORS 16

typedef enum { SENSOR_HWMON, SENSOR_INA231, SENSOR_INA3221, SENSOR_RAPL } SensorKind;

typedef struct PowerSensor {
    char name[64];
    SensorKind kind;
    char path[512];        /* as resolved under the sysfs root */
    double scale;          /* multiplies the value after unit conversion (1 = as documented) */
    unsigned long long range_uj; /* rapl: max_energy_range_uj */
} PowerSensor;

typedef struct EnergySensors {
    int n;
    PowerSensor s[ENERGY_MAX_SENSORS];
} EnergySensors;

/* "hwmon" -> SENSOR_HWMON etc.; -1 for an unknown name. */
int energy_sensor_kind(const char *name, SensorKind *out);
const char *energy_sensor_kind_name(SensorKind kind);

/* Resolves a sensor path under the sysfs root: "/sys/x" -> ROOT/x, a relative path -> ROOT/path,
 * other absolute paths unchanged. */
int energy_resolve_path(const char *root, const char *path, char *out, size_t size, Err *err);

/* Adds a sensor (path resolved under root), checking that it can be read now (and for rapl that
 * max_energy_range_uj exists beside it). */
int energy_add_sensor(EnergySensors *es, const char *root, const char *name, SensorKind kind, const char *path,
                      double scale, Err *err);

/* Adds the RAPL package domains found under ROOT/class/powercap (intel-rapl:N, not subdomains).
 * Returns the number added. */
int energy_add_rapl_domains(EnergySensors *es, const char *root);

/* One reading: watts for power kinds, joules (the raw counter x 1e-6 x scale) for rapl;
 * raw (rapl) gets the counter in microjoules. */
int power_sensor_read(const PowerSensor *s, double *value, unsigned long long *raw, Err *err);

/* Microjoules between two RAPL counter readings, with at most one wrap at range_uj. */
unsigned long long rapl_delta_uj(unsigned long long prev, unsigned long long cur, unsigned long long range_uj);

typedef struct EnergyMeter {
    const EnergySensors *es;
    double t_first, t_last;  /* seconds (CLOCK_MONOTONIC) of the first and last sample */
    double power_w_last;     /* summed power sensors at the last sample */
    double joules;           /* energy so far: trapezoid of power + RAPL differences */
    unsigned long long rapl_last[ENERGY_MAX_SENSORS];
    long n_samples;
    double max_gap_s;        /* longest time between two samples (bounds the integration error) */
    int failed;              /* a sample failed: error holds the first message */
    Err error;
    /* the sampling thread */
    pthread_t thread;
    int running;
    volatile int stop;
    double period_s;
} EnergyMeter;

/* Starts a meter (no thread): zero energy. */
void energy_meter_begin(EnergyMeter *m, const EnergySensors *es);
/* Reads every sensor at time t (seconds) and integrates since the previous sample. */
int energy_meter_sample(EnergyMeter *m, double t, Err *err);
/* Seconds covered by the samples so far. */
double energy_meter_seconds(const EnergyMeter *m);

/* begin + a first sample now + a thread sampling every period_s, pinned to `cpus` when not NULL
 * (keep it off the measured CPUs when there are others). */
int energy_meter_start(EnergyMeter *m, const EnergySensors *es, double period_s, const cpu_set_t *cpus, Err *err);
/* Stops and joins the thread, takes a last sample now. Fails if any sample failed. */
int energy_meter_stop(EnergyMeter *m, Err *err);

/* CLOCK_MONOTONIC in seconds. */
double energy_now(void);

#endif
