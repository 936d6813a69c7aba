/* aot_capi.c PARAMS: exercises the C API of an AOT library built with
 * --external-params (aot-lib.test): signature queries, and every error path
 * returning a status and a message instead of crashing. PARAMS is a good
 * .params file for the model. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *what, kiln_status s) {
  printf("%s: status %d: %s\n", what, (int)s, s == KILN_OK ? "ok" : kiln_model_last_error());
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  printf("api %d, inputs %d, outputs %d\n", (int)kiln_model_api_version(),
         (int)kiln_model_num_inputs(), (int)kiln_model_num_outputs());
  printf("input 0 '%s' optional %d, output 0 '%s'\n", kiln_model_input_name(0),
         (int)kiln_model_input_optional(0), kiln_model_output_name(0));
  const char *missing = kiln_model_input_name(99);
  printf("input 99: %s (%s)\n", missing ? "found" : "NULL", kiln_model_last_error());
  kiln_tensor info;
  report("input_info(-1)", kiln_model_input_info(-1, &info));
  report("input_info(0, NULL)", kiln_model_input_info(0, NULL));

  kiln_model *model = (kiln_model *)1;
  report("create(embedded)", kiln_model_create(NULL, &model));
  printf("model after failed create: %s\n", model ? "set" : "NULL");
  report("create(missing file)", kiln_model_create("no-such.params", &model));
  report("create(NULL out)", kiln_model_create(argv[1], NULL));
  report("create(params)", kiln_model_create(argv[1], &model));

  int32_t ni = kiln_model_num_inputs(), no = kiln_model_num_outputs();
  kiln_tensor *in = calloc((size_t)ni, sizeof(kiln_tensor));
  kiln_tensor *out = calloc((size_t)no, sizeof(kiln_tensor));
  float *buffers[16] = {0};
  int nb = 0;
  for (int32_t i = 0; i < ni; ++i) {
    kiln_model_input_info(i, &in[i]);
    int64_t n = 1;
    for (int32_t d = 0; d < in[i].rank; ++d)
      n *= in[i].shape[d];
    in[i].data = buffers[nb++] = calloc((size_t)n, sizeof(float));
  }
  for (int32_t i = 0; i < no; ++i) {
    kiln_model_output_info(i, &out[i]);
    int64_t n = 1;
    for (int32_t d = 0; d < out[i].rank; ++d)
      n *= out[i].shape[d];
    out[i].data = buffers[nb++] = calloc((size_t)n, sizeof(float));
  }
  report("run(no model)", kiln_model_run(NULL, in, ni, out, no));
  report("run(wrong count)", kiln_model_run(model, in, ni - 1, out, no));

  int64_t bad_shape[8];
  const int64_t *good_shape = in[0].shape;
  memcpy(bad_shape, good_shape, sizeof(int64_t) * (size_t)in[0].rank);
  bad_shape[0] += 1;
  in[0].shape = bad_shape;
  report("run(wrong shape)", kiln_model_run(model, in, ni, out, no));
  in[0].shape = good_shape;
  in[0].dtype = KILN_F64;
  report("run(wrong dtype)", kiln_model_run(model, in, ni, out, no));
  in[0].dtype = KILN_F32;
  void *data = in[0].data;
  in[0].data = NULL;
  report("run(required input NULL)", kiln_model_run(model, in, ni, out, no));
  in[0].data = data;
  if (ni > 1 && kiln_model_input_optional(ni - 1) == 1) {
    in[ni - 1].data = NULL;
    report("run(optional input NULL)", kiln_model_run(model, in, ni, out, no));
  }
  report("run", kiln_model_run(model, in, ni, out, no));

  kiln_model_destroy(model);
  kiln_model_destroy(NULL);
  for (int i = 0; i < nb; ++i)
    free(buffers[i]);
  free(in);
  free(out);
  return 0;
}
