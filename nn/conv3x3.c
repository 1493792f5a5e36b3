/* nn/conv3x3.c — direct 3x3 / pad 1 convolution (the bulk of a ResNet's FLOPs) without im2col:
 * forward at stride 1 and 2; at stride 1 also the input gradient (the same kernel on flipped,
 * transposed weights) and the weight gradient. (Stride-2 backward stays with im2col + sgemm: a
 * parity-class direct version measured no faster.)
 *
 * Padded layout (layers.h): planes of (H+2) rows of W+1 floats with zero borders, laid out flat:
 * one zero column per row serves as the right border of a row and the left border of the next.
 * Output position q = y*(W+1) + x then reads input q + ky*(W+1) + kx for tap (ky, kx): every tap
 * is a constant offset, so a vector of 16 consecutive outputs is 16 consecutive inputs (the one junk
 * column per row is computed, then zeroed or dropped). Tensors the model keeps padded are read and
 * written in place; compact ones are copied into padded planes (inputs) or written through flat
 * scratch planes (outputs). Stride 2 reads four parity planes per input channel instead (see
 * parity_planes), again one constant offset per tap. The kernel keeps a CB output channels x QB
 * vectors block of accumulators in registers; weights are packed as [co/CB][ci][tap][CB]. The
 * epilogue can apply an inference BN, add to the destination, and sum what the neighbouring BN
 * needs (its batch statistics in the forward, its backward sums in the input gradient).
 * The weight gradient reads padded planes of the inputs and output gradients image by image (16
 * registers: a block's images stacked, weight_grad_rows).
 * Written with GCC vector extensions, the vector width and blocking chosen per target (AVX-512,
 * AVX, aarch64 NEON, SSE2, armv7 NEON, generic); on AVX-512 the full forward blocks and the
 * weight-gradient block are assembly (direct_block_asm, weight_grad_3x9_avx512), on AVX2 the
 * forward blocks (direct_block_asm, the same loop). The file is built
 * once per kernel set (nn/kernel_set.h) and exports only that set's table. */
#include "nn/conv3x3.h"
#include "nn/arena.h"
#include "nn/kernel_set.h"
#include "nn/winograd3x3.h"
#include "nn/bn_kernels.h"

/* This file is compiled once per kernel set (Makefile: KSETS), with -DDYNN_KSET=NAME and the set's
 * instruction-set flags; everything here is static but the set's table, conv3x3_kernels_NAME. */
#ifndef DYNN_KSET
#error "nn/conv3x3.c is compiled per kernel set: build it with -DDYNN_KSET=NAME (see the Makefile's KSETS)"
#endif

#include <omp.h>
#include <string.h>

_Static_assert(CONV3X3_OVERREAD_FLOATS >= 16, "reads run up to one vector past a padded plane");

/* Register blocking per target, from the size of its vector register file:
 *   VL  floats per vector;
 *   QB  vectors per forward register block (CB x QB accumulators + QB inputs + 1 weight);
 *   WG  output channels per weight-gradient block (WG x 9 partial sums + WG gradients + 1 input). */
#if defined(__AVX512F__) /* 32 x 16 floats */
#define VL 16
#define QB 6
#define WG 3
#elif defined(__AVX__) /* 16 x 8 floats */
#define VL 8
#define QB 3
#define WG 1
#elif defined(__aarch64__) /* NEON: 32 x 4 floats */
#define VL 4
#define QB 6
#define WG 3
#elif defined(__SSE2__) /* 16 x 4 floats */
#define VL 4
#define QB 3
#define WG 1
#elif defined(__ARM_NEON) /* armv7 NEON: 16 x 4 floats. NEON has no memory operand, so the weight splat takes a
                              * register: AVX's 4 x 3 needs 4 * 3 + 3 + 1 = 16 and GCC spills ~200 times per input
                              * channel; 2 channels x 5 vectors is 10 + 5 + 1 without a spill, with 10 independent
                              * accumulators and one splat per 5 FMAs (4 x 2: 8, one per 2). */
#define VL 4
#define CB 2
#define QB 5
#define WG 1
#else
#define VL 4
#define QB 2
#define WG 1
#endif
#ifndef CB
#define CB 4 /* output channels per forward register block (the target's, where it sets one) */
#endif

typedef float vf __attribute__((vector_size(VL * 4), aligned(4), may_alias));

/* Unaligned vector load/store as single instructions. (memcpy of a vector is expanded by some
 * -mtune targets into two half-width stores and a full-width reload: a store-forwarding stall on
 * every load, 5x slower on AVX-512 machines tuned as rocketlake.) */
#define vload(p) (*(const vf *)(p))
#define vstore(p, v) (*(vf *)(p) = (v))

/* Keeps a loaded vector in a register: without it GCC folds the load into every FMA that uses it,
 * doubling the (unaligned, line-crossing) loads of the weight-gradient kernel. */
#if defined(__x86_64__) && defined(__AVX512F__)
#define KEEP_IN_REGISTER(x) __asm__("" : "+v"(x))
#else
#define KEEP_IN_REGISTER(x) ((void)0)
#endif
/* The forward's input vectors on AVX2: loaded once per tap into registers (else GCC folds them into
 * the FMAs as memory operands, one load per output channel, and moves accumulators between registers). */
#if defined(__x86_64__) && defined(__AVX2__) && !defined(__AVX512F__)
#define KEEP_INPUT(x) __asm__("" : "+x"(x))
#else
#define KEEP_INPUT(x) ((void)0)
#endif


/* A scalar in every lane: one broadcast, which folds into the FMA as a memory operand. (x - 0 is an
 * identity, so it compiles to the broadcast alone; (vf){0} + x is not one for x = -0.0 and costs an
 * add per use; a lane-by-lane loop compiles to 16 masked inserts.) */
static inline vf vsplat(float x) { return x - (vf){0}; }

typedef struct Geometry {
    int h, w, w2;   /* w2 = w + 1: floats per padded row */
    int qp;         /* output positions computed per plane, multiple of VL */
    int lead;       /* unused floats before the top border row, so that the values' origin (lead +
                       w2 + 1) is 64-byte aligned: output stores and gradient loads are aligned */
    int lp;         /* floats per padded plane (layers.h's padded stride), a multiple of 16 */
} Geometry;

static Geometry geometry(int h, int w) {
    Geometry g;
    g.h = h;
    g.w = w;
    g.w2 = w + 1;
    int q = h * g.w2;
    g.qp = (q + VL - 1) / VL * VL;
    /* (h+2) rows of w2 and the right border of the bottom row, which a valid output's last tap
     * reads; and room for the kernel's writes of positions [0, qp) from the origin. Reads for
     * junk and trailing positions run up to VL floats past a plane (CONV3X3_OVERREAD_FLOATS): they
     * land in the next plane or in slack, feed only outputs that are dropped or zeroed, or meet a
     * zero output gradient. */
    g.lead = (g.w2 + 1 + 15) / 16 * 16 - (g.w2 + 1);
    int used = (g.h + 2) * g.w2 + 1;
    if (g.w2 + 1 + g.qp > used) used = g.w2 + 1 + g.qp;
    g.lp = (g.lead + used + 15) / 16 * 16;
    return g;
}

static size_t set_padded_plane_floats(int h, int w) { return (size_t)geometry(h, w).lp; }

static int set_padded_origin(int h, int w) {
    const Geometry g = geometry(h, w);
    return g.lead + g.w2 + 1;
}

static int backward_applies(const ConvShape *s) { return s->k == 3 && s->pad == 1 && s->stride == 1; }

static int co_blocks(int c) { return (c + CB - 1) / CB; }

static int parity_plane_floats(const Geometry *go);
typedef struct WgBlocking {
    int block;    /* images per block */
    int ci_chunk; /* input channels per chunk */
} WgBlocking;
static WgBlocking weight_grad_blocking(int n, int cin, int cout, const Geometry *g);
#if WG == 1
static size_t zext_block_floats(const Geometry *g, int images);
static size_t x_stack_floats(const Geometry *g, int n);
#endif

/* Sizes saturate at SIZE_MAX (arena.h): a shape too large for size_t is sized as too large. The
 * geometry is int arithmetic, valid for sides up to CONV_MAX_SIDE (conv2d_workspace_floats refuses
 * larger ones before calling this). */
