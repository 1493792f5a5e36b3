/* nn/conv2d.c — 2-D convolution (no bias) as im2col + OpenBLAS sgemm, forward and backward.
 *
 * Work is split into chunks of g images, g chosen so that one GEMM has at least ~256 columns
 * (g*Ho*Wo), which keeps small late-stage layers (7x7, 4x4 maps) efficient:
 *   cols[cin*K*K][g*Ho*Wo] = im2col(chunk)      tmp[cout][g*Ho*Wo] = W[cout][cin*K*K] . cols
 * When there are at least as many chunks as threads, chunks run in an OpenMP loop and each calls
 * a single-threaded sgemm on data that stays in its core's cache (OpenBLAS's OpenMP build runs
 * sgemm serially inside a parallel region). Otherwise (batch 1 inference) chunks run one after
 * another and each sgemm uses the whole thread pool. Weight gradients are summed per thread and
 * reduced in thread order, so a result depends on the thread count but never on timing.
 * 3x3 / pad 1 shapes go to the direct kernels (nn/conv3x3.h), but for the weight gradient of wide
 * layers (weight_grad_by_gemm: 256 outputs and 128 inputs or more), which this file's path computes faster. */
#include "nn/layers.h"
#include "nn/arena.h"
#include "nn/conv3x3.h"
#include "nn/kernel_set.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

#define CONV_MIN_GEMM_COLUMNS 256

void conv_shape_finish(ConvShape *s) {
    s->ho = (s->h + 2 * s->pad - s->k) / s->stride + 1;
    s->wo = (s->w + 2 * s->pad - s->k) / s->stride + 1;
}

static int images_per_chunk(const ConvShape *s) {
    size_t hw = (size_t)s->ho * (size_t)s->wo;
    if (hw == 0) return 1;
    size_t g = (CONV_MIN_GEMM_COLUMNS + hw - 1) / hw;
    if (g > (size_t)s->n) g = (size_t)s->n;
    return g < 1 ? 1 : (int)g;
}

static int is_pointwise(const ConvShape *s) { return s->k == 1 && s->stride == 1 && s->pad == 0; }

/* Whether chunks run in parallel (each sgemm single-threaded) for this shape. */
static int chunks_in_parallel(const ConvShape *s, int threads) {
    int g = images_per_chunk(s);
    int chunks = (s->n + g - 1) / g;
    return threads > 1 && chunks >= threads;
}

typedef struct ConvScratch {
    float *cols, *dcols, *tmp, *dw;
} ConvScratch;

/* Floats rounded up to a multiple of 16, SIZE_MAX staying SIZE_MAX. */
static size_t round16(size_t n) { return n > SIZE_MAX - 15 ? SIZE_MAX : (n + 15) / 16 * 16; }

/* One thread's im2col columns, their gradient, the GEMM output and the weight-gradient partials;
 * SIZE_MAX when the sum does not fit in size_t. */
static size_t per_thread_floats(const ConvShape *s, size_t *cols, size_t *tmp, size_t *dw) {
    size_t ckk = size_mul_sat(size_mul_sat((size_t)s->cin, (size_t)s->k), (size_t)s->k);
    size_t gcols = size_mul_sat(size_mul_sat((size_t)images_per_chunk(s), (size_t)s->ho), (size_t)s->wo);
    *cols = round16(size_mul_sat(ckk, gcols));
    *tmp = round16(size_mul_sat((size_t)s->cout, gcols));
    *dw = round16(size_mul_sat((size_t)s->cout, ckk));
    return size_add_sat(size_add_sat(size_mul_sat(2, *cols), *tmp), *dw);
}

size_t conv2d_workspace_floats(const ConvShape *s, int threads) {
    if (s->h > CONV_MAX_SIDE || s->w > CONV_MAX_SIDE || s->ho > CONV_MAX_SIDE || s->wo > CONV_MAX_SIDE)
        return SIZE_MAX;
    size_t c, t, d;
    size_t per = per_thread_floats(s, &c, &t, &d);
    size_t need = size_mul_sat(per, (size_t)(threads < 1 ? 1 : threads));
    if (conv3x3_direct_applies(s)) {
        size_t direct = conv3x3_workspace_floats(s, threads);
        if (direct > need) need = direct;
    }
    return need;
}

