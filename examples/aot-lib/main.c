/* main.c - run a Kiln AOT model library from C.
 *
 *   kiln-compile zoo:lenet --input-shape data=1,1,28,28 --random-params 7 \
 *       --emit lib -o build/liblenet.so --header build/model.h
 *   cc -std=c99 -O2 -Ibuild main.c -Lbuild -llenet -Wl,-rpath,'$ORIGIN' -o build/lenet-run
 *   build/lenet-run [--params FILE.params] data=x.npy ... OUTDIR
 *
 * Prints the model's signature, reads each NAME=FILE.npy input (float32,
 * little-endian, C order), runs the model once and writes OUTDIR/out0.npy,
 * out1.npy, ... (one per output, as kiln-run does) plus a one-line summary
 * of each. Inputs the model marks optional (loss labels) may be left out.
 *
 * Plain C99 and the library's header only; the tiny .npy reader and writer
 * below handle just what this example needs. The header is the one
 * kiln-compile wrote for the library (model.h unless -DKILN_MODEL_HEADER).
 */
#ifndef KILN_MODEL_HEADER
#define KILN_MODEL_HEADER "model.h"
#endif
#include KILN_MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANK 16

static void die(const char *what, const char *detail) {
  fprintf(stderr, "aot-lib-example: error: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  exit(1);
}

static int64_t num_elements(int32_t rank, const int64_t *shape) {
  int64_t n = 1;
  for (int32_t i = 0; i < rank; ++i)
    n *= shape[i];
  return n;
}

static void format_shape(char *buf, size_t size, int32_t rank, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, size, "(");
  for (int32_t i = 0; i < rank && used < size; ++i)
    used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (used < size)
    snprintf(buf + used, size - used, rank == 1 ? ",)" : ")");
}

/* Reads a little-endian float32 C-order .npy file (format 1.x-3.x) whose
 * shape must equal `rank`/`shape`. Returns malloc'ed values. */
static float *read_npy(const char *path, int32_t rank, const int64_t *shape) {
  FILE *f = fopen(path, "rb");
  if (!f)
    die("cannot open", path);
  unsigned char pre[12];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
    die("not a .npy file", path);
  unsigned long hlen = pre[8] | (pre[9] << 8);
  if (pre[6] >= 2) { /* 4-byte header length */
    if (fread(pre + 10, 1, 2, f) != 2)
      die("truncated .npy header", path);
    hlen = pre[8] | (pre[9] << 8) | ((unsigned long)pre[10] << 16) | ((unsigned long)pre[11] << 24);
  }
  char *header = malloc(hlen + 1);
  if (!header || fread(header, 1, hlen, f) != hlen)
    die("truncated .npy header", path);
  header[hlen] = '\0';
  if (!strstr(header, "'<f4'") || strstr(header, "'fortran_order': True"))
    die("only little-endian float32 C-order .npy files are supported", path);
  const char *p = strstr(header, "'shape'");
  p = p ? strchr(p, '(') : NULL;
  if (!p)
    die("no shape in the .npy header", path);
  int64_t dims[MAX_RANK];
  int32_t n = 0;
  for (++p; *p && *p != ')';) {
    char *end;
    long long d = strtoll(p, &end, 10);
    if (end == p) {
      ++p; /* ',' or ' ' */
      continue;
    }
    if (n == MAX_RANK)
      die("too many dimensions", path);
    dims[n++] = d;
    p = end;
  }
  int same = n == rank;
  for (int32_t i = 0; same && i < rank; ++i)
    same = dims[i] == shape[i];
  if (!same) {
    char got[256], want[256];
    format_shape(got, sizeof got, n, dims);
    format_shape(want, sizeof want, rank, shape);
    fprintf(stderr, "aot-lib-example: error: %s has shape %s but the model needs %s\n", path,
            got, want);
    exit(1);
  }
  size_t count = (size_t)num_elements(rank, shape);
  float *values = malloc(count * sizeof(float) + 1);
  if (!values || fread(values, sizeof(float), count, f) != count)
    die("truncated .npy data", path);
  free(header);
  fclose(f);
  return values;
}