static size_t set_workspace_floats(const ConvShape *s, int threads) {
    const Geometry g = geometry(s->ho, s->wo); /* the output grid */
    const int cmax = s->cin > s->cout ? s->cin : s->cout;
    /* floats per input channel of one image's input planes: padded, or four parity planes */
    const size_t in_ci = s->stride == 1 ? (size_t)g.lp : (size_t)4 * parity_plane_floats(&g);
    size_t per_thread = size_add_sat(size_add_sat(size_mul_sat((size_t)cmax, in_ci),
                                                  size_mul_sat((size_t)co_blocks(cmax) * CB, (size_t)g.qp)),
                                     (size_t)2 * cmax * VL);
    size_t wpack = (size_t)co_blocks(cmax) * CB * cmax * 9, mask = (size_t)(g.qp + 15) / 16 * 16;
    size_t data = size_add_sat(wpack + mask + CONV3X3_OVERREAD_FLOATS,
                               size_mul_sat(per_thread, (size_t)(threads < 1 ? 1 : threads)));
    if (!backward_applies(s)) return data;
    /* weight gradient: padded copies of every image's input and output gradient (when compact),
     * and the sums */
    size_t wgrad = size_add_sat(size_mul_sat((size_t)s->n, size_mul_sat((size_t)s->cin + (size_t)s->cout, (size_t)g.lp)),
                                (size_t)s->cout * s->cin * 9 * VL + CONV3X3_OVERREAD_FLOATS);
#if WG == 1
    /* per thread, the rows kernel's stacked inputs and zero-extended stacked output gradients of a block
     * of images */
    const WgBlocking wb = weight_grad_blocking(s->n, s->cin, s->cout, &g);
    wgrad = size_add_sat(wgrad, size_mul_sat((size_t)(threads < 1 ? 1 : threads),
                                             size_add_sat(size_mul_sat((size_t)wb.ci_chunk, x_stack_floats(&g, wb.block)),
                                                          zext_block_floats(&g, wb.block))));
#endif
    if (wgrad > data) data = wgrad;
    if (s->stride != 1) return data;
    const size_t wino = WINOGRAD3X3_FN(workspace_floats)(s, threads);
    return wino > data ? wino : data;
}

/* Floats per parity plane of a stride-2 conv with output geometry go: output reads reach
 * qp - 1 + w2 + 1 plus a vector. */
static int parity_plane_floats(const Geometry *go) { return (go->qp + go->w2 + 1 + VL + 15) / 16 * 16; }

/* The four parity planes of each zero-padded input plane [h][w] for a stride-2 conv with output
 * geometry go: plane p = 2 ry + rx of channel ch holds padded[2Y + ry][2X + rx] at Y * go->w2 + X
 * for Y <= ho, X <= wo (padded[i][j] = in[i - 1][j - 1], zero outside the input); zero elsewhere.
 * Output (y, x) then reads tap (ky, kx) at plane 2 (ky & 1) + (kx & 1), offset
 * q + (ky >> 1) w2 + (kx >> 1), q = y w2 + x: a constant offset per tap, as for stride 1. */
static void parity_planes(float *dst, const float *src, const Planes *sp_layout, int c, const Geometry *go) {
    const int lp2 = parity_plane_floats(go), h = sp_layout->h, w = sp_layout->w;
    const size_t used = (size_t)(go->h + 1) * go->w2;
    for (int ch = 0; ch < c; ch++) {
        const float *sp = src + (size_t)ch * sp_layout->stride + sp_layout->origin;
        for (int p = 0; p < 4; p++) {
            const int ry = p >> 1, rx = p & 1;
            float *d = dst + ((size_t)ch * 4 + p) * lp2;
            if (planes_padded_p(sp_layout)) {
                /* padded[i][j] for -1 <= i <= h, -1 <= j <= w + 1 is a value or a zero border (j = w + 1
                 * is the next row's left border); i = h + 1 (odd h) is outside the plane: zeros */
                for (int Y = 0; Y <= go->h; Y++) {
                    float *row = d + (size_t)Y * go->w2;
                    if (2 * Y + ry - 1 > h) {
                        memset(row, 0, sizeof(float) * go->w2);
                        continue;
                    }
                    const float *srow = sp + (ptrdiff_t)(2 * Y + ry - 1) * sp_layout->row + rx - 1;
                    for (int X = 0; X <= go->w; X++) row[X] = srow[2 * X];
                }
                memset(d + used, 0, sizeof(float) * (lp2 - used));
                continue;
            }
            memset(d, 0, sizeof(float) * lp2);
            for (int Y = 0; Y <= go->h; Y++) {
                const int i = 2 * Y + ry - 1;
                if (i < 0 || i >= h) continue;
                float *row = d + (size_t)Y * go->w2;
                const float *srow = sp + (size_t)i * sp_layout->row;
                for (int X = 0; X <= go->w; X++) {
                    const int j = 2 * X + rx - 1;
                    if (j >= 0 && j < w) row[X] = srow[j];
                }
            }
        }
    }
}

/* Where each tap of a kernel reads its input, relative to the output position. */
typedef struct Taps {
    int off[9];       /* input offset of tap t from the output position, in floats */
    size_t ci_stride; /* floats between consecutive input channels' planes */
    int rows;         /* 1: the stride-1 table, off[t] = (t / 3) * row + t % 3; 0: parity planes
                         ci_stride / 4 apart, taps_stride2 */
    int row;          /* floats per row of the planes */
} Taps;

static Taps taps_stride1(const Geometry *g) {
    Taps tp = {.ci_stride = (size_t)g->lp, .rows = 1, .row = g->w2};
    for (int t = 0; t < 9; t++) tp.off[t] = (t / 3) * g->w2 + t % 3;
    return tp;
}

static Taps taps_stride2(const Geometry *go) {
    const int lp2 = parity_plane_floats(go);
    Taps tp = {.ci_stride = (size_t)4 * lp2, .row = go->w2};
    for (int t = 0; t < 9; t++) {
        const int ky = t / 3, kx = t % 3;
        tp.off[t] = ((ky & 1) * 2 + (kx & 1)) * lp2 + (ky >> 1) * go->w2 + (kx >> 1);
    }
    return tp;
}

/* What happens to each output value on its way out (an inference-mode BN folded in, or the sum
 * into a gradient another layer also writes). */
typedef struct Epilogue {
    int accumulate;      /* add to the destination instead of writing */
    const float *scale;  /* per output channel: v = v * scale + shift (NULL: none) */
    const float *shift;
    int relu;
    float *sums;         /* [n][cout][2]: each image's per-channel sums of the outputs: sum and sum of
                            squares (the next BN's batch statistics), or with bn those of its
                            backward; NULL: none */
    const Conv3x3BnGrad *bn; /* the outputs are a BN's output gradient (dy): sum g and
                                g (x - mean), g = dy masked by the ReLU */
    ptrdiff_t x_off, y_off;  /* with bn: the BN's input and output, as offsets from the outputs */
    const float *mask;   /* with sums: [qp] 1 at a value's position, 0 at junk and trailing ones */
    vf *vsum;            /* with sums: the current image's partial sums [cout][2] (per thread) */
} Epilogue;

typedef int vi __attribute__((vector_size(VL * 4)));

#if defined(__x86_64__) && defined(__AVX512F__)
/* The forward blocks of 4 output channels x 6 (or 4) vectors in AVX-512 assembly:
 * acc[c][v] = sum over cin input channels and 9 taps of w[ci][t][c] * x[ci][q + off(t) + 16 v].
 * Each accumulator has a fixed register (channel c in zmm 6c..6c+5, or 4c..4c+3), the inputs of a
 * tap zmm24..29, the broadcast weights alternate in zmm30/31. GCC's version of this loop moved
 * accumulators between registers (59 moves per 216 FMAs), which take the FMA ports. */
#define DK_LOAD(disp, addr, v, r) "vmovups " disp "+" #v "*64" addr ", %%zmm" r "\n\t"
#define DK_FMA(x, wr, a) "vfmadd231ps %%zmm" x ", %%zmm" wr ", %%zmm" a "\n\t"
#define DK_BCAST(t, c, wr) "vbroadcastss " #t "*16+" #c "*4(%[wp]), %%zmm" wr "\n\t"
#define DK_TAP6(t, disp, addr)                                                                         \
    DK_LOAD(disp, addr, 0, "24") DK_LOAD(disp, addr, 1, "25") DK_LOAD(disp, addr, 2, "26")              \
    DK_LOAD(disp, addr, 3, "27") DK_LOAD(disp, addr, 4, "28") DK_LOAD(disp, addr, 5, "29")              \
    DK_BCAST(t, 0, "30") DK_FMA("24", "30", "0") DK_FMA("25", "30", "1") DK_FMA("26", "30", "2")        \
    DK_FMA("27", "30", "3") DK_FMA("28", "30", "4") DK_FMA("29", "30", "5")                             \
    DK_BCAST(t, 1, "31") DK_FMA("24", "31", "6") DK_FMA("25", "31", "7") DK_FMA("26", "31", "8")        \
    DK_FMA("27", "31", "9") DK_FMA("28", "31", "10") DK_FMA("29", "31", "11")                           \
    DK_BCAST(t, 2, "30") DK_FMA("24", "30", "12") DK_FMA("25", "30", "13") DK_FMA("26", "30", "14")     \
    DK_FMA("27", "30", "15") DK_FMA("28", "30", "16") DK_FMA("29", "30", "17")                          \
    DK_BCAST(t, 3, "31") DK_FMA("24", "31", "18") DK_FMA("25", "31", "19") DK_FMA("26", "31", "20")     \
    DK_FMA("27", "31", "21") DK_FMA("28", "31", "22") DK_FMA("29", "31", "23")
