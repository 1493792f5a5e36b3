/* util/sha256.h — SHA-256 (FIPS 180-4), streaming and one-shot, plus hex encoding.
 *
 * Used for stage cache keys, content-addressed artifacts (.dynn/store/) and experiment-file hashes.
 * Tested against the FIPS 180-4 / NIST CAVS example vectors in tests/unit/test_pipeline_sha256.c. */
#ifndef DYNN_UTIL_SHA256_H
#define DYNN_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX_LEN 64 /* characters, without the terminating NUL */

typedef struct Sha256 {
    uint32_t state[8];
    uint64_t total_bytes;
    uint8_t block[64];
    size_t block_len;
} Sha256;

void sha256_init(Sha256 *h);
void sha256_update(Sha256 *h, const void *data, size_t len);
void sha256_final(Sha256 *h, uint8_t digest[SHA256_BYTES]);

/* One-shot digest of a buffer. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_BYTES]);

/* Lower-case hex of a digest into out[SHA256_HEX_LEN + 1]. */
void sha256_hex(const uint8_t digest[SHA256_BYTES], char out[SHA256_HEX_LEN + 1]);

/* Digest of a buffer straight to hex. */
void sha256_hex_of(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
