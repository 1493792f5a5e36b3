/* fuzz/fuzz_spec.c — libFuzzer target: the YAML experiment loader, as `dynn validate` runs it
 * (pipeline/spec.c and util/ynode.c, then dag_build's matrix expansion, needs and each stage type's
 * params check). An input naming `plugins` is skipped: a plugin is code the experiment asks to
 * dlopen, whatever its path, which is no reader of untrusted bytes. The file lives in a private
 * temp directory, since relative paths in an experiment resolve beside it. */
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "pipeline/dag.h"
#include "pipeline/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (memmem(data, size, "plugins", 7)) return 0;
    const char *path = fuzz_dirfile(data, size);
    Spec spec;
    Err err;
    if (spec_load(path, NULL, 0, &spec, &err) == 0) {
        Dag dag;
        if (dag_build(&spec, &dag, &err) == 0) dag_free(&dag);
    }
    spec_free(&spec);
    return 0;
}