#define DK_TAP4(t, disp, addr)                                                                         \
    DK_LOAD(disp, addr, 0, "24") DK_LOAD(disp, addr, 1, "25") DK_LOAD(disp, addr, 2, "26")              \
    DK_LOAD(disp, addr, 3, "27")                                                                       \
    DK_BCAST(t, 0, "30") DK_FMA("24", "30", "0") DK_FMA("25", "30", "1") DK_FMA("26", "30", "2")        \
    DK_FMA("27", "30", "3")                                                                            \
    DK_BCAST(t, 1, "31") DK_FMA("24", "31", "4") DK_FMA("25", "31", "5") DK_FMA("26", "31", "6")        \
    DK_FMA("27", "31", "7")                                                                            \
    DK_BCAST(t, 2, "30") DK_FMA("24", "30", "8") DK_FMA("25", "30", "9") DK_FMA("26", "30", "10")       \
    DK_FMA("27", "30", "11")                                                                           \
    DK_BCAST(t, 3, "31") DK_FMA("24", "31", "12") DK_FMA("25", "31", "13") DK_FMA("26", "31", "14")     \
    DK_FMA("27", "31", "15")
#define DK_ZERO(r) "vpxord %%zmm" r ", %%zmm" r ", %%zmm" r "\n\t"
#define DK_STORE(r) "vmovups %%zmm" r ", " r "*64(%[acc])\n\t"
#define DK_ZERO16                                                                                      \
    DK_ZERO("0") DK_ZERO("1") DK_ZERO("2") DK_ZERO("3") DK_ZERO("4") DK_ZERO("5") DK_ZERO("6") DK_ZERO("7") \
    DK_ZERO("8") DK_ZERO("9") DK_ZERO("10") DK_ZERO("11") DK_ZERO("12") DK_ZERO("13") DK_ZERO("14") DK_ZERO("15")
#define DK_ZERO24 DK_ZERO16 DK_ZERO("16") DK_ZERO("17") DK_ZERO("18") DK_ZERO("19") DK_ZERO("20") DK_ZERO("21") \
    DK_ZERO("22") DK_ZERO("23")
#define DK_STORE16                                                                                     \
    DK_STORE("0") DK_STORE("1") DK_STORE("2") DK_STORE("3") DK_STORE("4") DK_STORE("5") DK_STORE("6")    \
    DK_STORE("7") DK_STORE("8") DK_STORE("9") DK_STORE("10") DK_STORE("11") DK_STORE("12")              \
    DK_STORE("13") DK_STORE("14") DK_STORE("15")
#define DK_STORE24 DK_STORE16 DK_STORE("16") DK_STORE("17") DK_STORE("18") DK_STORE("19") DK_STORE("20") \
    DK_STORE("21") DK_STORE("22") DK_STORE("23")
#define DK_OPERANDS                                                                                    \
    : [ip] "+r"(ip), [wp] "+r"(wp), [n] "+r"(cin), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)        \
    : [acc] "r"(acc), [cis] "r"(cis), [w] "r"(w), [P] "r"(p)                                            \
    : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",      \
      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",   \
      "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31"
_Static_assert(CB == 4 && QB == 6 && VL == 16, "the assembly blocks are 4 channels x 6 or 4 vectors of 16 floats");
#define DK_PART 4 /* the partial block's vectors */
#define DK_TAP_FULL DK_TAP6
#define DK_TAP_PART DK_TAP4
#define DK_ZERO_FULL DK_ZERO24
#define DK_ZERO_PART DK_ZERO16
#define DK_STORE_FULL DK_STORE24
#define DK_STORE_PART DK_STORE16

#elif defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
/* The forward blocks of 4 output channels x 3 (or 2) vectors in AVX2 assembly, as the AVX-512 ones
 * above: acc[c][v] = sum over cin input channels and 9 taps of w[ci][t][c] * x[ci][q + off(t) + 8 v].
 * 16 registers: the accumulators in ymm 3c..3c+2 (or 2c..2c+1), the tap's inputs in ymm12..14, the
 * broadcast weight in ymm15. GCC's version keeps the same count but moves accumulators between
 * registers every tap (vfmadd132ps into the weight's register, then vmovaps). */
#define DK_LOAD(disp, addr, v, r) "vmovups " disp "+" #v "*32" addr ", %%ymm" r "\n\t"
#define DK_FMA(x, a) "vfmadd231ps %%ymm" x ", %%ymm15, %%ymm" a "\n\t"
#define DK_BCAST(t, c) "vbroadcastss " #t "*16+" #c "*4(%[wp]), %%ymm15\n\t"
#define DK_TAP3(t, disp, addr)                                                                         \
    DK_LOAD(disp, addr, 0, "12") DK_LOAD(disp, addr, 1, "13") DK_LOAD(disp, addr, 2, "14")              \
    DK_BCAST(t, 0) DK_FMA("12", "0") DK_FMA("13", "1") DK_FMA("14", "2")                                \
    DK_BCAST(t, 1) DK_FMA("12", "3") DK_FMA("13", "4") DK_FMA("14", "5")                                \
    DK_BCAST(t, 2) DK_FMA("12", "6") DK_FMA("13", "7") DK_FMA("14", "8")                                \
    DK_BCAST(t, 3) DK_FMA("12", "9") DK_FMA("13", "10") DK_FMA("14", "11")
#define DK_TAP2(t, disp, addr)                                                                         \
    DK_LOAD(disp, addr, 0, "12") DK_LOAD(disp, addr, 1, "13")                                          \
    DK_BCAST(t, 0) DK_FMA("12", "0") DK_FMA("13", "1")                                                 \
    DK_BCAST(t, 1) DK_FMA("12", "2") DK_FMA("13", "3")                                                 \
    DK_BCAST(t, 2) DK_FMA("12", "4") DK_FMA("13", "5")                                                 \
    DK_BCAST(t, 3) DK_FMA("12", "6") DK_FMA("13", "7")
#define DK_ZERO(r) "vxorps %%ymm" r ", %%ymm" r ", %%ymm" r "\n\t"
#define DK_STORE(r) "vmovups %%ymm" r ", " r "*32(%[acc])\n\t"
#define DK_ZERO8                                                                                       \
    DK_ZERO("0") DK_ZERO("1") DK_ZERO("2") DK_ZERO("3") DK_ZERO("4") DK_ZERO("5") DK_ZERO("6") DK_ZERO("7")
#define DK_ZERO12 DK_ZERO8 DK_ZERO("8") DK_ZERO("9") DK_ZERO("10") DK_ZERO("11")
#define DK_STORE8                                                                                      \
    DK_STORE("0") DK_STORE("1") DK_STORE("2") DK_STORE("3") DK_STORE("4") DK_STORE("5") DK_STORE("6")    \
    DK_STORE("7")
#define DK_STORE12 DK_STORE8 DK_STORE("8") DK_STORE("9") DK_STORE("10") DK_STORE("11")
#define DK_OPERANDS                                                                                    \
    : [ip] "+r"(ip), [wp] "+r"(wp), [n] "+r"(cin), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)        \
    : [acc] "r"(acc), [cis] "r"(cis), [w] "r"(w), [P] "r"(p)                                            \
    : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",      \
      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
_Static_assert(CB == 4 && QB == 3 && VL == 8, "the assembly blocks are 4 channels x 3 or 2 vectors of 8 floats");
#define DK_PART 2 /* the partial block's vectors */
#define DK_TAP_FULL DK_TAP3
#define DK_TAP_PART DK_TAP2
#define DK_ZERO_FULL DK_ZERO12
#define DK_ZERO_PART DK_ZERO8
#define DK_STORE_FULL DK_STORE12
#define DK_STORE_PART DK_STORE8

#endif

#if defined(__x86_64__) && (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__)))
/* Tap addresses and the loop over input channels, the same for both instruction sets: stride 1, rows
 * of w2 floats at ip, ip + w2, ip + 2 w2 and columns 0, 1, 2; stride 2, the four parity planes at ip,
 * r1 = ip + P, r2 = ip + 2P, r3 = ip + 3P (P floats apart), tap (ky, kx) in plane 2 (ky & 1) + (kx & 1)
 * at row ky >> 1 and column kx >> 1 (taps_stride2). */
#define DK_TAPS_STRIDE1(TAP)                                                                           \
    TAP(0, "0", "(%[ip])") TAP(1, "4", "(%[ip])") TAP(2, "8", "(%[ip])")                                \
    TAP(3, "0", "(%[ip],%[w],1)") TAP(4, "4", "(%[ip],%[w],1)") TAP(5, "8", "(%[ip],%[w],1)")           \
    TAP(6, "0", "(%[ip],%[w],2)") TAP(7, "4", "(%[ip],%[w],2)") TAP(8, "8", "(%[ip],%[w],2)")
#define DK_TAPS_STRIDE2(TAP)                                                                           \
    TAP(0, "0", "(%[ip])") TAP(1, "0", "(%[r1])") TAP(2, "4", "(%[ip])")                                \
    TAP(3, "0", "(%[r2])") TAP(4, "0", "(%[r3])") TAP(5, "4", "(%[r2])")                                \
    TAP(6, "0", "(%[ip],%[w],1)") TAP(7, "0", "(%[r1],%[w],1)") TAP(8, "4", "(%[ip],%[w],1)")
