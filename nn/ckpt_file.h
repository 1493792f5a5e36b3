/* nn/ckpt_file.h — the checkpoint container: a text description plus named float32 tensors.
 *
 * Layout (little-endian; documented in docs/FORMATS.md):
 *   "DYNNCKPT" (8 bytes) | u32 version | u32 n_tensors | u64 meta_len | u32 meta_crc32 | meta bytes
 *   then per tensor: u16 name_len | name | u32 ndim | u64 dims[ndim] | u32 data_crc32 | f32 data[prod(dims)]
 *   then "DYNNEND\0" (8 bytes).
 * The model description and training metadata live in `meta` (text, written by nn/checkpoint.c).
 * Written atomically (temp file + rename). A wrong magic or version, a truncated file, a CRC
 * mismatch or trailing garbage is refused with a message naming the file, the tensor and offset. */
#ifndef DYNN_NN_CKPT_FILE_H
#define DYNN_NN_CKPT_FILE_H

#include <stdint.h>
#include <stddef.h>
#include "util/err.h"

#define CKPT_VERSION 1
#define CKPT_MAX_DIMS 8
#define CKPT_MAX_NAME 255

typedef struct CkptTensor {
    char name[CKPT_MAX_NAME + 1];
    int ndim;
    int64_t dims[CKPT_MAX_DIMS];
    float *data; /* prod(dims) floats; owned by CkptFile after ckpt_read, borrowed for ckpt_write */
} CkptTensor;

typedef struct CkptFile {
    char *meta;        /* NUL-terminated text */
    size_t meta_len;
    int n_tensors;
    CkptTensor *tensors;
} CkptFile;

/* prod(dims) (1 for ndim 0); -1 when ndim or a dimension is out of range or the byte count would
 * overflow int64. */
int64_t ckpt_tensor_numel(const CkptTensor *t);
/* meta may be NULL (empty). Refuses, before creating anything, names outside 1..CKPT_MAX_NAME bytes,
 * ndim outside 0..CKPT_MAX_DIMS, negative dimensions, missing data and duplicate names. */
int ckpt_write(const char *path, const char *meta, const CkptTensor *tensors, int n_tensors, Err *err);
/* Fills out (zeroed on failure); every size is checked against the file length before allocating.
 * Each tensor's data is non-NULL, even with zero elements. Free with ckpt_free. */
int ckpt_read(const char *path, CkptFile *out, Err *err);
/* The tensor with this name, or NULL. */
const CkptTensor *ckpt_find(const CkptFile *f, const char *name);
void ckpt_free(CkptFile *f);

#endif
