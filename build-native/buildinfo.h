#define DYNN_GIT_COMMIT "e5b5314d8b7d"
#define DYNN_GIT_DIRTY 0
#define DYNN_VERSION "0.1.0"
#define DYNN_CFLAGS "-O3 -march=native"
#define DYNN_CC "12.2.0 cc"