#define DK_LOOP(TAPS, TAP)                                                                             \
    "1:\n\t"                                                                                           \
    "lea (%[ip],%[P],1), %[r1]\n\t"                                                                    \
    "lea (%[ip],%[P],2), %[r2]\n\t"                                                                    \
    "lea (%[r1],%[P],2), %[r3]\n\t"                                                                    \
    TAPS(TAP)                                                                                          \
    "add $144, %[wp]\n\t"                                                                              \
    "add %[cis], %[ip]\n\t"                                                                            \
    "dec %[n]\n\t"                                                                                     \
    "jnz 1b\n\t"

/* acc[c][v] for nv = QB vectors (the full block) or DK_PART (cin >= 1); tp says the tap layout (stride 1
 * or parity planes). */
static void direct_block_asm(vf *acc, const float *ip, const float *wp, long cin, const Taps *tp, int nv) {
    const long cis = (long)tp->ci_stride * 4, w = (long)tp->row * 4, p = (long)tp->ci_stride;
    long r1, r2, r3;
    if (tp->rows && nv == QB)
        __asm__ volatile(DK_ZERO_FULL DK_LOOP(DK_TAPS_STRIDE1, DK_TAP_FULL) DK_STORE_FULL DK_OPERANDS);
    else if (tp->rows)
        __asm__ volatile(DK_ZERO_PART DK_LOOP(DK_TAPS_STRIDE1, DK_TAP_PART) DK_STORE_PART DK_OPERANDS);
    else if (nv == QB)
        __asm__ volatile(DK_ZERO_FULL DK_LOOP(DK_TAPS_STRIDE2, DK_TAP_FULL) DK_STORE_FULL DK_OPERANDS);
    else
        __asm__ volatile(DK_ZERO_PART DK_LOOP(DK_TAPS_STRIDE2, DK_TAP_PART) DK_STORE_PART DK_OPERANDS);
}
#define DIRECT_BLOCK_ASM 1
#undef DK_BCAST
#undef DK_FMA
#undef DK_LOAD
#undef DK_LOOP
#undef DK_OPERANDS
#undef DK_STORE
#undef DK_STORE12
#undef DK_STORE16
#undef DK_STORE24
#undef DK_STORE8
#undef DK_STORE_FULL
#undef DK_STORE_PART
#undef DK_TAP2
#undef DK_TAP3
#undef DK_TAP4
#undef DK_TAP6
#undef DK_TAPS_STRIDE1
#undef DK_TAPS_STRIDE2
#undef DK_TAP_FULL
#undef DK_TAP_PART
#undef DK_ZERO
#undef DK_ZERO12
#undef DK_ZERO16
#undef DK_ZERO24
#undef DK_ZERO8
#undef DK_ZERO_FULL
#undef DK_ZERO_PART
#endif

/* One register block: outputs [CB channels of block cob] x [nv vectors from q0] of planes
 * out_stride floats apart, through the epilogue e (NULL: plain stores). Inlined with a constant nv,
 * so each tail length gets its own fully unrolled code. */
static inline __attribute__((always_inline)) void direct_block(float *out, size_t out_stride, const Epilogue *e,
                                                               const float *inp, const float *wb, int cin,
                                                               const Taps *tp, int cob, int cout, int q0,
                                                               const int nv) {
    vf acc[CB][QB];
#ifdef DIRECT_BLOCK_ASM
    if (nv == QB && cin > 0) {
        direct_block_asm(&acc[0][0], inp + q0, wb, cin, tp, QB);
        cin = 0; /* done: skip the loop below */
    } else if (nv == DK_PART && cin > 0) {
        vf part[CB][DK_PART];
        direct_block_asm(&part[0][0], inp + q0, wb, cin, tp, DK_PART);
        for (int c = 0; c < CB; c++)
            for (int v = 0; v < DK_PART; v++) acc[c][v] = part[c][v];
        cin = 0;
    } else
#endif
        for (int c = 0; c < CB; c++)
            for (int v = 0; v < nv; v++) acc[c][v] = (vf){0};
    for (int ci = 0; ci < cin; ci++) {
        const float *ip = inp + (size_t)ci * tp->ci_stride + q0;
        const float *wp = wb + (size_t)ci * 9 * CB;
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            vf x[QB];
            const float *xp = ip + tp->off[t];
            for (int v = 0; v < nv; v++) {
                x[v] = vload(xp + v * VL);
                KEEP_INPUT(x[v]);
            }
            for (int c = 0; c < CB; c++) {
                vf wv = vsplat(wp[t * CB + c]);
                for (int v = 0; v < nv; v++) acc[c][v] += wv * x[v];
            }
        }
    }
    for (int c = 0; c < CB; c++) {
        int co = cob * CB + c;
        if (co >= cout) break;
        float *o = out + (size_t)co * out_stride + q0;
        if (!e) {
            for (int v = 0; v < nv; v++) vstore(o + v * VL, acc[c][v]);
            continue;
        }
        for (int v = 0; v < nv; v++) {
            vf r = acc[c][v];
            if (e->scale) r = r * vsplat(e->scale[co]) + vsplat(e->shift[co]);
            if (e->relu) r = (vf)((vi)r & (r > (vf){0}));
            if (e->accumulate) r += vload(o + v * VL);
            if (e->vsum && e->bn) { /* stores g: the BN backward needs no mask then (Conv3x3BnGrad) */
                vf g = r * vload(e->mask + q0 + v * VL);
                if (e->bn->relu) g = (vf)((vi)g & (vload(o + e->y_off + v * VL) > (vf){0}));
                vstore(o + v * VL, g);
                e->vsum[2 * co] += g;
                e->vsum[2 * co + 1] += g * (vload(o + e->x_off + v * VL) - vsplat(e->bn->mean[co]));
                continue;
            }
            vstore(o + v * VL, r);
            if (e->vsum) {
                vf rm = r * vload(e->mask + q0 + v * VL);
                e->vsum[2 * co] += rm;
                e->vsum[2 * co + 1] += rm * rm;
            }
        }
    }
}

/* out[co][q] (planes out_stride apart) for q in [0, qp), co in [0, cout) from input planes (tap
 * table tp) and weights packed [co/CB][ci][tap][CB], through the epilogue e (NULL: plain). */
static void direct_kernel(float *out, size_t out_stride, const Epilogue *e, const float *inp, const float *wpack,
                          int cin, const Taps *tp, int cout, int qp, int cob_begin, int cob_end) {
    int full = qp / (VL * QB) * (VL * QB), tail = (qp - full) / VL;
    /* A tail of one vector has CB accumulators, too few to hide the FMA latency: with 3-vector blocks,
     * the last full block and it go as two blocks of 2 instead (7 vectors: 3 + 2 + 2, not 3 + 3 + 1). */
    const int split = QB == 3 && tail == 1 && full > 0;
    if (split) full -= VL * QB;
    /* Position blocks outside, channel blocks inside: one block's input rows (all input channels)
     * stay in L1 while every output-channel block reads them. */
    for (int q0 = 0; q0 < full; q0 += VL * QB)
        for (int cob = cob_begin; cob < cob_end; cob++)
            direct_block(out, out_stride, e, inp, wpack + (size_t)cob * cin * 9 * CB, cin, tp, cob, cout, q0, QB);
    for (int cob = cob_begin; cob < cob_end; cob++) {
        const float *wb = wpack + (size_t)cob * cin * 9 * CB;
/* one case per tail length, each a constant for direct_block */
#define DIRECT_TAIL(k)                                                                                 \
    case k: direct_block(out, out_stride, e, inp, wb, cin, tp, cob, cout, full, k); break;
#if QB == 3
        if (split) {
            direct_block(out, out_stride, e, inp, wb, cin, tp, cob, cout, full, 2);
            direct_block(out, out_stride, e, inp, wb, cin, tp, cob, cout, full + 2 * VL, 2);
            continue;
        }
#endif
        switch (tail) { /* tail < QB */
            DIRECT_TAIL(1)
#if QB > 2
            DIRECT_TAIL(2)
#endif
#if QB > 3
            DIRECT_TAIL(3)
#endif
#if QB > 4
            DIRECT_TAIL(4)
#endif
#if QB > 5
            DIRECT_TAIL(5)
#endif
#undef DIRECT_TAIL
        default: break;
        }
    }
}

/* Drops the junk column of each row: flat [c][qp] -> compact [c][h][w], through the epilogue. */
static void unpad_planes(float *dst, const float *flat, int c, const Geometry *g, const Epilogue *e) {
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < g->h; y++) {
            float *d = dst + ((size_t)ch * g->h + y) * g->w;
            const float *s = flat + (size_t)ch * g->qp + (size_t)y * g->w2;
            if (e->accumulate) {
                for (int x = 0; x < g->w; x++) d[x] += s[x];
            } else if (e->scale) {
                const float a = e->scale[ch], b = e->shift[ch];
                for (int x = 0; x < g->w; x++) {
                    float v = s[x] * a + b;
                    d[x] = e->relu && v < 0.0f ? 0.0f : v;
                }
            } else {
                memcpy(d, s, sizeof(float) * g->w);
            }
        }
}

