/* nn/winograd3x3.c — 3x3 / pad 1 / stride 1 convolutions by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray 2016): forward, input gradient and weight gradient. Each 2x2 block of outputs (a "tile")
 * comes from a 4x4 block of inputs with 16 multiplications per channel pair instead of 36, so the bulk
 * of the work is 16 matrix products, one per point e of the transformed tile:
 *   forward         M[e] = U[e] V[e],  U[e][co][ci] = (G g G^T)[e] for the filter g = weight[co][ci],
 *                                      V[e][ci][t] = (B^T d B)[e] for the 4x4 input block d of tile t,
 *                   out tile t = A^T M[.][co][t] A;
 *   input gradient  the forward of the output gradient with the flipped, transposed filters;
 *   weight gradient dU[e][co][ci] = sum over tiles t of Yh[e][co][t] V[e][ci][t], Yh = A dy A^T for the
 *                   2x2 output-gradient block dy of tile t, and dweight += G^T dU G (the exact gradient
 *                   of the forward above, which in exact arithmetic is the direct convolution);
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *   A^T = [1 1 1 0; 0 1 -1 -1].
 * The products take 2.25x fewer multiply-adds than the direct kernels (nn/conv3x3.c); the transforms
 * cost the rest. Work goes in chunks of tile rows (whole images when an image has few tiles, else rows
 * of one image), a thread taking whole chunks, so that a chunk's V and M stay in the core's cache.
 * Results do not depend on the thread count: a split image's sums are added in chunk order, and the
 * weight gradient's chunks are summed in WGRAD_GROUPS fixed groups, then the groups in order.
 * Planes are compact or padded (layers.h). The outputs go through the epilogues of conv3x3.c's: an
 * inference BN's affine and ReLU, or a following BN's batch sums (forward); accumulation into the
 * destination, or the sums a preceding BN's backward needs (input gradient, Conv3x3BnGrad).
 * Built once per kernel set, like nn/conv3x3.c, which routes to it (winograd_chosen there); exports
 * only the winograd3x3_*_NAME functions of winograd3x3.h. */
#include "nn/winograd3x3.h"

#ifndef DYNN_KSET
#error "nn/winograd3x3.c is compiled per kernel set: build it with -DDYNN_KSET=NAME (see the Makefile's KSETS)"
#endif

#include <omp.h>
#include <string.h>

/* Vector width and the product's register block (CB output channels x QB vectors of tiles), from the
 * target's register file, as in nn/conv3x3.c. */
#if defined(__AVX512F__)
#define VL 16
#define QB 6
#elif defined(__AVX__)
#define VL 8
#define QB 3
#elif defined(__aarch64__)
#define VL 4
#define QB 6
#elif defined(__ARM_NEON)
#define VL 4
#define QB 3
#define CB 2
#elif defined(__SSE2__)
#define VL 4
#define QB 3
#else
#define VL 4
#define QB 2
#endif
#ifndef CB
#define CB 4
#endif

typedef float vf __attribute__((vector_size(VL * 4), aligned(4), may_alias));
#define vload(p) (*(const vf *)(p))
#define vstore(p, v) (*(vf *)(p) = (v))
static inline vf vsplat(float x) { return x - (vf){0}; }

/* The input vectors of the product on AVX2: kept in registers (else GCC folds them into every FMA). */
#if defined(__x86_64__) && defined(__AVX2__) && !defined(__AVX512F__)
#define KEEP_INPUT(x) __asm__("" : "+x"(x))
#else
#define KEEP_INPUT(x) ((void)0)
#endif

/* Lane shuffles (__builtin_shufflevector: GCC 12 and clang): even and odd lanes of the 2 VL floats
 * (a, b); and the interleave of two vectors' lanes. */
#if VL == 16
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define ZIP_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define ZIP_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#elif VL == 8
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14
#define ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15
#define ZIP_LO 0, 8, 1, 9, 2, 10, 3, 11
#define ZIP_HI 4, 12, 5, 13, 6, 14, 7, 15
#else
#define EVEN_LANES 0, 2, 4, 6
#define ODD_LANES 1, 3, 5, 7
#define ZIP_LO 0, 4, 1, 5
#define ZIP_HI 2, 6, 3, 7
#endif


/* The weight gradient's register block: GB_CO output-gradient rows x GB_CI input rows of vector
 * partial sums, plus one vector of each per step (GB_CO + GB_CI + GB_CO x GB_CI registers). */