static ConvScratch scratch_for(const ConvShape *s, float *ws, int slot) {
    size_t c, t, d;
    size_t per = per_thread_floats(s, &c, &t, &d);
    float *base = ws + per * (size_t)slot;
    ConvScratch sc = {base, base + c, base + 2 * c, base + 2 * c + t};
    return sc;
}

/* Valid output range [lo, hi) along one axis for kernel offset kk: 0 <= o*stride - pad + kk < size. */
static inline void valid_range(int size, int out, int stride, int pad, int kk, int *lo, int *hi) {
    int a = pad - kk;
    int l = a > 0 ? (a + stride - 1) / stride : 0;
    int h = (size - 1 + pad - kk) / stride + 1;
    if (size - 1 + pad - kk < 0) h = 0;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* cols[row][col_off + oy*wo + ox] for one image (planes in layout ip); ld = row stride of cols. */
static void im2col(float *cols, size_t ld, size_t col_off, const float *img, const Planes *ip, const ConvShape *s,
                   int parallel) {
    const int k = s->k, st = s->stride, p = s->pad, h = s->h, w = s->w, ho = s->ho, wo = s->wo;
#pragma omp parallel for schedule(static) if (parallel)
    for (int c = 0; c < s->cin; c++) {
        for (int ky = 0; ky < k; ky++) {
            int ylo, yhi;
            valid_range(h, ho, st, p, ky, &ylo, &yhi);
            for (int kx = 0; kx < k; kx++) {
                int xlo, xhi;
                valid_range(w, wo, st, p, kx, &xlo, &xhi);
                float *dst = cols + (size_t)((c * k + ky) * k + kx) * ld + col_off;
                for (int oy = 0; oy < ho; oy++) {
                    float *d = dst + (size_t)oy * wo;
                    if (oy < ylo || oy >= yhi) {
                        memset(d, 0, sizeof(float) * wo);
                        continue;
                    }
                    const float *src = img + (size_t)c * ip->stride + ip->origin +
                                       (size_t)(oy * st - p + ky) * ip->row - p + kx;
                    for (int ox = 0; ox < xlo; ox++) d[ox] = 0.0f;
                    if (st == 1) {
                        memcpy(d + xlo, src + xlo, sizeof(float) * (xhi - xlo));
                    } else {
                        for (int ox = xlo; ox < xhi; ox++) d[ox] = src[ox * st];
                    }
                    for (int ox = xhi; ox < wo; ox++) d[ox] = 0.0f;
                }
            }
        }
    }
}

/* img[c][iy][ix] += cols[row][col_off + ...]: the adjoint of im2col (planes in layout ip). */
static void col2im(float *img, const Planes *ip, const float *cols, size_t ld, size_t col_off, const ConvShape *s,
                   int parallel) {
    const int k = s->k, st = s->stride, p = s->pad, h = s->h, w = s->w, ho = s->ho, wo = s->wo;
#pragma omp parallel for schedule(static) if (parallel)
    for (int c = 0; c < s->cin; c++) {
        for (int ky = 0; ky < k; ky++) {
            int ylo, yhi;
            valid_range(h, ho, st, p, ky, &ylo, &yhi);
            for (int kx = 0; kx < k; kx++) {
                int xlo, xhi;
                valid_range(w, wo, st, p, kx, &xlo, &xhi);
                const float *srcrow = cols + (size_t)((c * k + ky) * k + kx) * ld + col_off;
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *sr = srcrow + (size_t)oy * wo;
                    float *d = img + (size_t)c * ip->stride + ip->origin + (size_t)(oy * st - p + ky) * ip->row - p + kx;
                    if (st == 1) {
                        for (int ox = xlo; ox < xhi; ox++) d[ox] += sr[ox];
                    } else {
                        for (int ox = xlo; ox < xhi; ox++) d[ox * st] += sr[ox];
                    }
                }
            }
        }
    }
}