/* wpack[cob][ci][t][c] = weight of (output co = cob*CB+c, input ci, tap t); zero beyond cout. */
static void pack_forward(float *wpack, const float *weight, int w_row, int cin, int cout) {
    int nb = co_blocks(cout);
    for (int cob = 0; cob < nb; cob++)
        for (int ci = 0; ci < cin; ci++)
            for (int t = 0; t < 9; t++)
                for (int c = 0; c < CB; c++) {
                    int co = cob * CB + c;
                    wpack[(((size_t)cob * cin + ci) * 9 + t) * CB + c] =
                        co < cout ? weight[(size_t)co * w_row + ci * 9 + t] : 0.0f;
                }
}

/* For the input gradient: outputs are the conv's inputs, inputs its outputs, taps reversed. */
static void pack_backward(float *wpack, const float *weight, int w_row, int cin, int cout) {
    int nb = co_blocks(cin);
    for (int cib = 0; cib < nb; cib++)
        for (int co = 0; co < cout; co++)
            for (int t = 0; t < 9; t++)
                for (int c = 0; c < CB; c++) {
                    int ci = cib * CB + c;
                    wpack[(((size_t)cib * cout + co) * 9 + t) * CB + c] =
                        ci < cin ? weight[(size_t)co * w_row + ci * 9 + (8 - t)] : 0.0f;
                }
}

/* The planes the kernel reads for one image's c channels (src in layout sp): stride 1, padded
 * planes (the image itself when it is already padded, else a padded copy in dst); stride 2, each
 * channel's four parity planes, in dst. */
static const float *prepare_input(float *dst, const float *src, const Planes *sp, int c, int stride,
                                  const Geometry *g) {
    if (stride == 2) {
        parity_planes(dst, src, sp, c, g);
        return dst;
    }
    if (planes_padded_p(sp)) return src + g->lead;
    const Planes pp = planes_padded(g->h, g->w);
    planes_from_compact(dst, &pp, src, c);
    return dst + g->lead;
}

/* Writes one image's cout_k output planes: a padded destination is written in place by the kernel
 * (then its borders zeroed); a compact one through the flat scratch planes. */
typedef struct Dest {
    float *img;        /* the image's first plane */
    const Planes *dp;  /* its layout */
    float *flat;       /* scratch [cout_k][qp] for a compact destination */
} Dest;

static void kernel_into(const Dest *d, const Epilogue *e, const float *inp, const float *wpack, int cin_k,
                        const Taps *tp, int cout_k, const Geometry *g, int cob_begin, int cob_end) {
    if (planes_padded_p(d->dp))
        direct_kernel(d->img + d->dp->origin, d->dp->stride, e, inp, wpack, cin_k, tp, cout_k, g->qp, cob_begin,
                      cob_end);
    else
        direct_kernel(d->flat, (size_t)g->qp, NULL, inp, wpack, cin_k, tp, cout_k, g->qp, cob_begin, cob_end);
}

static float lane_sum(vf v);

/* Zeroes a padded image's borders or moves a compact one out of the flat planes; with sums, stores
 * image i's per-channel sums (from the kernel's partial sums, or from the compact planes). */
static void finish_image(const Dest *d, int cout_k, const Geometry *g, const Epilogue *e, int i) {
    if (!planes_padded_p(d->dp)) {
        unpad_planes(d->img, d->flat, cout_k, g, e);
        for (int co = 0; co < cout_k && e->sums && !e->bn; co++) {
            const float *p = d->img + (size_t)co * g->h * g->w;
            float a = 0.0f, b = 0.0f;
            for (int k = 0; k < g->h * g->w; k++) {
                a += p[k];
                b += p[k] * p[k];
            }
            e->sums[((size_t)i * cout_k + co) * 2] = a;
            e->sums[((size_t)i * cout_k + co) * 2 + 1] = b;
        }
        return;
    }
    for (int co = 0; co < cout_k; co++) planes_zero_borders(d->img + (size_t)co * d->dp->stride, d->dp);
    for (int co = 0; co < cout_k && e->sums; co++) {
        e->sums[((size_t)i * cout_k + co) * 2] = lane_sum(e->vsum[2 * co]);
        e->sums[((size_t)i * cout_k + co) * 2 + 1] = lane_sum(e->vsum[2 * co + 1]);
    }
}

/* Epilogue e for one image, with its partial sums in vsum (zeroed) when e keeps sums. */
static Epilogue image_epilogue(const Epilogue *e, vf *vsum, int cout_k, const Dest *d) {
    Epilogue ei = *e;
    ei.vsum = NULL;
    if (e->sums && planes_padded_p(d->dp)) {
        ei.vsum = vsum;
        for (int k = 0; k < 2 * cout_k; k++) vsum[k] = (vf){0};
    }
    return ei;
}

/* mask[q] = 1 where output position q of grid g is a value, else 0. */
static void value_mask(float *mask, const Geometry *g) {
    for (int q = 0; q < g->qp; q++) mask[q] = q < g->h * g->w2 && q % g->w2 < g->w ? 1.0f : 0.0f;
}

/* Runs planes [n][cin_k] (layout sp) -> [n][cout_k] on grid g (layout dp) with packed weights, over
 * images in parallel when there are enough of them, else over output-channel blocks. */
static void run(float *dst, const Planes *dp, const float *src, const Planes *sp, const float *wpack, int n,
                int cin_k, int cout_k, int stride, const Geometry *g, float *ws, int threads, const Epilogue *e) {
    const Taps tp = stride == 1 ? taps_stride1(g) : taps_stride2(g);
    size_t in_floats = (size_t)cin_k * tp.ci_stride, flat_floats = (size_t)co_blocks(cout_k) * CB * g->qp;
    size_t per_thread = in_floats + flat_floats + (size_t)2 * cout_k * VL;
    size_t src_img = (size_t)cin_k * sp->stride, dst_img = (size_t)cout_k * dp->stride;
    Epilogue with_mask = *e;
    if (e->sums) {
        with_mask.mask = ws;
        value_mask(ws, g);
        ws += (g->qp + 15) / 16 * 16;
    }
    if (n >= threads || threads == 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int i = 0; i < n; i++) {
            float *pad = ws + per_thread * omp_get_thread_num();
            const Dest d = {dst + i * dst_img, dp, pad + in_floats};
            const Epilogue ei = image_epilogue(&with_mask, (vf *)(void *)(pad + in_floats + flat_floats), cout_k, &d);
            const float *inp = prepare_input(pad, src + i * src_img, sp, cin_k, stride, g);
            kernel_into(&d, &ei, inp, wpack, cin_k, &tp, cout_k, g, 0, co_blocks(cout_k));
            finish_image(&d, cout_k, g, &ei, i);
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        const Dest d = {dst + i * dst_img, dp, ws + in_floats};
        const Epilogue ei = image_epilogue(&with_mask, (vf *)(void *)(ws + in_floats + flat_floats), cout_k, &d);
        const float *inp = prepare_input(ws, src + i * src_img, sp, cin_k, stride, g);
        int nb = co_blocks(cout_k);
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int b = 0; b < nb; b++) kernel_into(&d, &ei, inp, wpack, cin_k, &tp, cout_k, g, b, b + 1);
        finish_image(&d, cout_k, g, &ei, i);
    }
}

/* Whether this set's automatic choice ever takes Winograd: on AVX2 only. The AVX-512 direct kernels run
 * at 85-95% of the FMA peak, and Winograd measured slower there at every shape (forward 0.6-0.9x,
 * weight gradient 0.4x); the SSE2 and ARM sets were not measured. */
#if defined(__AVX__) && !defined(__AVX512F__)
#define WINOGRAD_AUTO 1
#else
#define WINOGRAD_AUTO 0
#endif

/* Fewest chunks (~96 tiles each) worth the filter transforms, which cost as much as ~15 tiles' products
 * and run every call: a batch-1 ResNet-20 forward measured 2.6 ms with Winograd against 1.0 direct. */
#define WINOGRAD_MIN_CHUNKS 4

/* Which pass of a convolution: the Winograd path's speed-up differs between them. */
enum { PASS_FORWARD, PASS_DATA, PASS_WEIGHT };

/* Whether a pass of s goes through Winograd F(2x2, 3x3) (nn/winograd3x3.c): wherever it can when forced
 * (DYNN_CONV3X3=winograd), never with DYNN_CONV3X3=direct, else where it measured faster than the direct
 * kernels (bench/conv_vs_sgemm with DYNN_CONV3X3, docs/RESULTS.md), on AVX2: the forward and
 * input gradient from 32 channels in and out, the weight gradient from 64, on even sides (odd ones
 * compute a wasted row and column of tiles), with a chunk of work for every thread and at least
 * WINOGRAD_MIN_CHUNKS (a batch-1 forward keeps the direct kernel, which splits output channels between
 * threads). Its transforms cost per
 * channel and its products per channel pair, so few channels leave it no faster. */
static int winograd_chosen(const ConvShape *s, int pass) {
    if (s->stride != 1 || s->k != 3 || s->pad != 1) return 0;
    const int algo = kernel_set_conv_algo();
    if (algo != KERNEL_CONV_AUTO) return algo == KERNEL_CONV_WINOGRAD;
    if (!WINOGRAD_AUTO) return 0;
    const int min_channels = pass == PASS_WEIGHT ? 64 : 32;
    return s->cin >= min_channels && s->cout >= min_channels && s->h % 2 == 0 && s->w % 2 == 0 &&
           WINOGRAD3X3_FN(chunks)(s) >= (s->threads > WINOGRAD_MIN_CHUNKS ? s->threads : WINOGRAD_MIN_CHUNKS);
}