#if VL == 16 || defined(__aarch64__)
#define GB_CO 4
#define GB_CI 4
#elif VL == 8 || defined(__SSE2__) || defined(__ARM_NEON)
#define GB_CO 3
#define GB_CI 3
#else
#define GB_CO 2
#define GB_CI 2
#endif

/* Tiles per chunk the chunking aims at: a chunk's V (16 x channels x tiles) and M stay in a core's
 * L2 for the channel counts of the models here. */
#define TARGET_TILES 96
/* The weight gradient's chunks are summed in this many groups (a thread takes whole groups), then the
 * groups in order: a fixed number, so that the sum's order does not depend on the thread count. */
#define WGRAD_GROUPS 16

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

typedef struct Grid {
    int h, w;         /* the planes' sides (output = input) */
    int th, tw;       /* tile rows and columns: ceil(h/2), ceil(w/2) */
    int twp;          /* tile columns rounded up to vectors */
    int rows_chunk;   /* tile rows per chunk when an image is split, else th */
    int imgs_chunk;   /* images per chunk (1 when split) */
    int chunks_img;   /* chunks per image (1 unless split) */
    int chunks;       /* chunks in all */
    int tp;           /* floats per channel row of V and M: a chunk's tiles and the twp floats the last
                         tile row's vectors reach past them, rounded up to an odd number of
                         16-float cache lines */
} Grid;

static Grid grid_of(int n, int h, int w) {
    Grid g;
    g.h = h;
    g.w = w;
    g.th = (h + 1) / 2;
    g.tw = (w + 1) / 2;
    g.twp = round_up(g.tw, VL);
    const int img_tiles = g.th * g.tw;
    if (img_tiles <= TARGET_TILES) {
        g.imgs_chunk = (TARGET_TILES + img_tiles - 1) / img_tiles;
        if (g.imgs_chunk > n) g.imgs_chunk = n < 1 ? 1 : n;
        g.rows_chunk = g.th;
        g.chunks_img = 1;
        g.chunks = (n + g.imgs_chunk - 1) / g.imgs_chunk;
    } else {
        g.imgs_chunk = 1;
        g.rows_chunk = (TARGET_TILES + g.tw - 1) / g.tw;
        if (g.rows_chunk > g.th) g.rows_chunk = g.th;
        g.chunks_img = (g.th + g.rows_chunk - 1) / g.rows_chunk;
        g.chunks = n * g.chunks_img;
    }
    g.tp = round_up(g.imgs_chunk * g.rows_chunk * g.tw + g.twp, 16);
    if (g.tp / 16 % 2 == 0) g.tp += 16; /* an odd number of cache lines: rows a power of two apart share cache sets */
    return g;
}

/* Where a chunk's tiles come from: its tile-row slot k (k < imgs * rpi) is tile row ty0 + k % rpi of
 * image img0 + k / rpi; part is the chunk's index within its image (split images), else 0. */
typedef struct Chunk {
    int img0, imgs, ty0, rpi, part;
} Chunk;

static Chunk chunk_at(const Grid *g, int n, int k) {
    Chunk c;
    if (g->chunks_img > 1) {
        c.img0 = k / g->chunks_img;
        c.imgs = 1;
        c.part = k % g->chunks_img;
        c.ty0 = c.part * g->rows_chunk;
        c.rpi = g->th - c.ty0 < g->rows_chunk ? g->th - c.ty0 : g->rows_chunk;
    } else {
        c.img0 = k * g->imgs_chunk;
        c.imgs = n - c.img0 < g->imgs_chunk ? n - c.img0 : g->imgs_chunk;
        c.part = 0;
        c.ty0 = 0;
        c.rpi = g->th;
    }
    return c;
}

/* Floats of a row buffer: a padded row's columns 0 .. 2 twp + 2 VL + 1. */
static size_t row_floats(const Grid *g) { return (size_t)round_up(2 * g->twp + 2 * VL + 2, VL); }

/* A thread's buffers for one chunk. */
typedef struct ChunkBuffers {
    float *v;      /* [16][rows_v][tp]: V (input tiles) */
    float *m;      /* [16][rows_m][tp]: M (products), or Yh (output-gradient tiles) */
    float *ct;     /* [4][2 rows_chunk + 2][twp]: one plane's column-transformed input rows */
    float *buf;    /* an input row copied out of a compact plane (zero around its values) */
    float *gbuf[2]; /* two output-gradient rows copied out of compact planes (zero after their values) */
    float *zeros;  /* a row of zeros */
    float *r0, *r1; /* [2 twp]: two output rows */
} ChunkBuffers;