/* Writes a float32 .npy file (format 1.0, header padded to 64 bytes). */
static void write_npy(const char *path, int32_t rank, const int64_t *shape, const float *values) {
  char dict[512], shape_text[256];
  format_shape(shape_text, sizeof shape_text, rank, shape);
  int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     shape_text);
  int pad = 64 - (10 + len + 1) % 64;
  FILE *f = fopen(path, "wb");
  if (!f)
    die("cannot write", path);
  unsigned short hlen = (unsigned short)(len + pad + 1);
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, hlen & 0xff, hlen >> 8};
  fwrite(pre, 1, 10, f);
  fwrite(dict, 1, (size_t)len, f);
  for (int i = 0; i < pad; ++i)
    fputc(' ', f);
  fputc('\n', f);
  size_t count = (size_t)num_elements(rank, shape);
  if (fwrite(values, sizeof(float), count, f) != count || fclose(f) != 0)
    die("cannot write", path);
}

static void check(kiln_status s, const char *what) {
  if (s != KILN_OK) {
    fprintf(stderr, "aot-lib-example: error: %s failed (status %d): %s\n", what, (int)s,
            kiln_model_last_error());
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *params = NULL;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--params") == 0) {
    params = argv[2];
    first = 3;
  }
  if (argc - first < 1) {
    fprintf(stderr, "usage: %s [--params FILE.params] [NAME=FILE.npy ...] OUTDIR\n", argv[0]);
    return 2;
  }
  const char *outdir = argv[argc - 1];

  const char *signature = kiln_model_signature();
  if (!signature)
    die("the library's model is unusable", kiln_model_last_error());
  printf("signature: %s\n", signature);

  int32_t num_inputs = kiln_model_num_inputs(), num_outputs = kiln_model_num_outputs();
  kiln_tensor *inputs = calloc((size_t)num_inputs + 1, sizeof(kiln_tensor));
  kiln_tensor *outputs = calloc((size_t)num_outputs + 1, sizeof(kiln_tensor));
  for (int32_t i = 0; i < num_inputs; ++i) {
    check(kiln_model_input_info(i, &inputs[i]), "kiln_model_input_info");
    const char *name = kiln_model_input_name(i);
    size_t len = strlen(name);
    for (int a = first; a < argc - 1; ++a)
      if (strncmp(argv[a], name, len) == 0 && argv[a][len] == '=')
        inputs[i].data = read_npy(argv[a] + len + 1, inputs[i].rank, inputs[i].shape);
    if (!inputs[i].data && !kiln_model_input_optional(i))
      die("missing input", name);
  }

  kiln_model *model = NULL;
  check(kiln_model_create(params, &model), "kiln_model_create");
  for (int32_t i = 0; i < num_outputs; ++i) {
    check(kiln_model_output_info(i, &outputs[i]), "kiln_model_output_info");
    size_t count = (size_t)num_elements(outputs[i].rank, outputs[i].shape);
    outputs[i].data = malloc(count * sizeof(float) + 1);
  }
  check(kiln_model_run(model, inputs, num_inputs, outputs, num_outputs), "kiln_model_run");

  for (int32_t i = 0; i < num_outputs; ++i) {
    char path[4096], shape_text[256];
    snprintf(path, sizeof path, "%s/out%d.npy", outdir, (int)i);
    write_npy(path, outputs[i].rank, outputs[i].shape, outputs[i].data);
    /* Summary: the largest element of the first row (a class, for a classifier). */
    const float *v = outputs[i].data;
    int64_t row = outputs[i].rank > 1 ? num_elements(outputs[i].rank - 1, outputs[i].shape + 1)
                                      : num_elements(outputs[i].rank, outputs[i].shape);
    int64_t best = 0;
    for (int64_t k = 1; k < row; ++k)
      if (v[k] > v[best])
        best = k;
    format_shape(shape_text, sizeof shape_text, outputs[i].rank, outputs[i].shape);
    printf("out%d: %s %s, first row argmax %lld (%g)\n", (int)i, kiln_model_output_name(i),
           shape_text, (long long)best, v[best]);
    free(outputs[i].data);
  }
  kiln_model_destroy(model);
  for (int32_t i = 0; i < num_inputs; ++i)
    free(inputs[i].data);
  free(inputs);
  free(outputs);
  return 0;
}