/* The forward through an epilogue. */
static void forward_with(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                         const Epilogue *e) {
    if (winograd_chosen(s, PASS_FORWARD)) {
        const Winograd3x3Epilogue we = {.scale = e->scale, .shift = e->shift, .relu = e->relu, .sums = e->sums};
        WINOGRAD3X3_FN(forward)(out, in, weight, s, ws, &we);
        return;
    }
    Geometry g = geometry(s->ho, s->wo);
    int cmax = s->cin > s->cout ? s->cin : s->cout;
    float *wpack = ws, *rest = ws + (size_t)co_blocks(cmax) * CB * cmax * 9;
    pack_forward(wpack, weight, s->w_row, s->cin, s->cout);
    const Planes ip = conv_in_planes(s), op = conv_out_planes(s);
    run(out, &op, in, &ip, wpack, s->n, s->cin, s->cout, s->stride, &g, rest, s->threads, e);
}

static void set_forward_affine(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                            const float *scale, const float *shift, int relu) {
    Epilogue e = {.scale = scale, .shift = shift, .relu = relu};
    forward_with(out, in, weight, s, ws, &e);
}

static void set_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws) {
    Epilogue e = {0};
    forward_with(out, in, weight, s, ws, &e);
}

static void set_forward_sums(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                          float *sums) {
    Epilogue e = {.sums = sums};
    forward_with(out, in, weight, s, ws, &e);
}

static void set_backward_data_bn(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                              int accumulate, const Conv3x3BnGrad *bn) {
    Epilogue e = {.accumulate = accumulate};
    if (bn) {
        e.sums = bn->sums;
        e.bn = bn;
        e.x_off = bn->x - dinp;
        e.y_off = bn->y - dinp;
    }
    if (winograd_chosen(s, PASS_DATA)) {
        const Winograd3x3Epilogue we = {.accumulate = accumulate, .bn = bn, .sums = e.sums, .x_off = e.x_off,
                                        .y_off = e.y_off};
        WINOGRAD3X3_FN(backward_data)(dinp, dout, weight, s, ws, &we);
        return;
    }
    Geometry g = geometry(s->h, s->w);
    int cmax = s->cin > s->cout ? s->cin : s->cout;
    float *wpack = ws, *rest = ws + (size_t)co_blocks(cmax) * CB * cmax * 9;
    pack_backward(wpack, weight, s->w_row, s->cin, s->cout);
    const Planes ip = conv_in_planes(s), op = conv_out_planes(s);
    run(dinp, &ip, dout, &op, wpack, s->n, s->cout, s->cin, 1, &g, rest, s->threads, &e);
}

static float lane_sum(vf v) {
    float s = 0.0f;
    for (int l = 0; l < VL; l++) s += v[l];
    return s;
}

#if defined(__x86_64__) && defined(__AVX512F__)
/* One tap for the 3 x 9 weight-gradient block: load x at (row, column offset), then
 * a[c][t] += d[c] * x for the 3 output channels (d in zmm27..29, a[c][t] in zmm(9c + t)). */
#define WG_TAP(disp, row, xr, a0, a1, a2)                                                                \
    "vmovups " disp row ", %%zmm" xr "\n\t"                                                               \
    "vfmadd231ps %%zmm" xr ", %%zmm27, %%zmm" a0 "\n\t"                                                  \
    "vfmadd231ps %%zmm" xr ", %%zmm28, %%zmm" a1 "\n\t"                                                  \
    "vfmadd231ps %%zmm" xr ", %%zmm29, %%zmm" a2 "\n\t"

/* The full-group case of weight_grad_group in AVX-512 assembly: a[c * 9 + t] += sum over `images`
 * images and nq vectors of d[c][q] * x[q + offset(t)], for one input channel's padded planes x
 * (image stride x_img floats, row stride w2) and 3 output-gradient planes d (image stride d_img,
 * channel stride d_ch). GCC cannot keep 27 accumulators, 3 gradients and the tap in 32 registers
 * without rotating them through moves every iteration; here each has a fixed register. Each
 * iteration prefetches the next image's input and output-gradient lines (image-major planes are too
 * far apart for the hardware prefetcher). */
