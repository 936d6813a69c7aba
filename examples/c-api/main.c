/* main.c - Kiln from C: a network built with the Symbol calls, bound to an
 * executor and run on an NDArray; eager ops and autograd; an error.
 *
 *   cmake -S . -B build -DCMAKE_PREFIX_PATH=KILN_PREFIX && cmake --build build
 *   build/c-api-example
 *
 * (or, in Kiln's tree, build/bin/c-api-example). Only include/kiln/c_api.h
 * and libkiln.so; plain C99. Every call returns a status; CHECK prints
 * kiln_last_error() and exits on a failure.
 *
 * The network: data (2, 4) -> FullyConnected fc1 (3) -> relu ->
 * FullyConnected fc2 (2) -> SoftmaxOutput, with weights chosen so the
 * result can be checked by hand:
 *   h      = relu(x W1^T) = [[1, 2, 0], [0, 0, 1]]
 *   logits = h W2^T       = [[3, 0], [0, 1]]
 *   softmax              = [[0.9526, 0.0474], [0.2689, 0.7311]]
 */
#include <kiln/c_api.h>

#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                    \
  do {                                                                                 \
    if ((call) != KILN_C_OK) {                                                         \
      fprintf(stderr, "c-api-example: error: %s\n", kiln_last_error());                \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

static void print_array(const char *label, kiln_nd_t nd) {
  int ndim;
  const int64_t *dims;
  int64_t size;
  CHECK(kiln_nd_shape(nd, &ndim, &dims));
  CHECK(kiln_nd_size(nd, &size));
  float *values = malloc((size_t)size * sizeof(float) + 1);
  if (!values)
    exit(1);
  CHECK(kiln_nd_copy_to(nd, values, (size_t)size)); /* waits for the value */
  printf("%s (", label);
  for (int d = 0; d < ndim; ++d)
    printf(d ? ", %lld" : "%lld", (long long)dims[d]);
  printf(ndim == 1 ? ",):" : "):");
  for (int64_t i = 0; i < size; ++i)
    printf(" %.4f", values[i]);
  printf("\n");
  free(values);
}

/* One-output op with up to two attributes. */
static kiln_nd_t op1(const char *op, kiln_nd_t *inputs, int n_inputs, const char *key,
                     const char *value) {
  const char *keys[1] = {key}, *values[1] = {value};
  kiln_nd_t out;
  int n;
  CHECK(kiln_nd_invoke(op, inputs, n_inputs, keys, values, key ? 1 : 0, 1, &out, &n));
  return out;
}

static kiln_sym_t compose(const char *op, const char *name, kiln_sym_t input, const char *key,
                          const char *value) {
  const char *keys[1] = {key}, *values[1] = {value};
  kiln_sym_t out;
  CHECK(kiln_sym_create(op, name, &input, 1, keys, values, key ? 1 : 0, &out));
  return out;
}

int main(void) {
  /* 1. The network, with the Symbol calls. */
  kiln_sym_t data, fc1, relu, fc2, net;
  CHECK(kiln_sym_variable("data", &data));
  fc1 = compose("FullyConnected", "fc1", data, "num_hidden", "3");
  relu = compose("Activation", "relu1", fc1, "act_type", "relu");
  fc2 = compose("FullyConnected", "fc2", relu, "num_hidden", "2");
  net = compose("SoftmaxOutput", "softmax", fc2, NULL, NULL);
  int n_args;
  const char *const *args;
  CHECK(kiln_sym_list_arguments(net, &n_args, &args));
  printf("arguments:");
  for (int i = 0; i < n_args; ++i)
    printf(" %s", args[i]);
  printf("\n");

  /* 2. Bind it to a batch of two 4-vectors (the label's shape is
   * inferred) and set the weights; biases stay zero. */
  const char *input_names[1] = {"data"};
  int ndims[1] = {2};
  int64_t dims[2] = {2, 4};
  kiln_exec_t exec;
  CHECK(kiln_exec_bind(net, input_names, ndims, dims, 1, &exec));
  const float w1[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -1};
  const float w2[6] = {1, 1, 0, 0, 0, 1};
  CHECK(kiln_exec_set_arg(exec, "fc1_weight", w1, 12));
  CHECK(kiln_exec_set_arg(exec, "fc2_weight", w2, 6));

  /* 3. Forward on an NDArray input, straight into NDArray outputs. */
  const float x_values[8] = {1, 2, 3, 4, -1, -2, -3, -4};
  kiln_nd_t x, probs;
  int n_outputs;
  CHECK(kiln_nd_create_from_data(dims, 2, x_values, 8, &x));
  CHECK(kiln_exec_forward_nd(exec, input_names, &x, 1, 0, 1, &probs, &n_outputs));
  print_array("softmax_output", probs);

  /* 4. Eager ops on the result: the class scores summed per row (each row
   * of a softmax sums to 1), and relu(x) * 2. */
  const char *sum_keys[1] = {"axis"}, *sum_values[1] = {"1"};
  kiln_nd_t row_sums;
  CHECK(kiln_nd_invoke("sum", &probs, 1, sum_keys, sum_values, 1, 1, &row_sums, &n_outputs));
  print_array("row sums", row_sums);
  kiln_nd_t rx = op1("Activation", &x, 1, "act_type", "relu");
  kiln_nd_t twice = op1("_mul_scalar", &rx, 1, "scalar", "2");
  print_array("relu(x) * 2", twice);

  /* 5. Autograd: d/dx sum(x * x) = 2x. */
  kiln_nd_t xx[2] = {x, x}, square, loss, grad;
  CHECK(kiln_nd_attach_grad(x, KILN_C_GRAD_WRITE));
  CHECK(kiln_autograd_record_begin(1));
  square = op1("elemwise_mul", xx, 2, NULL, NULL);
  loss = op1("sum", &square, 1, NULL, NULL);
  CHECK(kiln_autograd_scope_end());
  CHECK(kiln_autograd_backward(&loss, 1, NULL, 0));
  CHECK(kiln_nd_grad(x, &grad));
  print_array("d sum(x*x) / dx", grad);

  /* 6. A failing call: a status and a message, no crash. */
  kiln_nd_t unused;
  if (kiln_nd_invoke("NoSuchOp", &x, 1, NULL, NULL, 0, 1, &unused, &n_outputs) != KILN_C_OK)
    printf("expected error: %s\n", kiln_last_error());

  kiln_nd_t to_free[] = {x, probs, row_sums, rx, twice, square, loss, grad};
  for (size_t i = 0; i < sizeof to_free / sizeof to_free[0]; ++i)
    CHECK(kiln_nd_free(to_free[i]));
  CHECK(kiln_exec_free(exec));
  kiln_sym_t symbols[] = {data, fc1, relu, fc2, net};
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; ++i)
    CHECK(kiln_sym_free(symbols[i]));
  printf("ok\n");
  return 0;
}
