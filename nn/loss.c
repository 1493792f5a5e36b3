/* nn/loss.c — softmax cross-entropy (hard labels), soft-target cross-entropy, and their mix for
 * knowledge distillation.
 * Both return the batch-mean loss and write dlogits in one pass; computed in double per row. */
#include "nn/layers.h"

#include <math.h>

void softmax_rows(float *probs, const float *logits, int n, int classes, float temperature) {
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * classes;
        float *p = probs + (size_t)i * classes;
        /* The max in float (the same value as in double: each z[k] / temperature is a float); a double
         * fmax reduction over widened floats crashes GCC 12's aarch64 vectorizer at -O3. */
        float mxf = z[0] / temperature;
        for (int k = 1; k < classes; k++) mxf = fmaxf(mxf, z[k] / temperature);
        double mx = mxf;
        double sum = 0.0;
        for (int k = 0; k < classes; k++) sum += exp(z[k] / temperature - mx);
        for (int k = 0; k < classes; k++) p[k] = (float)(exp(z[k] / temperature - mx) / sum);
    }
}

float softmax_xent_forward_backward(float *dlogits, const float *logits, const int *labels, int n, int classes,
                                    int *correct) {
    double loss = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * classes;
        int best = 0;
        double mx = z[0];
        for (int k = 1; k < classes; k++)
            if (z[k] > mx) {
                mx = z[k];
                best = k;
            }
        hits += best == labels[i];
        double sum = 0.0;
        for (int k = 0; k < classes; k++) sum += exp(z[k] - mx);
        double logsum = log(sum) + mx;
        loss += logsum - z[labels[i]];
        if (dlogits)
            for (int k = 0; k < classes; k++) {
                double p = exp(z[k] - logsum);
                dlogits[(size_t)i * classes + k] = (float)((p - (k == labels[i])) / n);
            }
    }
    if (correct) *correct = hits;
    return (float)(loss / n);
}

/* One row of soft-target cross-entropy at temperature t: returns -sum_k q_k log softmax(z/t)_k; dz
 * (if not NULL) gets keep * dz + weight * (softmax(z/t) - q) / div (keep 0: the old dz is not read). */
static double soft_row(float *dz, const float *z, const float *q, int classes, double t, double keep, double weight,
                       double div) {
    /* max(z) / t equals max(z / t) for t > 0, and a float reduction avoids the double fmax reduction
     * over widened floats that crashes GCC 12's aarch64 vectorizer at -O3. */
    float zmax = z[0];
    for (int k = 1; k < classes; k++) zmax = fmaxf(zmax, z[k]);
    double mx = zmax / t;
    double sum = 0.0;
    for (int k = 0; k < classes; k++) sum += exp(z[k] / t - mx);
    double logsum = log(sum) + mx, loss = 0.0;
    for (int k = 0; k < classes; k++) {
        double logp = z[k] / t - logsum;
        loss -= q[k] * logp;
        if (dz) dz[k] = (float)((keep != 0.0 ? keep * dz[k] : 0.0) + weight * (exp(logp) - q[k]) / div);
    }
    return loss;
}

float soft_xent_forward_backward(float *dlogits, const float *logits, const float *targets, int n, int classes,
                                 float temperature) {
    double loss = 0.0;
    for (int i = 0; i < n; i++)
        loss += soft_row(dlogits ? dlogits + (size_t)i * classes : NULL, logits + (size_t)i * classes,
                         targets + (size_t)i * classes, classes, temperature, 0.0, 1.0, (double)n * temperature);
    return (float)(loss / n);
}

float distill_xent_forward_backward(float *dlogits, const float *logits, const int *labels, const float *targets,
                                    int n, int classes, float temperature, float weight, float *soft, int *correct) {
    /* the hard part's gradient first, then each row's soft gradient added to it with its weight */
    float hard = softmax_xent_forward_backward(dlogits, logits, labels, n, classes, correct);
    const double t = temperature, a = weight;
    double soft_sum = 0.0;
    for (int i = 0; i < n; i++)
        soft_sum += soft_row(dlogits + (size_t)i * classes, logits + (size_t)i * classes, targets + (size_t)i * classes,
                             classes, t, 1.0 - a, a * t, n);
    if (soft) *soft = (float)(soft_sum / n);
    return hard;
}