_Static_assert(WG == 3 && VL == 16, "the assembly block is 3 output channels x 9 taps of 16 floats");
static void weight_grad_3x9_avx512(vf *a, const float *x, const float *d, long images, long nq, long x_img,
                                   long d_img, long w2, long d_ch) {
    long xt, dt, qt;
    const long w = w2 * 4, c = d_ch * 4, ximg = x_img * 4, dimg = d_img * 4;
    __asm__ volatile(
        "vmovups 0(%[a]), %%zmm0\n\t"
        "vmovups 64(%[a]), %%zmm1\n\t"
        "vmovups 128(%[a]), %%zmm2\n\t"
        "vmovups 192(%[a]), %%zmm3\n\t"
        "vmovups 256(%[a]), %%zmm4\n\t"
        "vmovups 320(%[a]), %%zmm5\n\t"
        "vmovups 384(%[a]), %%zmm6\n\t"
        "vmovups 448(%[a]), %%zmm7\n\t"
        "vmovups 512(%[a]), %%zmm8\n\t"
        "vmovups 576(%[a]), %%zmm9\n\t"
        "vmovups 640(%[a]), %%zmm10\n\t"
        "vmovups 704(%[a]), %%zmm11\n\t"
        "vmovups 768(%[a]), %%zmm12\n\t"
        "vmovups 832(%[a]), %%zmm13\n\t"
        "vmovups 896(%[a]), %%zmm14\n\t"
        "vmovups 960(%[a]), %%zmm15\n\t"
        "vmovups 1024(%[a]), %%zmm16\n\t"
        "vmovups 1088(%[a]), %%zmm17\n\t"
        "vmovups 1152(%[a]), %%zmm18\n\t"
        "vmovups 1216(%[a]), %%zmm19\n\t"
        "vmovups 1280(%[a]), %%zmm20\n\t"
        "vmovups 1344(%[a]), %%zmm21\n\t"
        "vmovups 1408(%[a]), %%zmm22\n\t"
        "vmovups 1472(%[a]), %%zmm23\n\t"
        "vmovups 1536(%[a]), %%zmm24\n\t"
        "vmovups 1600(%[a]), %%zmm25\n\t"
        "vmovups 1664(%[a]), %%zmm26\n\t"
        "1:\n\t"
        "mov %[xbase], %[x]\n\t"
        "mov %[dbase], %[dp]\n\t"
        "mov %[nq], %[q]\n\t"
        "2:\n\t"
        "prefetcht0 (%[x],%[ximg],1)\n\t"
        "prefetcht0 (%[dp],%[dimg],1)\n\t"
        "prefetcht0 (%[dp],%[dpf1],1)\n\t"
        "prefetcht0 (%[dp],%[dpf2],1)\n\t"
        "vmovups (%[dp]), %%zmm27\n\t"
        "vmovups (%[dp],%[c],1), %%zmm28\n\t"
        "vmovups (%[dp],%[c],2), %%zmm29\n\t"
        WG_TAP("0", "(%[x])", "30", "0", "9", "18")
        WG_TAP("4", "(%[x])", "31", "1", "10", "19")
        WG_TAP("8", "(%[x])", "30", "2", "11", "20")
        WG_TAP("0", "(%[x],%[w],1)", "31", "3", "12", "21")
        WG_TAP("4", "(%[x],%[w],1)", "30", "4", "13", "22")
        WG_TAP("8", "(%[x],%[w],1)", "31", "5", "14", "23")
        WG_TAP("0", "(%[x],%[w],2)", "30", "6", "15", "24")
        WG_TAP("4", "(%[x],%[w],2)", "31", "7", "16", "25")
        WG_TAP("8", "(%[x],%[w],2)", "30", "8", "17", "26")
        "add $64, %[x]\n\t"
        "add $64, %[dp]\n\t"
        "dec %[q]\n\t"
        "jnz 2b\n\t"
        "add %[ximg], %[xbase]\n\t"
        "add %[dimg], %[dbase]\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        "vmovups %%zmm0, 0(%[a])\n\t"
        "vmovups %%zmm1, 64(%[a])\n\t"
        "vmovups %%zmm2, 128(%[a])\n\t"
        "vmovups %%zmm3, 192(%[a])\n\t"
        "vmovups %%zmm4, 256(%[a])\n\t"
        "vmovups %%zmm5, 320(%[a])\n\t"
        "vmovups %%zmm6, 384(%[a])\n\t"
        "vmovups %%zmm7, 448(%[a])\n\t"
        "vmovups %%zmm8, 512(%[a])\n\t"
        "vmovups %%zmm9, 576(%[a])\n\t"
        "vmovups %%zmm10, 640(%[a])\n\t"
        "vmovups %%zmm11, 704(%[a])\n\t"
        "vmovups %%zmm12, 768(%[a])\n\t"
        "vmovups %%zmm13, 832(%[a])\n\t"
        "vmovups %%zmm14, 896(%[a])\n\t"
        "vmovups %%zmm15, 960(%[a])\n\t"
        "vmovups %%zmm16, 1024(%[a])\n\t"
        "vmovups %%zmm17, 1088(%[a])\n\t"
        "vmovups %%zmm18, 1152(%[a])\n\t"
        "vmovups %%zmm19, 1216(%[a])\n\t"
        "vmovups %%zmm20, 1280(%[a])\n\t"
        "vmovups %%zmm21, 1344(%[a])\n\t"
        "vmovups %%zmm22, 1408(%[a])\n\t"
        "vmovups %%zmm23, 1472(%[a])\n\t"
        "vmovups %%zmm24, 1536(%[a])\n\t"
        "vmovups %%zmm25, 1600(%[a])\n\t"
        "vmovups %%zmm26, 1664(%[a])\n\t"
        : [xbase] "+r"(x), [dbase] "+r"(d), [n] "+r"(images), [x] "=&r"(xt), [dp] "=&r"(dt), [q] "=&r"(qt)
        : [a] "r"(a), [nq] "m"(nq), [w] "r"(w), [c] "r"(c), [ximg] "r"(ximg), [dimg] "r"(dimg),
          [dpf1] "r"(dimg + c), [dpf2] "r"(dimg + 2 * c)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}
#endif

#if WG == 1
/* The weight gradient of one output channel for register files of 16 vectors (AVX2, SSE2, armv7), by
 * rows: a[ky * 3 + kx] += sum over q of d[q] x[q + ky w2 + kx] is, with p = q + ky w2,
 * sum over p of d[p - ky w2] x[p + kx]: per vector of positions p, three gradient vectors (rows
 * p, p - w2, p - 2 w2) and three input vectors (columns p, p + 1, p + 2) feed all nine taps, six loads
 * for nine FMAs (the tap-by-tap form loads ten), in 9 + 3 + 1 registers.
 *
 * The images of a block are stacked: one input channel's planes one after another, h + 1 rows of w2
 * per image (the padded plane's top border row and its h rows), so that an image's top border is the
 * bottom border of the one before, and one image's output positions follow the last's. A block's
 * positions q then run over [0, images (h + 1) w2) with the row between images a junk row (zero
 * gradient), and p over [0, that + 2 w2): the gradient is read from a zero-extended stacked copy
 * (zext_block: 2 w2 zeros before, a zero row after each image, zeros after), so rows outside the
 * values add nothing. Per image that is h + 1 rows instead of the h + 2 of a plane on its own (a
 * ninth less work on 7x7 planes), and one long loop instead of a short one per image. */
static size_t zext_lead(const Geometry *g) { return (size_t)(2 * g->w2 + VL - 1) / VL * VL; }
/* Floats per image in a stack: h + 1 rows of w2. */
static size_t stack_image_floats(const Geometry *g) { return (size_t)(g->h + 1) * (size_t)g->w2; }
/* Positions p of a block of `images` (a multiple of VL). */
static size_t stack_span(const Geometry *g, int images) {
    return ((size_t)images * stack_image_floats(g) + (size_t)(2 * g->w2) + VL - 1) / VL * VL;
}
static size_t zext_block_floats(const Geometry *g, int images) { return zext_lead(g) + stack_span(g, images) + VL; }
/* Floats of one input channel's stack of n images: the planes, then zeros for the reads past the last
 * (weight_grad_rows reads up to stack_span + 1, at most 2 w2 + VL floats past it), a multiple of 16. */
static size_t x_stack_floats(const Geometry *g, int n) {
    return ((size_t)n * stack_image_floats(g) + (size_t)(2 * g->w2) + 2 * VL + 15) / 16 * 16;
}

/* One input channel's stack (x_stack_floats) from its n padded planes, x_img floats apart, zeros after. */
static void x_stack(float *xs, const float *plane, size_t x_img, int n, const Geometry *g) {
    const size_t per = stack_image_floats(g), end = x_stack_floats(g, n);
    for (int i = 0; i < n; i++) memcpy(xs + (size_t)i * per, plane + (size_t)i * x_img + g->lead, sizeof(float) * per);
    memset(xs + (size_t)n * per, 0, sizeof(float) * (end - (size_t)n * per));
}

/* dz[-zext_lead .. stack_span + VL) = the gradient planes of `images` images (d_img floats apart, at
 * their origins) stacked with a zero row after each, zeros around (dz = the returned origin). */
static const float *zext_block(float *buf, const float *d, size_t d_img, int images, const Geometry *g) {
    const size_t lead = zext_lead(g), rows = (size_t)g->h * (size_t)g->w2, per = stack_image_floats(g);
    memset(buf, 0, sizeof(float) * lead);
    float *o = buf + lead;
    for (int i = 0; i < images; i++, o += per) {
        memcpy(o, d + (size_t)i * d_img, sizeof(float) * rows);
        memset(o + rows, 0, sizeof(float) * (per - rows));
    }
    memset(o, 0, sizeof(float) * (stack_span(g, images) + VL - (size_t)images * per));
    return buf + lead;
}

/* Over positions [0, nq VL) of a stacked input x and zero-extended stacked gradient dz. */
static void weight_grad_rows(vf *a, const float *x, const float *dz, int nq, int w2) {
    vf a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], a8 = a[8];
    for (int p = 0; p < nq * VL; p += VL) {
        const vf d0 = vload(dz + p), d1 = vload(dz + p - w2), d2 = vload(dz + p - 2 * w2);
        vf xv = vload(x + p);
        a0 += d0 * xv;
        a3 += d1 * xv;
        a6 += d2 * xv;
        xv = vload(x + p + 1);
        a1 += d0 * xv;
        a4 += d1 * xv;
        a7 += d2 * xv;
        xv = vload(x + p + 2);
        a2 += d0 * xv;
        a5 += d1 * xv;
        a8 += d2 * xv;
    }
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3; a[4] = a4; a[5] = a5; a[6] = a6; a[7] = a7; a[8] = a8;
}
#endif

#if WG > 1
/* The generic form of weight_grad_3x9_avx512 for wg <= WG output channels (wg constant after
 * inlining): a[c * 9 + t] += sum over images and vectors of d[c][q] * x[q + offset(t)]. */
static inline __attribute__((always_inline)) void weight_grad_generic(vf *a, const float *x, const float *d,
                                                                      int images, int nq, size_t x_img,
                                                                      size_t d_img, size_t d_ch, const Taps *tp,
                                                                      const int wg) {
    vf acc[WG][9];
    for (int c = 0; c < wg; c++)
        for (int t = 0; t < 9; t++) acc[c][t] = a[c * 9 + t];
    for (int i = 0; i < images; i++) {
        const float *ip = x + (size_t)i * x_img, *d0 = d + (size_t)i * d_img;
        for (int q = 0; q < nq * VL; q += VL) {
            vf dv[WG];
            for (int c = 0; c < wg; c++) dv[c] = vload(d0 + (size_t)c * d_ch + q);
#pragma GCC unroll 9
            for (int t = 0; t < 9; t++) {
                vf xv = vload(ip + q + tp->off[t]);
                KEEP_IN_REGISTER(xv);
                for (int c = 0; c < wg; c++) acc[c][t] += dv[c] * xv;
            }
        }
    }
    for (int c = 0; c < wg; c++)
        for (int t = 0; t < 9; t++) a[c * 9 + t] = acc[c][t];
}

/* Adds images [i0, i1) to the partial sums of output channels [co0, co0 + wg), input channels
 * [ci0, ci1): acc[(ci * cout + co) * 9 + t] (vectors, summed across lanes at the end). x: the images'
 * padded input planes ([image][cin][lp]); d: their padded output-gradient planes at the origin
 * ([image][cout][lp], zero outside the values, so the junk positions add nothing). */
static void weight_grad_group(vf *acc, const float *x, const float *d, int ci0, int ci1, int cin, int cout, int co0,
                              int wg, int i0, int i1, const Geometry *g, const Taps *tp) {
    const size_t lp = (size_t)g->lp, x_img = (size_t)cin * lp, d_img = (size_t)cout * lp;
    const float *dg = d + (size_t)i0 * d_img + (size_t)co0 * lp;
    for (int ci = ci0; ci < ci1; ci++) {
        vf *a = acc + ((size_t)ci * cout + co0) * 9;
        const float *xc = x + (size_t)i0 * x_img + (size_t)ci * lp;
        const int images = i1 - i0, nq = g->qp / VL;
        if (wg == WG) {
#if defined(__x86_64__) && defined(__AVX512F__)
            weight_grad_3x9_avx512(a, xc, dg, images, nq, (long)x_img, (long)d_img, g->w2, (long)lp);
#else
            weight_grad_generic(a, xc, dg, images, nq, x_img, d_img, lp, tp, WG);
#endif
        }
#if WG > 1
        else if (wg == 1) weight_grad_generic(a, xc, dg, images, nq, x_img, d_img, lp, tp, 1);
#endif
#if WG > 2
        else weight_grad_generic(a, xc, dg, images, nq, x_img, d_img, lp, tp, 2);
#endif
    }
}
#endif