static size_t chunk_buffer_floats(const Grid *g, int rows_v, int rows_m) {
    return (size_t)16 * (rows_v + rows_m) * g->tp + (size_t)4 * (2 * g->rows_chunk + 2) * g->twp +
           4 * row_floats(g) + (size_t)4 * g->twp + 2 * VL;
}

static ChunkBuffers chunk_buffers(float *ws, const Grid *g, int rows_v, int rows_m) {
    ChunkBuffers b;
    ws += (size_t)(VL - ((uintptr_t)ws / sizeof(float)) % VL) % VL;
    b.v = ws;
    b.m = b.v + (size_t)16 * rows_v * g->tp;
    b.ct = b.m + (size_t)16 * rows_m * g->tp;
    b.buf = b.ct + (size_t)4 * (2 * g->rows_chunk + 2) * g->twp;
    b.gbuf[0] = b.buf + row_floats(g);
    b.gbuf[1] = b.gbuf[0] + row_floats(g);
    b.zeros = b.gbuf[1] + row_floats(g);
    b.r0 = b.zeros + row_floats(g);
    b.r1 = b.r0 + 2 * g->twp;
    memset(b.buf, 0, sizeof(float) * 4 * row_floats(g));
    return b;
}

/* ---- transforms ---------------------------------------------------------------------------------- */

/* The padded input row r of a plane (r = 0 the top border, r = h + 1 the bottom one; beyond: zero)
 * from column 0 (the left border; w + 1 is the right one), readable up to column 2 twp + 2 VL + 1:
 * in place when the plane is padded, else copied into b->buf (zero around the values). In place, the
 * columns past w + 1 hold the next row's values (finite): they feed only tiles past tw, and for odd w
 * column w + 2, the last tile's d3, which reaches only that tile's junk output column (B^T's d3 goes to
 * the fourth column of V and M alone, which A^T sends to the tile's second output column only; in the
 * weight gradient it meets that column's zero output gradient). */
static const float *input_row(const ChunkBuffers *b, const float *plane, const Planes *ip, int r, const Grid *g) {
    if (r < 1 || r > g->h) return b->zeros;
    const float *values = plane + ip->origin + (size_t)(r - 1) * ip->row;
    if (planes_padded_p(ip)) return values - 1;
    memcpy(b->buf + 1, values, sizeof(float) * g->w);
    return b->buf;
}

/* Even and odd columns of the 2 VL floats at p. */
static inline void split_even_odd(vf *even, vf *odd, const float *p) {
    vf a = vload(p), c = vload(p + VL);
    *even = __builtin_shufflevector(a, c, EVEN_LANES);
    *odd = __builtin_shufflevector(a, c, ODD_LANES);
}

/* V[e][.][slot t] for the tiles of tile rows ty0 .. ty0 + rows - 1 of one channel's plane, stored at
 * v (its row of V[0]; V[e] is v_e floats further), tile row k at slot (slot0 + k) * tw. B^T goes over
 * the columns of each input row (into b->ct), then over the rows. */
static void transform_input_plane(float *v, size_t v_e, const float *plane, const Planes *ip, int ty0, int rows,
                                  int slot0, const Grid *g, const ChunkBuffers *b) {
    const int nrows = 2 * rows + 2, twp = g->twp;
    const size_t ct_m = (size_t)nrows * twp;
    for (int rr = 0; rr < nrows; rr++) {
        const float *row = input_row(b, plane, ip, 2 * ty0 + rr, g);
        float *c = b->ct + (size_t)rr * twp;
        for (int x = 0; x < twp; x += VL) {
            vf e0, o0, e1, o1; /* tile x reads columns 2x .. 2x + 3 */
            split_even_odd(&e0, &o0, row + 2 * x);
            split_even_odd(&e1, &o1, row + 2 * x + 2);
            vstore(c + x, e0 - e1);
            vstore(c + ct_m + x, o0 + e1);
            vstore(c + 2 * ct_m + x, e1 - o0);
            vstore(c + 3 * ct_m + x, o0 - o1);
        }
    }
    for (int k = 0; k < rows; k++) {
        float *t = v + (size_t)(slot0 + k) * g->tw;
        for (int m = 0; m < 4; m++) {
            const float *c = b->ct + m * ct_m + (size_t)2 * k * twp;
            for (int x = 0; x < twp; x += VL) {
                vf a0 = vload(c + x), a1 = vload(c + twp + x), a2 = vload(c + 2 * twp + x), a3 = vload(c + 3 * twp + x);
                vstore(t + (size_t)(0 + m) * v_e + x, a0 - a2);
                vstore(t + (size_t)(4 + m) * v_e + x, a1 + a2);
                vstore(t + (size_t)(8 + m) * v_e + x, a2 - a1);
                vstore(t + (size_t)(12 + m) * v_e + x, a1 - a3);
            }
        }
    }
}