/* Forward of images [n0, n0+g). */
static void forward_chunk(float *out, const float *in, const float *weight, const ConvShape *s,
                          ConvScratch sc, int n0, int g, int parallel_inner) {
    const Planes ip = conv_in_planes(s), op = conv_out_planes(s);
    const size_t hw = (size_t)s->ho * s->wo, in_img = (size_t)s->cin * ip.stride;
    const size_t out_img = (size_t)s->cout * op.stride, gcols = (size_t)g * hw;
    const int ckk = s->cin * s->k * s->k;
    const float *cols = sc.cols;
    if (g == 1 && is_pointwise(s) && !s->in_padded) {
        cols = in + (size_t)n0 * in_img;
    } else {
        for (int i = 0; i < g; i++)
            im2col(sc.cols, gcols, i * hw, in + (size_t)(n0 + i) * in_img, &ip, s, parallel_inner);
    }
    if (g == 1 && !s->out_padded) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, (int)hw, ckk, 1.0f, weight, s->w_row,
                    cols, (int)hw, 0.0f, out + (size_t)n0 * out_img, (int)hw);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, (int)gcols, ckk, 1.0f, weight, s->w_row,
                cols, (int)gcols, 0.0f, sc.tmp, (int)gcols);
    for (int i = 0; i < g; i++)
        for (int co = 0; co < s->cout; co++)
            planes_from_compact(out + (size_t)(n0 + i) * out_img + (size_t)co * op.stride,
                                &op, sc.tmp + (size_t)co * gcols + i * hw, 1);
}

void conv2d_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws) {
    if (conv3x3_direct_applies(s)) {
        conv3x3_forward(out, in, weight, s, ws);
        return;
    }
    const int g = images_per_chunk(s), chunks = (s->n + g - 1) / g;
    const int threads = s->threads;
    if (chunks_in_parallel(s, threads)) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int ch = 0; ch < chunks; ch++) {
            int n0 = ch * g, gi = s->n - n0 < g ? s->n - n0 : g;
            forward_chunk(out, in, weight, s, scratch_for(s, ws, omp_get_thread_num()), n0, gi, 0);
        }
    } else {
        ConvScratch sc = scratch_for(s, ws, 0);
        for (int n0 = 0; n0 < s->n; n0 += g) forward_chunk(out, in, weight, s, sc, n0, s->n - n0 < g ? s->n - n0 : g, 1);
    }
}

/* Backward of images [n0, n0+g): dw_acc (row stride ldw) += dO . cols^T; dinp from W^T . dO. */
static void backward_chunk(float *dinp, float *dw_acc, int ldw, const float *dout, const float *in,
                           const float *weight, const ConvShape *s, ConvScratch sc, int n0, int g,
                           int accumulate, int parallel_inner) {
    const Planes ip = conv_in_planes(s), op = conv_out_planes(s);
    const size_t hw = (size_t)s->ho * s->wo, in_img = (size_t)s->cin * ip.stride;
    const size_t out_img = (size_t)s->cout * op.stride, gcols = (size_t)g * hw;
    const int ckk = s->cin * s->k * s->k;
    const float *dO;
    if (g == 1 && !s->out_padded) {
        dO = dout + (size_t)n0 * out_img;
    } else {
        for (int i = 0; i < g; i++)
            for (int co = 0; co < s->cout; co++)
                planes_to_compact(sc.tmp + (size_t)co * gcols + i * hw,
                                  dout + (size_t)(n0 + i) * out_img + (size_t)co * op.stride, &op, 1);
        dO = sc.tmp;
    }
    const float *cols = sc.cols;
    int pointwise = g == 1 && is_pointwise(s) && !s->in_padded;
    if (pointwise) {
        cols = in + (size_t)n0 * in_img;
    } else {
        for (int i = 0; i < g; i++)
            im2col(sc.cols, gcols, i * hw, in + (size_t)(n0 + i) * in_img, &ip, s, parallel_inner);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->cout, ckk, (int)gcols, 1.0f, dO, (int)gcols, cols,
                (int)gcols, 1.0f, dw_acc, ldw);
    if (!dinp) return;
    if (pointwise) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, (int)gcols, s->cout, 1.0f, weight, s->w_row, dO,
                    (int)gcols, accumulate ? 1.0f : 0.0f, dinp + (size_t)n0 * in_img, (int)gcols);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, (int)gcols, s->cout, 1.0f, weight, s->w_row, dO,
                (int)gcols, 0.0f, sc.dcols, (int)gcols);
    for (int i = 0; i < g; i++) {
        float *dx = dinp + (size_t)(n0 + i) * in_img;
        if (!accumulate) memset(dx, 0, sizeof(float) * in_img); /* padded borders too */
        col2im(dx, &ip, sc.dcols, gcols, i * hw, s, parallel_inner);
    }
}