/* The weight gradient's blocking: images in blocks and input channels in chunks, so that a chunk's
 * input planes of a block (with a group's gradient planes, ~512 KiB: WG_BUDGET floats) stay in a
 * core's L2 cache while the thread's output channels read them. The partial sums (cin x cout x 9
 * vectors) are read and written once per block; while they fit the same budget there is one chunk of
 * every input channel and the block is as many images as fit. Larger partial sums come from memory
 * once per block (256 channels of 7x7 planes, AlexNet's conv4: 38 MB with AVX-512, read and written 22
 * times over a batch of 128 at 6 images a block), so the input channels are chunked to make blocks
 * larger (there: 18 channels, 78 images, the sums read twice): partial-sum traffic
 * 2 |sums| n / block against re-reading every gradient plane once per chunk, |d| cin / chunk with
 * chunk = budget / (block lp), is least at block = sqrt(2 * 9 VL * budget) / lp (76 images of 7x7
 * planes with AVX-512, 54 with AVX2). Depends on the shape only (not the threads), so every partial
 * sum takes the same additions in the same order whatever the thread count. */
#define WG_BUDGET (128u * 1024u)
static WgBlocking weight_grad_blocking(int n, int cin, int cout, const Geometry *g) {
    WgBlocking b = {.block = 1, .ci_chunk = cin > 0 ? cin : 1};
    if ((size_t)cin * (size_t)cout * 9u * VL > WG_BUDGET) {
        /* sqrt(2 * 9 VL * budget) / lp, at most n (the square root of a constant: folded by the compiler) */
        size_t target = (size_t)__builtin_sqrt(2.0 * 9 * VL * WG_BUDGET) / (size_t)g->lp;
        if (target > (size_t)n) target = (size_t)n;
        if (target < 1) target = 1;
        const size_t fit = WG_BUDGET / (target * (size_t)g->lp);
        const size_t chunk = fit > WG ? fit - WG : 1;
        if (chunk < (size_t)b.ci_chunk) b.ci_chunk = (int)chunk;
    }
    const size_t block = WG_BUDGET / ((size_t)(b.ci_chunk + WG) * (size_t)g->lp);
    b.block = block < 1 ? 1 : block > 4096 ? 4096 : (int)block;
    return b;
}

/* dweight[co][ci][t] += sum over images and positions q of dout[co][q] * in_pad[ci][q + off_t].
 * Reads the padded planes of the input and the output gradient (padded copies in the workspace of
 * whichever is compact). The output channels are split evenly between the threads, and each
 * thread's share into groups of at most WG (WG x 9 partial-sum vectors stay in registers). Input
 * channels are taken in chunks and images in blocks (weight_grad_blocking) whose input planes stay
 * in a core's L2 cache while the thread's groups read them, in order. Each output channel's partial
 * sums take the same additions in the same order whatever group or thread it falls in, so the result
 * is the same for any thread count. */
static void set_backward_weight(float *dweight, const float *dout, const float *in, const ConvShape *s, float *ws) {
    if (winograd_chosen(s, PASS_WEIGHT)) {
        WINOGRAD3X3_FN(backward_weight)(dweight, dout, in, s, ws);
        return;
    }
    const Geometry g = geometry(s->h, s->w);
#if WG > 1
    const Taps tp = taps_stride1(&g);
#endif
    const int n = s->n, cin = s->cin, cout = s->cout;
    const Planes pp = planes_padded(s->h, s->w);
    const size_t lp = (size_t)g.lp, x_img = (size_t)cin * lp, d_img = (size_t)cout * lp;
    float *next = ws;
    const float *x = in, *d = dout;
    if (!s->in_padded) {
        x = next;
        next += (size_t)n * x_img;
    }
    if (!s->out_padded) {
        d = next;
        next += (size_t)n * d_img;
    }
    vf *acc = (vf *)(void *)next;
    if (!s->in_padded || !s->out_padded) {
        const size_t hw = (size_t)s->h * s->w;
#pragma omp parallel for schedule(static) num_threads(s->threads)
        for (int i = 0; i < n; i++) {
            if (!s->in_padded) planes_from_compact((float *)x + i * x_img, &pp, in + i * cin * hw, cin);
            if (!s->out_padded) planes_from_compact((float *)d + i * d_img, &pp, dout + i * cout * hw, cout);
        }
    }
    const float *d0 = d + pp.origin;
    const WgBlocking wb = weight_grad_blocking(n, cin, cout, &g);
    const int block = wb.block;
    const int parts = s->threads < cout ? s->threads : cout;
#if WG == 1
    /* per thread, a block's input planes stacked per input channel and its gradient planes of one output
     * channel (weight_grad_rows) */
    const size_t xs_ch = x_stack_floats(&g, block), zext_floats = zext_block_floats(&g, block);
    const size_t xs_thread = (size_t)wb.ci_chunk * xs_ch + zext_floats;
    float *const stacks = (float *)(void *)(acc + (size_t)cout * cin * 9);
#endif
#pragma omp parallel num_threads(parts)
    {
        const int t = omp_get_thread_num(), team = omp_get_num_threads();
        const int c0 = (int)((long)cout * t / team), c1 = (int)((long)cout * (t + 1) / team);
        for (size_t k = (size_t)c0 * 9; k < (size_t)c1 * 9; k++)
            for (int ci = 0; ci < cin; ci++) acc[(size_t)ci * cout * 9 + k] = (vf){0};
        for (int ci0 = 0; ci0 < cin; ci0 += wb.ci_chunk) {
            const int ci1 = cin - ci0 > wb.ci_chunk ? ci0 + wb.ci_chunk : cin;
            for (int i0 = 0; i0 < n; i0 += block) {
                const int i1 = i0 + block < n ? i0 + block : n;
#if WG == 1
                /* by rows (weight_grad_rows): the block's input planes of the chunk stacked once per input
                 * channel, and its gradient planes once per output channel, then read for every input
                 * channel of the chunk */
                float *xs = stacks + (size_t)t * xs_thread, *zt = xs + (size_t)wb.ci_chunk * xs_ch;
                const int nq = (int)(stack_span(&g, i1 - i0) / VL);
                for (int ci = ci0; ci < ci1; ci++)
                    x_stack(xs + (size_t)(ci - ci0) * xs_ch, x + (size_t)i0 * x_img + (size_t)ci * lp, x_img, i1 - i0,
                            &g);
                for (int co = c0; co < c1; co++) {
                    const float *dz = zext_block(zt, d0 + (size_t)i0 * d_img + (size_t)co * lp, d_img, i1 - i0, &g);
                    for (int ci = ci0; ci < ci1; ci++)
                        weight_grad_rows(acc + ((size_t)ci * cout + co) * 9, xs + (size_t)(ci - ci0) * xs_ch, dz, nq,
                                         g.w2);
                }
#else
                for (int co0 = c0; co0 < c1; co0 += WG) {
                    const int wg = c1 - co0 < WG ? c1 - co0 : WG;
                    weight_grad_group(acc, x + g.lead, d0, ci0, ci1, cin, cout, co0, wg, i0, i1, &g, &tp);
                }
#endif
            }
        }
        for (int co = c0; co < c1; co++) {
            float *dwr = dweight + (size_t)co * s->w_row;
            for (int ci = 0; ci < cin; ci++)
                for (int k = 0; k < 9; k++) dwr[ci * 9 + k] += lane_sum(acc[((size_t)ci * cout + co) * 9 + k]);
        }
    }
}

/* The set's name and ISA as people read them (the compiler's target macros of this copy). */
#if defined(__x86_64__) && defined(__AVX512F__)
#define KSET_ISA "AVX-512"
#elif defined(__AVX2__) && defined(__FMA__)
#define KSET_ISA "AVX2+FMA"
#elif defined(__AVX__)
#define KSET_ISA "AVX"
#elif defined(__aarch64__)
#define KSET_ISA "NEON"
#elif defined(__ARM_NEON)
#define KSET_ISA "NEON (armv7)"
#elif defined(__SSE2__)
#define KSET_ISA "SSE2"
#else
#define KSET_ISA "scalar"
#endif
#define KSET_STR2(x) #x
#define KSET_STR(x) KSET_STR2(x)
#define KSET_TABLE2(x) conv3x3_kernels_##x
#define KSET_TABLE(x) KSET_TABLE2(x)

extern const Conv3x3Kernels KSET_TABLE(DYNN_KSET);
const Conv3x3Kernels KSET_TABLE(DYNN_KSET) = {
    .name = KSET_STR(DYNN_KSET),
    .isa = KSET_ISA,
    .vector_floats = VL,
    .workspace_floats = set_workspace_floats,
    .padded_plane_floats = set_padded_plane_floats,
    .padded_origin = set_padded_origin,
    .forward_affine = set_forward_affine,
    .forward = set_forward,
    .forward_sums = set_forward_sums,
    .backward_data_bn = set_backward_data_bn,
    .backward_weight = set_backward_weight,
    .affine_plane = BN_KERNELS_FN(affine_plane),
    .bn_grad_sums = BN_KERNELS_FN(grad_sums),
    .bn_backward_plane = BN_KERNELS_FN(backward_plane),
};