/* Value row y of an output-gradient plane (y >= h: zero), from column 0 (column w and beyond read as
 * zero where tiles before tw read them), readable up to column 2 twp + VL. */
static const float *grad_row(const ChunkBuffers *b, int which, const float *plane, const Planes *op, int y,
                             const Grid *g) {
    if (y >= g->h) return b->zeros;
    const float *values = plane + op->origin + (size_t)y * op->row;
    if (planes_padded_p(op)) return values; /* column w is the right border: zero */
    memcpy(b->gbuf[which], values, sizeof(float) * g->w);
    return b->gbuf[which];
}

/* Yh[e][.][slot t] = (A dy A^T)[e] for the 2x2 output-gradient blocks of tile rows ty0 .. ty0 + rows - 1
 * of one channel's plane (layout as transform_input_plane's), A = [1 0; 1 1; 1 -1; 0 -1]. */
static void transform_grad_plane(float *yh, size_t y_e, const float *plane, const Planes *op, int ty0, int rows,
                                 int slot0, const Grid *g, const ChunkBuffers *b) {
    for (int k = 0; k < rows; k++) {
        const int ty = ty0 + k;
        float *t = yh + (size_t)(slot0 + k) * g->tw;
        const float *ra = grad_row(b, 0, plane, op, 2 * ty, g), *rb = grad_row(b, 1, plane, op, 2 * ty + 1, g);
        for (int x = 0; x < g->twp; x += VL) {
            vf a0, a1, b0, b1;
            split_even_odd(&a0, &a1, ra + 2 * x);
            split_even_odd(&b0, &b1, rb + 2 * x);
            const vf ca[4] = {a0, a0 + a1, a0 - a1, -a1}, cb[4] = {b0, b0 + b1, b0 - b1, -b1};
            for (int m = 0; m < 4; m++) {
                vstore(t + (size_t)(0 + m) * y_e + x, ca[m]);
                vstore(t + (size_t)(4 + m) * y_e + x, ca[m] + cb[m]);
                vstore(t + (size_t)(8 + m) * y_e + x, ca[m] - cb[m]);
                vstore(t + (size_t)(12 + m) * y_e + x, -cb[m]);
            }
        }
    }
}

/* U[e][cob][ci][c] = (G g G^T)[e], g the filter of output channel co = cob CB + c and input channel ci:
 * weight[co][ci] (forward), or for the input gradient (transposed) the flipped weight[ci][co]; zero
 * for co >= cout. cin, cout: the pass's input and output channels. */
