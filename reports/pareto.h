/* reports/pareto.h — Pareto fronts of (cost, value) points: lower cost and higher value are better.
 *
 * A point is on the front when no other point has a cost at most its cost and a value at least its
 * value with one of the two strictly better. Of identical points only the first (lowest index) is
 * kept, so a front never lists the same operating point twice. Points with a NaN are ignored. */
#ifndef DYNN_REPORTS_PARETO_H
#define DYNN_REPORTS_PARETO_H

#include <stddef.h>

/* Writes the indices of the front into out (room for n) by increasing cost (and value) and returns
 * their count; -1 when out of memory. */
long pareto_front(const double *cost, const double *value, size_t n, size_t *out);

#endif
