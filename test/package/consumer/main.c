/* The C API from an outside project, compiled as strict C99. */
#include <kiln/c_api.h>

#include <stdio.h>

#define CHECK(call)                                                                    \
  do {                                                                                 \
    if ((call) != KILN_C_OK) {                                                         \
      fprintf(stderr, "consumer-c: %s\n", kiln_last_error());                          \
      return 1;                                                                        \
    }                                                                                  \
  } while (0)

int main(void) {
  const int64_t shape[2] = {2, 2}, wshape[2] = {1, 2}, bshape[1] = {1};
  const float xv[4] = {1, -2, 3, -4}, wv[2] = {1, 1}, bv[1] = {0.5f};
  const char *relu_key[1] = {"act_type"}, *relu_value[1] = {"relu"};
  const char *mul_key[1] = {"scalar"}, *mul_value[1] = {"3"};
  const char *fc_key[1] = {"num_hidden"}, *fc_value[1] = {"1"};
  kiln_nd_t x, w, b, r, y, fc, unused;
  kiln_nd_t fc_inputs[3];
  float out[4];
  int n, i;

  CHECK(kiln_nd_create_from_data(shape, 2, xv, 4, &x));
  CHECK(kiln_nd_create_from_data(wshape, 2, wv, 2, &w));
  CHECK(kiln_nd_create_from_data(bshape, 1, bv, 1, &b));
  CHECK(kiln_nd_invoke("Activation", &x, 1, relu_key, relu_value, 1, 1, &r, &n));
  CHECK(kiln_nd_invoke("_mul_scalar", &r, 1, mul_key, mul_value, 1, 1, &y, &n));
  CHECK(kiln_nd_copy_to(y, out, 4));
  printf("relu(x) * 3 =");
  for (i = 0; i < 4; ++i)
    printf(" %g", out[i]);
  printf("\n");

  fc_inputs[0] = y;
  fc_inputs[1] = w;
  fc_inputs[2] = b;
  CHECK(kiln_nd_invoke("FullyConnected", fc_inputs, 3, fc_key, fc_value, 1, 1, &fc, &n));
  CHECK(kiln_nd_copy_to(fc, out, 2));
  printf("fc = %g %g\n", out[0], out[1]);

  if (kiln_nd_invoke("NoSuchOp", &x, 1, NULL, NULL, 0, 1, &unused, &n) == KILN_C_OK)
    return 1;
  printf("error: %s\n", kiln_last_error());

  CHECK(kiln_nd_free(fc));
  CHECK(kiln_nd_free(y));
  CHECK(kiln_nd_free(r));
  CHECK(kiln_nd_free(b));
  CHECK(kiln_nd_free(w));
  CHECK(kiln_nd_free(x));
  return 0;
}