static void transform_weights(float *u, const float *weight, int w_row, int cin, int cout, int coutp, int transposed) {
    for (int co = 0; co < coutp; co++)
        for (int ci = 0; ci < cin; ci++) {
            float k[9] = {0}, t[4][3], r[4][4];
            if (co < cout) {
                if (transposed)
                    for (int j = 0; j < 9; j++) k[j] = weight[(size_t)ci * w_row + (size_t)co * 9 + (8 - j)];
                else
                    for (int j = 0; j < 9; j++) k[j] = weight[(size_t)co * w_row + (size_t)ci * 9 + j];
            }
            for (int j = 0; j < 3; j++) {
                t[0][j] = k[j];
                t[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
                t[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
                t[3][j] = k[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                r[i][0] = t[i][0];
                r[i][1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                r[i][2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                r[i][3] = t[i][2];
            }
            for (int e = 0; e < 16; e++)
                u[(((size_t)e * (coutp / CB) + co / CB) * cin + ci) * CB + co % CB] = r[e / 4][e % 4];
        }
}

/* ---- the forward-shaped pass (forward and input gradient) ----------------------------------------- */

/* One CB x nv block of the product: m[c][t..] = sum over ci of u[ci][c] * v[ci][t..]. */
static inline __attribute__((always_inline)) void product_block(float *m, size_t m_row, const float *u,
                                                                const float *v, size_t v_row, int cin, int nv) {
    vf acc[CB][QB];
    for (int c = 0; c < CB; c++)
        for (int j = 0; j < nv; j++) acc[c][j] = (vf){0};
    for (int ci = 0; ci < cin; ci++) {
        vf x[QB];
        for (int j = 0; j < nv; j++) {
            x[j] = vload(v + (size_t)ci * v_row + j * VL);
            KEEP_INPUT(x[j]);
        }
        for (int c = 0; c < CB; c++) {
            vf w = vsplat(u[ci * CB + c]);
            for (int j = 0; j < nv; j++) acc[c][j] += w * x[j];
        }
    }
    for (int c = 0; c < CB; c++)
        for (int j = 0; j < nv; j++) vstore(m + (size_t)c * m_row + j * VL, acc[c][j]);
}

/* M[e] = U[e] V[e] for the 16 points, over the first nt tiles (rounded up to vectors). */
static void products(float *m, const float *u, const float *v, int cin, int coutp, int nt, size_t tp) {
    const int nvec = (nt + VL - 1) / VL, full = nvec / QB * QB, tail = nvec - full;
    for (int e = 0; e < 16; e++) {
        const float *ve = v + (size_t)e * cin * tp;
        for (int cob = 0; cob < coutp / CB; cob++) {
            const float *ub = u + ((size_t)e * (coutp / CB) + cob) * cin * CB;
            float *mb = m + ((size_t)e * coutp + (size_t)cob * CB) * tp;
            for (int j = 0; j < full; j += QB) product_block(mb + j * VL, tp, ub, ve + j * VL, tp, cin, QB);
            switch (tail) {
#define PRODUCT_TAIL(k)                                                                                \
    case k: product_block(mb + full * VL, tp, ub, ve + full * VL, tp, cin, k); break;
                PRODUCT_TAIL(1)
#if QB > 2
                PRODUCT_TAIL(2)
#endif
#if QB > 3
                PRODUCT_TAIL(3)
#endif
#if QB > 4
                PRODUCT_TAIL(4)
#endif
#if QB > 5
                PRODUCT_TAIL(5)
#endif
#undef PRODUCT_TAIL
            default: break;
            }
        }
    }
}

/* Output rows 2 ty and 2 ty + 1 (2 twp floats each into r0, r1) from M of one tile row (m: its first
 * tile in M[0]; M[e] m_e floats further). */
static void transform_output_row(float *r0, float *r1, const float *m, size_t m_e, int twp) {
    for (int x = 0; x < twp; x += VL) {
        vf a[4][4];
        for (int e = 0; e < 16; e++) a[e / 4][e % 4] = vload(m + (size_t)e * m_e + x);
        vf s0[4], s1[4];
        for (int j = 0; j < 4; j++) {
            s0[j] = a[0][j] + a[1][j] + a[2][j];
            s1[j] = a[1][j] - a[2][j] - a[3][j];
        }
        vf y00 = s0[0] + s0[1] + s0[2], y01 = s0[1] - s0[2] - s0[3];
        vf y10 = s1[0] + s1[1] + s1[2], y11 = s1[1] - s1[2] - s1[3];
        vstore(r0 + 2 * x, __builtin_shufflevector(y00, y01, ZIP_LO));
        vstore(r0 + 2 * x + VL, __builtin_shufflevector(y00, y01, ZIP_HI));
        vstore(r1 + 2 * x, __builtin_shufflevector(y10, y11, ZIP_LO));
        vstore(r1 + 2 * x + VL, __builtin_shufflevector(y10, y11, ZIP_HI));
    }
}

/* Writes one output row (w values of r) of channel co at dst through the epilogue, adding the row's
 * sums to sum[0..1] where the epilogue keeps them. */
static void store_row(float *dst, const float *r, int w, int co, const Winograd3x3Epilogue *e, double *sum) {
    if (e->bn) { /* g = (dst +) r, masked by the BN's ReLU; sums g and g (x - mean) */
        const Conv3x3BnGrad *bn = e->bn;
        const float *x = dst + e->x_off, *y = dst + e->y_off, mean = bn->mean[co];
        float a = 0.0f, b = 0.0f;
        for (int k = 0; k < w; k++) {
            float g = e->accumulate ? dst[k] + r[k] : r[k];
            if (bn->relu && !(y[k] > 0.0f)) g = 0.0f;
            dst[k] = g;
            a += g;
            b += g * (x[k] - mean);
        }
        sum[0] += a;
        sum[1] += b;
        return;
    }
    if (e->accumulate) {
        for (int k = 0; k < w; k++) dst[k] += r[k];
        return;
    }
    if (e->scale) {
        const float a = e->scale[co], b = e->shift[co];
        for (int k = 0; k < w; k++) {
            float v = r[k] * a + b;
            dst[k] = e->relu && v < 0.0f ? 0.0f : v;
        }
        return;
    }
    int k = 0;
    for (; k + VL <= w; k += VL) vstore(dst + k, vload(r + k));
    for (; k < w; k++) dst[k] = r[k];
    if (e->sums) {
        float a = 0.0f, b = 0.0f;
        for (k = 0; k < w; k++) {
            a += r[k];
            b += r[k] * r[k];
        }
        sum[0] += a;
        sum[1] += b;
    }
}

/* A forward-shaped pass: out planes [n][cout] (layout op) from in planes [n][cin] (layout ip) with
 * transformed filters u (transform_weights), through e. */
typedef struct Pass {
    float *out;
    const Planes *op;
    const float *in;
    const Planes *ip;
    const float *u;
    int cin, cout, coutp, n;
    const Grid *g;
    float *part; /* [n][chunks_img][cout][2]: each chunk's sums, when e keeps them */
    const Winograd3x3Epilogue *e;
} Pass;

static void pass_chunk(const Pass *p, int k, const ChunkBuffers *b) {
    const Grid *g = p->g;
    const Chunk c = chunk_at(g, p->n, k);
    const size_t tp = (size_t)g->tp;
    for (int i = 0; i < c.imgs; i++)
        for (int ci = 0; ci < p->cin; ci++)
            transform_input_plane(b->v + (size_t)ci * tp, (size_t)p->cin * tp,
                                  p->in + ((size_t)(c.img0 + i) * p->cin + ci) * p->ip->stride, p->ip, c.ty0, c.rpi,
                                  i * c.rpi, g, b);
    products(b->m, p->u, b->v, p->cin, p->coutp, c.imgs * c.rpi * g->tw, tp);
    const Planes *op = p->op;
    for (int i = 0; i < c.imgs; i++) {
        const int img = c.img0 + i;
        for (int co = 0; co < p->cout; co++) {
            float *plane = p->out + ((size_t)img * p->cout + co) * op->stride;
            double sum[2] = {0.0, 0.0};
            for (int k2 = 0; k2 < c.rpi; k2++) {
                const int ty = c.ty0 + k2;
                transform_output_row(b->r0, b->r1, b->m + (size_t)co * tp + (size_t)(i * c.rpi + k2) * g->tw,
                                     (size_t)p->coutp * tp, g->twp);
                store_row(plane + op->origin + (size_t)(2 * ty) * op->row, b->r0, g->w, co, p->e, sum);
                if (2 * ty + 1 < g->h)
                    store_row(plane + op->origin + (size_t)(2 * ty + 1) * op->row, b->r1, g->w, co, p->e, sum);
            }
            /* a padded plane written (not added to) gets zero borders, as the direct kernels leave them */
            if (planes_padded_p(op) && !p->e->accumulate && !p->e->bn && c.part == g->chunks_img - 1)
                planes_zero_borders(plane, op);
            if (p->e->sums) {
                float *ps = p->part + (((size_t)img * g->chunks_img + c.part) * p->cout + co) * 2;
                ps[0] = (float)sum[0];
                ps[1] = (float)sum[1];
            }
        }
    }
}

static size_t pass_floats(const Grid *g, int n, int cin, int cout, int threads) {
    const int coutp = round_up(cout, CB);
    return (size_t)16 * coutp * cin + (size_t)n * g->chunks_img * cout * 2 +
           (size_t)threads * chunk_buffer_floats(g, cin, coutp) + VL;
}

static void run_pass(Pass *p, const float *weight, int w_row, int transposed, int threads, float *ws) {
    const Grid *g = p->g;
    float *u = ws;
    p->coutp = round_up(p->cout, CB);
    p->part = u + (size_t)16 * p->coutp * p->cin;
    float *thread_ws = p->part + (size_t)p->n * g->chunks_img * p->cout * 2;
    const size_t per_thread = chunk_buffer_floats(g, p->cin, p->coutp);
    transform_weights(u, weight, w_row, p->cin, p->cout, p->coutp, transposed);
    p->u = u;
#pragma omp parallel num_threads(threads)
    {
        const ChunkBuffers b = chunk_buffers(thread_ws + per_thread * omp_get_thread_num(), g, p->cin, p->coutp);
#pragma omp for schedule(static)
        for (int k = 0; k < g->chunks; k++) pass_chunk(p, k, &b);
    }
    if (!p->e->sums) return;
    for (int i = 0; i < p->n; i++)
        for (int co = 0; co < p->cout; co++) {
            float a = 0.0f, b = 0.0f;
            for (int j = 0; j < g->chunks_img; j++) {
                const float *ps = p->part + (((size_t)i * g->chunks_img + j) * p->cout + co) * 2;
                a += ps[0];
                b += ps[1];
            }
            p->e->sums[((size_t)i * p->cout + co) * 2] = a;
            p->e->sums[((size_t)i * p->cout + co) * 2 + 1] = b;
        }
}

/* ---- the weight gradient -------------------------------------------------------------------------- */

/* du[e][co][ci] += sum over the first nvec vectors of tiles of yh[e][co][t] v[e][ci][t], for co < cout_b
 * and ci < cin_b (multiples of GB_CO and GB_CI: rows past cout and cin hold zeros). */
static void grad_products(float *du, const float *yh, const float *v, int cout_b, int cin_b, int nvec, size_t tp) {
    for (int e = 0; e < 16; e++) {
        const float *ye = yh + (size_t)e * cout_b * tp, *ve = v + (size_t)e * cin_b * tp;
        float *de = du + (size_t)e * cout_b * cin_b;
        for (int co = 0; co < cout_b; co += GB_CO)
            for (int ci = 0; ci < cin_b; ci += GB_CI) {
                vf acc[GB_CO][GB_CI];
                for (int a = 0; a < GB_CO; a++)
                    for (int c = 0; c < GB_CI; c++) acc[a][c] = (vf){0};
                for (int j = 0; j < nvec; j++) {
                    vf y[GB_CO], x[GB_CI];
                    for (int a = 0; a < GB_CO; a++) y[a] = vload(ye + (size_t)(co + a) * tp + j * VL);
                    for (int c = 0; c < GB_CI; c++) {
                        x[c] = vload(ve + (size_t)(ci + c) * tp + j * VL);
                        KEEP_INPUT(x[c]);
                    }
                    for (int a = 0; a < GB_CO; a++)
                        for (int c = 0; c < GB_CI; c++) acc[a][c] += y[a] * x[c];
                }
                for (int a = 0; a < GB_CO; a++)
                    for (int c = 0; c < GB_CI; c++) {
                        float s = 0.0f;
                        for (int l = 0; l < VL; l++) s += acc[a][c][l];
                        de[(size_t)(co + a) * cin_b + ci + c] += s;
                    }
            }
    }
}

static size_t wgrad_floats(const Grid *g, int cin, int cout, int threads) {
    const int cin_b = round_up(cin, GB_CI), cout_b = round_up(cout, GB_CO);
    const int groups = g->chunks < WGRAD_GROUPS ? g->chunks : WGRAD_GROUPS;
    return (size_t)groups * 16 * cout_b * cin_b + (size_t)threads * chunk_buffer_floats(g, cin_b, cout_b) + VL;
}

static void wgrad_chunk(float *du, const float *dout, const Planes *op, const float *in, const Planes *ip, int n,
                        int cin, int cout, int cin_b, int cout_b, const Grid *g, int k, const ChunkBuffers *b) {
    const Chunk c = chunk_at(g, n, k);
    const size_t tp = (size_t)g->tp;
    const int nt = c.imgs * c.rpi * g->tw, nvec = (nt + VL - 1) / VL;
    for (int i = 0; i < c.imgs; i++) {
        for (int ci = 0; ci < cin; ci++)
            transform_input_plane(b->v + (size_t)ci * tp, (size_t)cin_b * tp,
                                  in + ((size_t)(c.img0 + i) * cin + ci) * ip->stride, ip, c.ty0, c.rpi, i * c.rpi, g,
                                  b);
        for (int co = 0; co < cout; co++)
            transform_grad_plane(b->m + (size_t)co * tp, (size_t)cout_b * tp,
                                 dout + ((size_t)(c.img0 + i) * cout + co) * op->stride, op, c.ty0, c.rpi, i * c.rpi,
                                 g, b);
    }
    /* the tiles past nt in the last vector: zero in Yh, so that they add nothing */
    for (int e = 0; e < 16; e++)
        for (int co = 0; co < cout; co++)
            memset(b->m + ((size_t)e * cout_b + co) * tp + nt, 0, sizeof(float) * (size_t)(nvec * VL - nt));
    grad_products(du, b->m, b->v, cout_b, cin_b, nvec, tp);
}

static void set_backward_weight(float *dweight, const float *dout, const float *in, const ConvShape *s, float *ws) {
    const Grid g = grid_of(s->n, s->h, s->w);
    const Planes ip = conv_in_planes(s), op = conv_out_planes(s);
    const int cin = s->cin, cout = s->cout, cin_b = round_up(cin, GB_CI), cout_b = round_up(cout, GB_CO);
    const int groups = g.chunks < WGRAD_GROUPS ? g.chunks : WGRAD_GROUPS;
    const size_t du_floats = (size_t)16 * cout_b * cin_b;
    float *du = ws, *thread_ws = du + (size_t)groups * du_floats;
    const size_t per_thread = chunk_buffer_floats(&g, cin_b, cout_b);
    const int threads = s->threads < 1 ? 1 : s->threads;
#pragma omp parallel num_threads(threads)
    {
        const ChunkBuffers b = chunk_buffers(thread_ws + per_thread * omp_get_thread_num(), &g, cin_b, cout_b);
        /* rows past cin and cout: zero, once (the chunks write only the channels' rows) */
        for (int e = 0; e < 16; e++) {
            for (int ci = cin; ci < cin_b; ci++) memset(b.v + ((size_t)e * cin_b + ci) * g.tp, 0, sizeof(float) * g.tp);
            for (int co = cout; co < cout_b; co++) memset(b.m + ((size_t)e * cout_b + co) * g.tp, 0, sizeof(float) * g.tp);
        }
#pragma omp for schedule(static)
        for (int grp = 0; grp < groups; grp++) {
            float *dg = du + (size_t)grp * du_floats;
            memset(dg, 0, sizeof(float) * du_floats);
            const int k0 = (int)((long)g.chunks * grp / groups), k1 = (int)((long)g.chunks * (grp + 1) / groups);
            for (int k = k0; k < k1; k++) wgrad_chunk(dg, dout, &op, in, &ip, s->n, cin, cout, cin_b, cout_b, &g, k, &b);
        }
    }
    for (int grp = 1; grp < groups; grp++)
        for (size_t k = 0; k < du_floats; k++) du[k] += du[(size_t)grp * du_floats + k];
    /* dweight += G^T dU G */
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++) {
            float d[4][4], t[3][4];
            for (int e = 0; e < 16; e++) d[e / 4][e % 4] = du[((size_t)e * cout_b + co) * cin_b + ci];
            for (int j = 0; j < 4; j++) {
                t[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
                t[1][j] = 0.5f * (d[1][j] - d[2][j]);
                t[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
            }
            float *dw = dweight + (size_t)co * s->w_row + (size_t)ci * 9;
            for (int i = 0; i < 3; i++) {
                dw[i * 3 + 0] += t[i][0] + 0.5f * (t[i][1] + t[i][2]);
                dw[i * 3 + 1] += 0.5f * (t[i][1] - t[i][2]);
                dw[i * 3 + 2] += 0.5f * (t[i][1] + t[i][2]) + t[i][3];
            }
        }
}

/* ---- entry points ----------------------------------------------------------------------------------- */

int WINOGRAD3X3_FN(chunks)(const ConvShape *s) { return grid_of(s->n, s->h, s->w).chunks; }

size_t WINOGRAD3X3_FN(workspace_floats)(const ConvShape *s, int threads) {
    const Grid g = grid_of(s->n, s->h, s->w);
    if (threads < 1) threads = 1;
    size_t need = pass_floats(&g, s->n, s->cin, s->cout, threads);
    const size_t data = pass_floats(&g, s->n, s->cout, s->cin, threads), wgrad = wgrad_floats(&g, s->cin, s->cout, threads);
    if (data > need) need = data;
    return wgrad > need ? wgrad : need;
}

/* The forward (transposed 0) or the input gradient (1: dout -> dinp with the flipped, transposed
 * filters) of s: the same pass with the roles of the two sides swapped. */
static void run_side_pass(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                          const Winograd3x3Epilogue *e, int transposed) {
    const Grid g = grid_of(s->n, s->h, s->w);
    const Planes ip = conv_in_planes(s), op = conv_out_planes(s);
    Pass p = {.out = out, .op = transposed ? &ip : &op, .in = in, .ip = transposed ? &op : &ip,
              .cin = transposed ? s->cout : s->cin, .cout = transposed ? s->cin : s->cout, .n = s->n, .g = &g, .e = e};
    run_pass(&p, weight, s->w_row, transposed, s->threads < 1 ? 1 : s->threads, ws);
}

void WINOGRAD3X3_FN(forward)(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                             const Winograd3x3Epilogue *e) {
    run_side_pass(out, in, weight, s, ws, e, 0);
}

void WINOGRAD3X3_FN(backward_data)(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                                   const Winograd3x3Epilogue *e) {
    run_side_pass(dinp, dout, weight, s, ws, e, 1);
}

void WINOGRAD3X3_FN(backward_weight)(float *dweight, const float *dout, const float *in, const ConvShape *s,
                                     float *ws) {
    set_backward_weight(dweight, dout, in, s, ws);
}
