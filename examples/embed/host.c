/* A C host for an exported classifier (docs/embedding.md): what an analyzer's firmware does.
 *
 *   hemaclust export --model M.safetensors --out classifier.wasm --no-simd
 *   wasm2c classifier.wasm -n hc -o classifier.c
 *   cc -O2 -I. -I/usr/share/wabt/wasm2c host.c classifier.c /usr/share/wabt/wasm2c/wasm-rt-impl.c -lm -o classify
 *   ./classify events.f32 probabilities.f32
 *
 * events.f32: the sample's events, float32 little-endian, one row of hc_features() values per
 * event in the model's feature order (metadata "featureNames"). The file is read once per pass
 * (hc_passes()), a chunk of hc_chunk_rows() events at a time, straight into the module's input
 * buffer: the memory used does not depend on the number of events. probabilities.f32 gets 4
 * values per event (platelet, rbc, reticulocyte, clumped_rbc); stdout the metadata and summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include "classifier.h"

static Z_hc_instance_t M;
#define HC(f, ...) Z_hcZ_##f(&M, ##__VA_ARGS__)

/* The module may grow its memory in any call: take the base address again after each one. */
static uint8_t *mem(void) { return Z_hcZ_memory(&M)->data; }

static int fail(const char *what, uint32_t code) {
  fprintf(stderr, "%s: error %u: %.*s\n", what, code, (int)HC(hc_error_len), (const char *)mem() + HC(hc_error_ptr));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s events.f32 probabilities.f32\n", argv[0]);
    return 2;
  }
  wasm_rt_init();
  Z_hc_init_module();
  Z_hc_instantiate(&M);
  uint32_t code = HC(hc_init);
  if (code) return fail("init", code);
  const uint32_t F = HC(hc_features), cap = HC(hc_chunk_rows), passes = HC(hc_passes);
  FILE *in = fopen(argv[1], "rb");
  FILE *out = fopen(argv[2], "wb");
  if (!in || !out) {
    fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
    return 1;
  }
  if ((code = HC(hc_begin))) return fail("begin", code);
  for (uint32_t pass = 1; pass <= passes; pass++) {
    rewind(in);
    for (;;) {
      const uint32_t ptr = HC(hc_input_ptr);
      const size_t rows = fread(mem() + ptr, 4 * (size_t)F, cap, in);
      if (rows == 0) break;
      if ((code = HC(hc_push, ptr, (uint32_t)rows, F))) return fail("push", code);
      if (pass == passes) fwrite(mem() + HC(hc_output_ptr), 16, rows, out);
    }
    if ((code = HC(hc_end_pass))) return fail("end_pass", code);
  }
  /* The metadata (JSON) and the summary's f64 fields, in the order of its "summary" list. */
  printf("{\"meta\":%.*s,\"summary\":[", (int)HC(hc_meta_len), (const char *)mem() + HC(hc_meta_ptr));
  const double *s = (const double *)(mem() + HC(hc_summary_ptr));
  for (uint32_t i = 0; i < 18; i++) printf("%s%.17g", i ? "," : "", s[i]);
  printf("]}\n");
  fclose(in);
  fclose(out);
  Z_hc_free(&M);
  wasm_rt_free();
  return 0;
}
