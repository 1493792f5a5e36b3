/* nn/linear.c — fully connected layer via sgemm (called from serial code: the pool does the GEMM). */
#include "nn/layers.h"

#include <cblas.h>

void linear_forward(float *out, const float *in, const float *weight, const float *bias, const LinearShape *s) {
    for (int n = 0; n < s->n; n++)
        for (int o = 0; o < s->out; o++) out[(size_t)n * s->out + o] = bias ? bias[o] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->n, s->out, s->in, 1.0f, in, s->in, weight, s->w_row,
                1.0f, out, s->out);
}

void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *in,
                     const float *weight, const LinearShape *s, int accumulate) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->out, s->in, s->n, 1.0f, dout, s->out, in, s->in, 1.0f,
                dweight, s->w_row);
    if (dbias)
        for (int o = 0; o < s->out; o++) {
            float acc = 0.0f;
            for (int n = 0; n < s->n; n++) acc += dout[(size_t)n * s->out + o];
            dbias[o] += acc;
        }
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->n, s->in, s->out, 1.0f, dout, s->out, weight,
                    s->w_row, accumulate ? 1.0f : 0.0f, dinp, s->in);
}
