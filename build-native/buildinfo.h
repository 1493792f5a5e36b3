#define DYNN_GIT_COMMIT "4256072a2bf9"
#define DYNN_GIT_DIRTY 0
#define DYNN_VERSION "0.1.0"
#define DYNN_CFLAGS "-O3 -march=native"
#define DYNN_CC "12.2.0 cc"
