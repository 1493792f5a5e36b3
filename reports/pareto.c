/* reports/pareto.c — Pareto fronts by one sort and a sweep (see pareto.h). */
#include "reports/pareto.h"

#include <math.h>
#include <stdlib.h>

typedef struct Item {
    double cost, value;
    size_t index;
} Item;

/* cost ascending, then value descending, then index ascending */
static int item_order(const void *a, const void *b) {
    const Item *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? -1 : 1;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

long pareto_front(const double *cost, const double *value, size_t n, size_t *out) {
    Item *items = malloc((n ? n : 1) * sizeof *items);
    if (!items) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(cost[i]) && !isnan(value[i])) items[m++] = (Item){cost[i], value[i], i};
    qsort(items, m, sizeof *items, item_order);
    /* after the sort a point is on the front iff its value beats every cheaper (or earlier) point's */
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!k || items[i].value > value[out[k - 1]]) out[k++] = items[i].index;
    free(items);
    return (long)k;
}
