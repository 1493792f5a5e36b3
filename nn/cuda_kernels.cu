/* nn/cuda_kernels.cu — the `cuda` backend's own kernels (nn/backend_cuda.c), for everything cuDNN
 * and cuBLAS do not do. nvcc compiles this file into a fatbin (SASS for each of CUDA_ARCHS, PTX for
 * the newest so a later GPU can JIT it); the fatbin is embedded in dynn and loaded with
 * cuModuleLoadData when the backend opens. The names are extern "C" so the driver finds them as
 * written here. Tensors are dense [n][c][h][w] floats; `total` is the number of outputs, one thread
 * each (grid-stride). Shapes of each, in the backend's terms:
 *   affine  in, out [n][C][HW]; fold: scale[C_max] then shift[C_max]: out = in * scale + shift (ReLU)
 *   relu    in, out [total]
 *   add     a, b, out [total]: a + b (ReLU)
 *   maxpool in [planes][H][W] -> out [planes][Ho][Wo]; padding never wins (as the CPU's)
 *   gap     in [planes][HW] -> out [planes]: the mean
 *   bias    out [n][OUT] += bias[OUT] */
#define GRID_LOOP(i, total) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (total); \
                                 i += (long long)blockDim.x * gridDim.x)

extern "C" __global__ void dynn_affine(const float *in, float *out, const float *fold, int C_max, int C, int HW,
                                       int relu, long long total) {
    const float *scale = fold, *shift = fold + C_max;
    GRID_LOOP(i, total) {
        int c = (int)((i / HW) % C);
        float v = fmaf(in[i], scale[c], shift[c]);
        out[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

extern "C" __global__ void dynn_relu(const float *in, float *out, long long total) {
    GRID_LOOP(i, total) {
        float v = in[i];
        out[i] = v < 0.0f ? 0.0f : v;
    }
}

extern "C" __global__ void dynn_add(const float *a, const float *b, float *out, int relu, long long total) {
    GRID_LOOP(i, total) {
        float v = a[i] + b[i];
        out[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

extern "C" __global__ void dynn_maxpool(const float *in, float *out, int H, int W, int K, int S, int P, int Ho, int Wo,
                                        long long total) {
    GRID_LOOP(i, total) {
        int ox = (int)(i % Wo), oy = (int)((i / Wo) % Ho);
        const float *x = in + (i / ((long long)Wo * Ho)) * H * W;
        float best = 0.0f;
        int any = 0;
        for (int ky = 0; ky < K; ky++) {
            int iy = oy * S - P + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < K; kx++) {
                int ix = ox * S - P + kx;
                if (ix < 0 || ix >= W) continue;
                float v = x[iy * W + ix];
                if (!any || v > best) best = v, any = 1;
            }
        }
        out[i] = best;
    }
}

extern "C" __global__ void dynn_gap(const float *in, float *out, int HW, long long total) {
    GRID_LOOP(i, total) {
        const float *x = in + i * HW;
        float s = 0.0f;
        for (int k = 0; k < HW; k++) s += x[k];
        out[i] = s * (1.0f / (float)HW);
    }
}

extern "C" __global__ void dynn_bias(float *out, const float *bias, int OUT, long long total) {
    GRID_LOOP(i, total) out[i] += bias[i % OUT];
}
