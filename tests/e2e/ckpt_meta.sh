# tests/e2e/ckpt_meta.sh — reading and editing a checkpoint's description from the shell (sourced by
# tests/e2e/test_cli_nn.sh and fuzz/gen_corpus.sh), with coreutils and gzip only:
#   meta_of CKPT            the description text (the container's meta, docs/FORMATS.md)
#   with_meta SRC DST SED   SRC with its description edited by the sed script, its length and CRC
#                           rewritten: gzip's trailer holds the CRC-32 of its input, little-endian,
#                           as the checkpoint stores it
meta_of() {
  local LC_ALL=C len
  len=$(od -An -tu8 -j16 -N8 "$1" | tr -d ' ')
  head -c $((28 + len)) "$1" | tail -c +29
}
le64() { local v=$1 i; for ((i = 0; i < 8; i++)); do printf '\\x%02x' $(((v >> (8 * i)) & 255)); done; }
with_meta() {
  local LC_ALL=C len meta
  len=$(od -An -tu8 -j16 -N8 "$1" | tr -d ' ')
  meta=$(meta_of "$1" | sed "$3"; echo x); meta=${meta%x}
  { head -c 16 "$1"; printf "$(le64 ${#meta})"; printf '%s' "$meta" | gzip -c | tail -c 8 | head -c 4
    printf '%s' "$meta"; tail -c +$((29 + len)) "$1"; } > "$2"
}