void conv2d_backward(float *dinp, float *dweight, const float *dout, const float *in, const float *weight,
                     const ConvShape *s, float *ws, int accumulate) {
    conv2d_backward_bn(dinp, dweight, dout, in, weight, s, ws, accumulate, NULL);
}

/* The im2col + sgemm backward of every image (dinp NULL: the weight gradient only). */
static void gemm_backward(float *dinp, float *dweight, const float *dout, const float *in, const float *weight,
                          const ConvShape *s, float *ws, int accumulate) {
    const int g = images_per_chunk(s), chunks = (s->n + g - 1) / g;
    const int threads = s->threads;
    const int ckk = s->cin * s->k * s->k;
    if (chunks_in_parallel(s, threads)) {
        int team = 1;
#pragma omp parallel num_threads(threads)
        {
            int t = omp_get_thread_num();
            if (t == 0) team = omp_get_num_threads();
            ConvScratch sc = scratch_for(s, ws, t);
            memset(sc.dw, 0, sizeof(float) * (size_t)s->cout * ckk);
#pragma omp for schedule(static)
            for (int ch = 0; ch < chunks; ch++) {
                int n0 = ch * g, gi = s->n - n0 < g ? s->n - n0 : g;
                backward_chunk(dinp, sc.dw, ckk, dout, in, weight, s, sc, n0, gi, accumulate, 0);
            }
        }
        /* Deterministic reduction: thread 0's partial first, then 1, ... */
        for (int t = 0; t < team; t++) {
            const float *part = scratch_for(s, ws, t).dw;
#pragma omp parallel for schedule(static) num_threads(threads)
            for (int co = 0; co < s->cout; co++) {
                float *dst = dweight + (size_t)co * s->w_row;
                const float *src = part + (size_t)co * ckk;
                for (int j = 0; j < ckk; j++) dst[j] += src[j];
            }
        }
    } else {
        ConvScratch sc = scratch_for(s, ws, 0);
        for (int n0 = 0; n0 < s->n; n0 += g)
            backward_chunk(dinp, dweight, s->w_row, dout, in, weight, s, sc, n0, s->n - n0 < g ? s->n - n0 : g,
                           accumulate, 1);
    }
}

/* Whether a 3x3 conv's weight gradient goes through im2col + sgemm instead of the direct kernel: with
 * 256 output channels or more each im2col column feeds enough of them to pay for its packing
 * (PERFORMANCE.md, Zen 5: AlexNet's conv3 and conv4, 128 and 256 -> 256 channels at 7x7, 9-17% faster
 * on the avx512 and avx2 sets; conv5, 256 -> 128, 10% slower at 2 threads; ResNet-20's 16-64
 * channels stay direct, where sgemm lost). Its partial sums are per thread, so for these shapes the
 * gradient's bits depend on the thread count, as every im2col layer's do. */
static int weight_grad_by_gemm(const ConvShape *s) {
    /* a forced algorithm (DYNN_CONV3X3=direct|winograd) runs its own kernels on every shape */
    return kernel_set_conv_algo() == KERNEL_CONV_AUTO && s->cout >= 256 && s->cin >= 128;
}

void conv2d_backward_bn(float *dinp, float *dweight, const float *dout, const float *in, const float *weight,
                        const ConvShape *s, float *ws, int accumulate, const Conv3x3BnGrad *bn) {
    if (conv3x3_backward_applies(s)) {
        if (weight_grad_by_gemm(s))
            gemm_backward(NULL, dweight, dout, in, weight, s, ws, 0);
        else
            conv3x3_backward_weight(dweight, dout, in, s, ws);
        if (dinp) conv3x3_backward_data_bn(dinp, dout, weight, s, ws, accumulate, bn);
        return;
    }
    gemm_backward(dinp, dweight, dout, in, weight, s, ws, accumulate);
}
