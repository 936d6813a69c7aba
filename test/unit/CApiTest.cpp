//===- CApiTest.cpp - Kiln's C API (include/kiln/c_api.h) -----------------===//
//
// Every group of the C API through the C API alone: NDArrays (creation,
// views, op calls, the out= form, files, the kernel cache), autograd
// scopes and backward, Symbols (compose, group, JSON, files, lists, zoo),
// Executors (bind, forward, backward, gradients, NDArray forward,
// checkpoints) against hand-computed numbers and against eager autograd,
// and AOT libraries built by kiln-compile against the Executor on the same
// weights. Each failure path checks the status and that kiln_last_error()
// names the function and the argument, operator or file at fault.
//
//===----------------------------------------------------------------------===//

#include "kiln/c_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using Floats = std::vector<float>;
using Shape = std::vector<int64_t>;

#define ASSERT_OK(call) ASSERT_EQ((call), KILN_C_OK) << kiln_last_error()
#define EXPECT_OK(call) EXPECT_EQ((call), KILN_C_OK) << kiln_last_error()

/// `status` is `want` and kiln_last_error() holds every fragment.
::testing::AssertionResult fails(int status, int want, const std::vector<std::string> &fragments) {
  std::string message = kiln_last_error();
  if (status != want)
    return ::testing::AssertionFailure()
           << "status " << status << ", expected " << want << " (message: '" << message << "')";
  for (const std::string &f : fragments)
    if (message.find(f) == std::string::npos)
      return ::testing::AssertionFailure() << "the message '" << message << "' lacks '" << f
                                           << "'";
  return ::testing::AssertionSuccess();
}

// Owning wrappers, so a failed assertion leaks nothing.
struct NdFree {
  void operator()(kiln_nd_s *p) const { kiln_nd_free(p); }
};
struct SymFree {
  void operator()(kiln_sym_s *p) const { kiln_sym_free(p); }
};
struct ExecFree {
  void operator()(kiln_exec_s *p) const { kiln_exec_free(p); }
};
struct ListFree {
  void operator()(kiln_nd_list_s *p) const { kiln_nd_list_free(p); }
};
struct AotLibFree {
  void operator()(kiln_aot_lib_s *p) const { kiln_aot_unload(p); }
};
struct AotModelFree {
  void operator()(kiln_aot_model_s *p) const { kiln_aot_destroy(p); }
};
using Nd = std::unique_ptr<kiln_nd_s, NdFree>;
using Sym = std::unique_ptr<kiln_sym_s, SymFree>;
using Exec = std::unique_ptr<kiln_exec_s, ExecFree>;
using List = std::unique_ptr<kiln_nd_list_s, ListFree>;
using AotLib = std::unique_ptr<kiln_aot_lib_s, AotLibFree>;
using AotModel = std::unique_ptr<kiln_aot_model_s, AotModelFree>;

Nd array(const Shape &shape, const Floats &values) {
  kiln_nd_t h = nullptr;
  EXPECT_OK(kiln_nd_create_from_data(shape.data(), int(shape.size()), values.data(),
                                     values.size(), &h));
  return Nd(h);
}

Floats valuesOf(kiln_nd_t nd) {
  int64_t n = -1;
  EXPECT_OK(kiln_nd_size(nd, &n));
  Floats v(size_t(std::max<int64_t>(n, 0)));
  EXPECT_OK(kiln_nd_copy_to(nd, v.data(), v.size()));
  return v;
}

Shape shapeOf(kiln_nd_t nd) {
  int ndim = -1;
  const int64_t *dims = nullptr;
  EXPECT_OK(kiln_nd_shape(nd, &ndim, &dims));
  return ndim > 0 ? Shape(dims, dims + ndim) : Shape();
}

/// One-output op call.
Nd invoke1(const char *op, std::vector<kiln_nd_t> inputs,
           std::vector<std::pair<const char *, const char *>> attrs = {}) {
  std::vector<const char *> keys, values;
  for (auto &[k, v] : attrs) {
    keys.push_back(k);
    values.push_back(v);
  }
  kiln_nd_t out = nullptr;
  int n = 0;
  EXPECT_OK(kiln_nd_invoke(op, inputs.data(), int(inputs.size()), keys.data(), values.data(),
                           int(keys.size()), 1, &out, &n));
  EXPECT_EQ(n, 1);
  return Nd(out);
}

std::vector<std::string> names(int count, const char *const *list) {
  return std::vector<std::string>(list, list + count);
}

void expectNear(const Floats &got, const Floats &want, double tol, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << what << " element " << i;
}

class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/kiln-capi-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string &name) const { return path + "/" + name; }
  std::string path;
};

//===----------------------------------------------------------------------===//
// Errors and version
//===----------------------------------------------------------------------===//

TEST(CApi, VersionAndPerThreadErrors) {
  EXPECT_EQ(kiln_c_api_version(), KILN_C_API_VERSION);
  EXPECT_TRUE(fails(kiln_nd_size(nullptr, nullptr), KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_size: ", "NDArray handle is NULL"}));
  // Another thread has its own (empty) message; success leaves this one.
  std::string other = "unset";
  std::thread([&] { other = kiln_last_error(); }).join();
  EXPECT_EQ(other, "");
  Nd a = array({1}, {1});
  EXPECT_NE(std::string(kiln_last_error()), "");
}

//===----------------------------------------------------------------------===//
// NDArray
//===----------------------------------------------------------------------===//

TEST(CApiNDArray, CreateShapeCopyViews) {
  Nd a = array({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(shapeOf(a.get()), (Shape{2, 3}));
  int64_t size = 0;
  ASSERT_OK(kiln_nd_size(a.get(), &size));
  EXPECT_EQ(size, 6);
  EXPECT_EQ(valuesOf(a.get()), (Floats{1, 2, 3, 4, 5, 6}));

  // Uninitialized, then filled from a buffer.
  int64_t shape4[] = {4};
  kiln_nd_t raw = nullptr;
  ASSERT_OK(kiln_nd_create(shape4, 1, &raw));
  Nd b(raw);
  Floats four = {9, 8, 7, 6};
  ASSERT_OK(kiln_nd_copy_from(b.get(), four.data(), four.size()));
  EXPECT_EQ(valuesOf(b.get()), four);

  int64_t shape22[] = {2, 2};
  ASSERT_OK(kiln_nd_full(shape22, 2, 1.5f, &raw));
  Nd full(raw);
  EXPECT_EQ(valuesOf(full.get()), (Floats{1.5f, 1.5f, 1.5f, 1.5f}));

  // A copy is independent; reshape and slice are views.
  ASSERT_OK(kiln_nd_copy(a.get(), &raw));
  Nd copy(raw);
  int64_t shape32[] = {3, -1};
  ASSERT_OK(kiln_nd_reshape(a.get(), shape32, 2, &raw));
  Nd reshaped(raw);
  EXPECT_EQ(shapeOf(reshaped.get()), (Shape{3, 2}));
  ASSERT_OK(kiln_nd_slice(a.get(), 1, 2, &raw));
  Nd row(raw);
  EXPECT_EQ(shapeOf(row.get()), (Shape{1, 3}));
  EXPECT_EQ(valuesOf(row.get()), (Floats{4, 5, 6}));
  Floats ones = {1, 1, 1};
  ASSERT_OK(kiln_nd_copy_from(row.get(), ones.data(), ones.size()));
  EXPECT_EQ(valuesOf(a.get()), (Floats{1, 2, 3, 1, 1, 1}));
  EXPECT_EQ(valuesOf(reshaped.get()), (Floats{1, 2, 3, 1, 1, 1}));
  EXPECT_EQ(valuesOf(copy.get()), (Floats{1, 2, 3, 4, 5, 6}));
  EXPECT_OK(kiln_nd_wait_to_read(a.get()));
  EXPECT_OK(kiln_nd_wait_all());
  EXPECT_OK(kiln_nd_free(nullptr));
}

TEST(CApiNDArray, BadArguments) {
  int64_t shape[] = {2, 3};
  Floats five(5, 0.0f);
  kiln_nd_t out = nullptr;
  EXPECT_TRUE(fails(kiln_nd_create_from_data(shape, 2, five.data(), five.size(), &out),
                    KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_create_from_data", "(2, 3) has 6 elements but size is 5"}));
  EXPECT_EQ(out, nullptr);
  EXPECT_TRUE(fails(kiln_nd_create(nullptr, 2, &out), KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_create", "shape is NULL but ndim is 2"}));
  int64_t negative[] = {2, -3};
  EXPECT_TRUE(fails(kiln_nd_create(negative, 2, &out), KILN_C_ERROR_ARGUMENT,
                    {"shape: extent 1 is negative (-3)"}));
  EXPECT_TRUE(fails(kiln_nd_create(shape, -1, &out), KILN_C_ERROR_ARGUMENT,
                    {"ndim is negative"}));
  EXPECT_TRUE(fails(kiln_nd_create(shape, 2, nullptr), KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_create", "output pointer 'out' is NULL"}));

  Nd a = array({2, 3}, {1, 2, 3, 4, 5, 6});
  Floats buffer(4);
  EXPECT_TRUE(fails(kiln_nd_copy_to(a.get(), buffer.data(), buffer.size()),
                    KILN_C_ERROR_ARGUMENT, {"kiln_nd_copy_to", "6 elements but size is 4"}));
  EXPECT_TRUE(fails(kiln_nd_copy_from(a.get(), nullptr, 6), KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_copy_from", "data is NULL"}));
  EXPECT_TRUE(fails(kiln_nd_shape(nullptr, nullptr, nullptr), KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_shape", "NDArray handle is NULL"}));
  EXPECT_TRUE(fails(kiln_nd_wait_to_read(nullptr), KILN_C_ERROR_ARGUMENT, {"NULL"}));
  int64_t bad[] = {4, 4};
  EXPECT_TRUE(fails(kiln_nd_reshape(a.get(), bad, 2, &out), KILN_C_ERROR, {"kiln_nd_reshape"}));
  EXPECT_TRUE(fails(kiln_nd_slice(a.get(), 1, 5, &out), KILN_C_ERROR, {"kiln_nd_slice"}));
}

TEST(CApiNDArray, InvokeOps) {
  Nd x = array({2, 3}, {-1, 2, -3, 4, -5, 6});
  Nd relu = invoke1("Activation", {x.get()}, {{"act_type", "relu"}});
  EXPECT_EQ(valuesOf(relu.get()), (Floats{0, 2, 0, 4, 0, 6}));
  Nd plus = invoke1("_plus_scalar", {relu.get()}, {{"scalar", "1.5"}});
  EXPECT_EQ(valuesOf(plus.get()), (Floats{1.5f, 3.5f, 1.5f, 5.5f, 1.5f, 7.5f}));
  Nd total = invoke1("sum", {plus.get()});
  EXPECT_FLOAT_EQ(valuesOf(total.get())[0], 21.0f);

  // FullyConnected without bias: y = x · Wᵀ.
  Nd w = array({2, 3}, {1, 0, 0, 0, 1, 1});
  Nd fc = invoke1("FullyConnected", {x.get(), w.get()}, {{"num_hidden", "2"}, {"no_bias", "True"}});
  EXPECT_EQ(shapeOf(fc.get()), (Shape{2, 2}));
  EXPECT_EQ(valuesOf(fc.get()), (Floats{-1, -1, 4, 1}));

  // Several outputs; too small a capacity says how many are needed.
  const char *keys[] = {"num_outputs", "axis"};
  const char *values[] = {"3", "1"};
  kiln_nd_t in[] = {x.get()};
  kiln_nd_t outs[3] = {nullptr, nullptr, nullptr};
  int n = 0;
  EXPECT_TRUE(fails(kiln_nd_invoke("SliceChannel", in, 1, keys, values, 2, 2, outs, &n),
                    KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_invoke", "operator 'SliceChannel' has 3 outputs but "
                                       "outputs_capacity is 2"}));
  EXPECT_EQ(n, 3);
  EXPECT_EQ(outs[0], nullptr);
  ASSERT_OK(kiln_nd_invoke("SliceChannel", in, 1, keys, values, 2, 3, outs, &n));
  ASSERT_EQ(n, 3);
  Nd c0(outs[0]), c1(outs[1]), c2(outs[2]);
  EXPECT_EQ(valuesOf(c1.get()), (Floats{2, -5}));
  EXPECT_EQ(shapeOf(c2.get()), (Shape{2, 1}));

  // The out= form, in place: x = x + y.
  Nd y = array({2, 3}, {1, 1, 1, 1, 1, 1});
  kiln_nd_t xy[] = {x.get(), y.get()};
  kiln_nd_t target[] = {x.get()};
  ASSERT_OK(kiln_nd_invoke_out("elemwise_add", xy, 2, nullptr, nullptr, 0, target, 1));
  EXPECT_EQ(valuesOf(x.get()), (Floats{0, 3, -2, 5, -4, 7}));
}

TEST(CApiNDArray, InvokeErrors) {
  Nd a = array({2, 3}, {1, 2, 3, 4, 5, 6});
  Nd b = array({3, 2}, {1, 2, 3, 4, 5, 6});
  kiln_nd_t out = nullptr;
  int n = -1;
  kiln_nd_t one[] = {a.get()};
  EXPECT_TRUE(fails(kiln_nd_invoke("NoSuchOp", one, 1, nullptr, nullptr, 0, 1, &out, &n),
                    KILN_C_ERROR, {"kiln_nd_invoke: ", "unknown operator 'NoSuchOp'"}));
  kiln_nd_t ab[] = {a.get(), b.get()};
  EXPECT_TRUE(fails(kiln_nd_invoke("elemwise_add", ab, 2, nullptr, nullptr, 0, 1, &out, &n),
                    KILN_C_ERROR, {"kiln_nd_invoke: ", "elemwise_add", "same shape"}));
  kiln_nd_t withNull[] = {a.get(), nullptr};
  EXPECT_TRUE(fails(kiln_nd_invoke("elemwise_add", withNull, 2, nullptr, nullptr, 0, 1, &out,
                                   &n),
                    KILN_C_ERROR_ARGUMENT, {"inputs[1] is NULL"}));
  const char *keys[] = {"act_type", "act_type"};
  const char *values[] = {"relu", "tanh"};
  EXPECT_TRUE(fails(kiln_nd_invoke("Activation", one, 1, keys, values, 2, 1, &out, &n),
                    KILN_C_ERROR_ARGUMENT, {"attribute 'act_type' is given twice"}));
  const char *nullKey[] = {nullptr};
  EXPECT_TRUE(fails(kiln_nd_invoke("Activation", one, 1, nullKey, values, 1, 1, &out, &n),
                    KILN_C_ERROR_ARGUMENT, {"attr_keys[0] is NULL"}));
  const char *bad[] = {"nonsense"};
  EXPECT_TRUE(fails(kiln_nd_invoke("Activation", one, 1, keys, bad, 1, 1, &out, &n),
                    KILN_C_ERROR, {"kiln_nd_invoke: ", "act_type", "nonsense"}));
  EXPECT_TRUE(fails(kiln_nd_invoke(nullptr, one, 1, nullptr, nullptr, 0, 1, &out, &n),
                    KILN_C_ERROR_ARGUMENT, {"op is NULL"}));
  EXPECT_TRUE(fails(kiln_nd_invoke("Activation", one, 1, keys, values, 1, 1, &out, nullptr),
                    KILN_C_ERROR_ARGUMENT, {"'n_outputs' is NULL"}));
  EXPECT_TRUE(fails(kiln_nd_invoke_out("elemwise_add", ab, 2, nullptr, nullptr, 0, nullptr, 0),
                    KILN_C_ERROR_ARGUMENT, {"kiln_nd_invoke_out", "n_outputs is 0"}));
  kiln_nd_t wrong[] = {b.get()};
  kiln_nd_t aa[] = {a.get(), a.get()};
  EXPECT_TRUE(fails(kiln_nd_invoke_out("elemwise_add", aa, 2, nullptr, nullptr, 0, wrong, 1),
                    KILN_C_ERROR, {"kiln_nd_invoke_out: ", "(3, 2)"}));
}

TEST(CApiNDArray, SaveAndLoad) {
  TempDir dir;
  Nd a = array({2}, {1, 2});
  Nd b = array({1, 3}, {3, 4, 5});
  kiln_nd_t arrays[] = {a.get(), b.get()};
  const char *names[] = {"arg:w", "aux:m"};
  std::string named = dir.file("named.nd"), unnamed = dir.file("unnamed.nd");
  ASSERT_OK(kiln_nd_save(named.c_str(), arrays, 2, names));
  ASSERT_OK(kiln_nd_save(unnamed.c_str(), arrays, 2, nullptr));

  kiln_nd_list_t raw = nullptr;
  ASSERT_OK(kiln_nd_load(named.c_str(), &raw));
  List list(raw);
  int count = 0;
  ASSERT_OK(kiln_nd_list_size(list.get(), &count));
  ASSERT_EQ(count, 2);
  const char *name = nullptr;
  kiln_nd_t item = nullptr;
  ASSERT_OK(kiln_nd_list_get(list.get(), 1, &name, &item));
  EXPECT_STREQ(name, "aux:m");
  EXPECT_EQ(shapeOf(item), (Shape{1, 3}));
  EXPECT_EQ(valuesOf(item), (Floats{3, 4, 5}));
  EXPECT_TRUE(fails(kiln_nd_list_get(list.get(), 2, &name, &item), KILN_C_ERROR_ARGUMENT,
                    {"kiln_nd_list_get", "index 2 is out of range (there are 2)"}));

  ASSERT_OK(kiln_nd_load(unnamed.c_str(), &raw));
  List plain(raw);
  ASSERT_OK(kiln_nd_list_get(plain.get(), 0, &name, &item));
  EXPECT_EQ(name, nullptr);
  EXPECT_EQ(valuesOf(item), (Floats{1, 2}));

  std::string missing = dir.file("no-such.nd");
  EXPECT_TRUE(fails(kiln_nd_load(missing.c_str(), &raw), KILN_C_ERROR,
                    {"kiln_nd_load: ", missing}));
  const char *twice[] = {"x", "x"};
  EXPECT_TRUE(fails(kiln_nd_save(named.c_str(), arrays, 2, twice), KILN_C_ERROR_ARGUMENT,
                    {"the name 'x' is given twice"}));
  std::ofstream(dir.file("garbage.nd")) << "not an ndarray file";
  EXPECT_TRUE(fails(kiln_nd_load(dir.file("garbage.nd").c_str(), &raw), KILN_C_ERROR,
                    {"garbage.nd"}));
}

TEST(CApiNDArray, KernelCache) {
  ASSERT_OK(kiln_nd_clear_cache());
  int64_t hits = -1, misses = -1, entries = -1;
  double seconds = -1;
  ASSERT_OK(kiln_nd_cache_stats(&hits, &misses, &entries, &seconds));
  EXPECT_EQ(hits + misses + entries, 0);
  Nd a = array({5}, {1, -1, 2, -2, 3});
  Nd r1 = invoke1("Activation", {a.get()}, {{"act_type", "relu"}});
  Nd r2 = invoke1("Activation", {r1.get()}, {{"act_type", "relu"}});
  EXPECT_EQ(valuesOf(r2.get()), (Floats{1, 0, 2, 0, 3}));
  ASSERT_OK(kiln_nd_cache_stats(&hits, &misses, &entries, nullptr));
  EXPECT_EQ(misses, 1);
  EXPECT_EQ(hits, 1);
  EXPECT_EQ(entries, 1);
  EXPECT_OK(kiln_nd_seed(3));
}

//===----------------------------------------------------------------------===//
// Autograd
//===----------------------------------------------------------------------===//

TEST(CApiAutograd, RecordBackwardGrad) {
  Nd x = array({3}, {1, 2, 3});
  ASSERT_OK(kiln_nd_attach_grad(x.get(), KILN_C_GRAD_WRITE));
  int recording = -1, training = -1;
  ASSERT_OK(kiln_autograd_is_recording(&recording));
  EXPECT_EQ(recording, 0);

  ASSERT_OK(kiln_autograd_record_begin(1));
  ASSERT_OK(kiln_autograd_is_recording(&recording));
  ASSERT_OK(kiln_autograd_is_training(&training));
  EXPECT_EQ(recording, 1);
  EXPECT_EQ(training, 1);
  Nd sq = invoke1("elemwise_mul", {x.get(), x.get()});
  Nd loss = invoke1("sum", {sq.get()});
  // A pause inside the record scope, then back.
  ASSERT_OK(kiln_autograd_pause_begin(0));
  ASSERT_OK(kiln_autograd_is_recording(&recording));
  ASSERT_OK(kiln_autograd_is_training(&training));
  EXPECT_EQ(recording + training, 0);
  ASSERT_OK(kiln_autograd_scope_end());
  ASSERT_OK(kiln_autograd_is_recording(&recording));
  EXPECT_EQ(recording, 1);
  ASSERT_OK(kiln_autograd_scope_end());
  ASSERT_OK(kiln_autograd_is_recording(&recording));
  EXPECT_EQ(recording, 0);

  kiln_nd_t heads[] = {loss.get()};
  ASSERT_OK(kiln_autograd_backward(heads, 1, nullptr, 0));
  kiln_nd_t raw = nullptr;
  ASSERT_OK(kiln_nd_grad(x.get(), &raw));
  Nd grad(raw);
  EXPECT_EQ(valuesOf(grad.get()), (Floats{2, 4, 6})); // d(sum x²)/dx = 2x

  // grad_req add accumulates; a head gradient scales.
  Nd z = array({2}, {1, -1});
  ASSERT_OK(kiln_nd_attach_grad(z.get(), KILN_C_GRAD_ADD));
  Nd headGrad = array({2}, {3, 3});
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK(kiln_autograd_record_begin(1));
    Nd y = invoke1("_mul_scalar", {z.get()}, {{"scalar", "2"}});
    ASSERT_OK(kiln_autograd_scope_end());
    kiln_nd_t h[] = {y.get()}, g[] = {headGrad.get()};
    ASSERT_OK(kiln_autograd_backward(h, 1, g, 0));
  }
  ASSERT_OK(kiln_nd_grad(z.get(), &raw));
  Nd zGrad(raw);
  EXPECT_EQ(valuesOf(zGrad.get()), (Floats{12, 12}));
}

TEST(CApiAutograd, Errors) {
  EXPECT_TRUE(fails(kiln_autograd_scope_end(), KILN_C_ERROR_ARGUMENT,
                    {"kiln_autograd_scope_end", "no autograd scope is open"}));
  Nd x = array({2}, {1, 2});
  EXPECT_TRUE(fails(kiln_nd_attach_grad(x.get(), 7), KILN_C_ERROR_ARGUMENT, {"grad_req 7"}));
  kiln_nd_t raw = nullptr;
  EXPECT_TRUE(fails(kiln_nd_grad(x.get(), &raw), KILN_C_ERROR, {"kiln_nd_grad: "}));
  kiln_nd_t heads[] = {x.get()};
  EXPECT_TRUE(fails(kiln_autograd_backward(heads, 1, nullptr, 0), KILN_C_ERROR,
                    {"kiln_autograd_backward: "}));
  EXPECT_TRUE(fails(kiln_autograd_backward(heads, 0, nullptr, 0), KILN_C_ERROR_ARGUMENT,
                    {"n is 0"}));
  // Scopes are per thread: one opened here is not visible to another.
  ASSERT_OK(kiln_autograd_record_begin(1));
  int other = -1;
  std::thread([&] { kiln_autograd_is_recording(&other); }).join();
  EXPECT_EQ(other, 0);
  ASSERT_OK(kiln_autograd_scope_end());
}

//===----------------------------------------------------------------------===//
// Symbol
//===----------------------------------------------------------------------===//

Sym variable(const char *name) {
  kiln_sym_t s = nullptr;
  EXPECT_OK(kiln_sym_variable(name, &s));
  return Sym(s);
}

Sym op(const char *opName, const char *name, std::vector<kiln_sym_t> inputs,
       std::vector<std::pair<const char *, const char *>> attrs = {}) {
  std::vector<const char *> keys, values;
  for (auto &[k, v] : attrs) {
    keys.push_back(k);
    values.push_back(v);
  }
  kiln_sym_t s = nullptr;
  EXPECT_OK(kiln_sym_create(opName, name, inputs.data(), int(inputs.size()), keys.data(),
                            values.data(), int(keys.size()), &s));
  return Sym(s);
}

/// data (N, 4) → fc1 (3) → relu → fc2 (2) → SoftmaxOutput "softmax".
Sym smallNet() {
  Sym data = variable("data");
  Sym fc1 = op("FullyConnected", "fc1", {data.get()}, {{"num_hidden", "3"}});
  Sym relu = op("Activation", "relu1", {fc1.get()}, {{"act_type", "relu"}});
  Sym fc2 = op("FullyConnected", "fc2", {relu.get()}, {{"num_hidden", "2"}});
  return op("SoftmaxOutput", "softmax", {fc2.get()});
}

std::vector<std::string> arguments(kiln_sym_t s) {
  int n = -1;
  const char *const *list = nullptr;
  EXPECT_OK(kiln_sym_list_arguments(s, &n, &list));
  return names(n, list);
}

TEST(CApiSymbol, ComposeListAndJSON) {
  Sym net = smallNet();
  EXPECT_EQ(arguments(net.get()),
            (std::vector<std::string>{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias",
                                      "softmax_label"}));
  int n = -1;
  const char *const *list = nullptr;
  ASSERT_OK(kiln_sym_list_outputs(net.get(), &n, &list));
  EXPECT_EQ(names(n, list), (std::vector<std::string>{"softmax_output"}));
  ASSERT_OK(kiln_sym_list_auxiliary_states(net.get(), &n, &list));
  EXPECT_EQ(n, 0);

  Sym bn = op("BatchNorm", "bn", {net.get()});
  ASSERT_OK(kiln_sym_list_auxiliary_states(bn.get(), &n, &list));
  EXPECT_EQ(names(n, list), (std::vector<std::string>{"bn_moving_mean", "bn_moving_var"}));
  ASSERT_OK(kiln_sym_list_inputs(bn.get(), &n, &list));
  EXPECT_EQ(n, 10);

  // Automatic names, group and output selection.
  Sym x = variable("x");
  Sym autoNamed = op("Activation", nullptr, {x.get()}, {{"act_type", "tanh"}});
  ASSERT_OK(kiln_sym_list_outputs(autoNamed.get(), &n, &list));
  ASSERT_EQ(n, 1);
  EXPECT_EQ(std::string(list[0]).rfind("activation", 0), 0u) << list[0];
  kiln_sym_t pair[] = {net.get(), autoNamed.get()};
  kiln_sym_t raw = nullptr;
  ASSERT_OK(kiln_sym_group(pair, 2, &raw));
  Sym grouped(raw);
  ASSERT_OK(kiln_sym_num_outputs(grouped.get(), &n));
  EXPECT_EQ(n, 2);
  ASSERT_OK(kiln_sym_get_output(grouped.get(), 0, &raw));
  Sym first(raw);
  ASSERT_OK(kiln_sym_list_outputs(first.get(), &n, &list));
  EXPECT_EQ(names(n, list), (std::vector<std::string>{"softmax_output"}));
  EXPECT_TRUE(fails(kiln_sym_get_output(grouped.get(), 2, &raw), KILN_C_ERROR_ARGUMENT,
                    {"kiln_sym_get_output", "output index 2 is out of range (there are 2)"}));

  // JSON in and out, through a string and a file.
  const char *json = nullptr;
  ASSERT_OK(kiln_sym_to_json(net.get(), &json));
  EXPECT_NE(std::string(json).find("\"op\": \"SoftmaxOutput\""), std::string::npos) << json;
  ASSERT_OK(kiln_sym_from_json(json, &raw));
  Sym parsed(raw);
  EXPECT_EQ(arguments(parsed.get()), arguments(net.get()));
  TempDir dir;
  std::string path = dir.file("net-symbol.json");
  ASSERT_OK(kiln_sym_save(net.get(), path.c_str()));
  ASSERT_OK(kiln_sym_load(path.c_str(), &raw));
  Sym loaded(raw);
  const char *json2 = nullptr;
  ASSERT_OK(kiln_sym_to_json(loaded.get(), &json2));
  EXPECT_STREQ(json2, json);
}

TEST(CApiSymbol, Zoo) {
  kiln_sym_t raw = nullptr;
  ASSERT_OK(kiln_sym_zoo("mlp", nullptr, 0, 10, &raw));
  Sym mlp(raw);
  EXPECT_EQ(arguments(mlp.get()),
            (std::vector<std::string>{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias",
                                      "fc3_weight", "fc3_bias", "softmax_label"}));
  int64_t image[] = {3, 32, 32};
  ASSERT_OK(kiln_sym_zoo("resnet18", image, 3, 7, &raw));
  Sym resnet(raw);
  int n = 0;
  const char *const *list = nullptr;
  ASSERT_OK(kiln_sym_list_auxiliary_states(resnet.get(), &n, &list));
  EXPECT_GT(n, 10);
  EXPECT_TRUE(fails(kiln_sym_zoo("nosuchnet", nullptr, 0, 10, &raw), KILN_C_ERROR,
                    {"kiln_sym_zoo: ", "nosuchnet", "resnet18"}));
  EXPECT_TRUE(fails(kiln_sym_zoo("mlp", image, -1, 10, &raw), KILN_C_ERROR_ARGUMENT,
                    {"ndim is negative"}));
}

TEST(CApiSymbol, Errors) {
  Sym x = variable("x");
  kiln_sym_t raw = nullptr;
  kiln_sym_t in[] = {x.get()};
  EXPECT_TRUE(fails(kiln_sym_create("NoSuchOp", "n", in, 1, nullptr, nullptr, 0, &raw),
                    KILN_C_ERROR, {"kiln_sym_create: ", "NoSuchOp"}));
  kiln_sym_t withNull[] = {x.get(), nullptr};
  EXPECT_TRUE(fails(kiln_sym_create("elemwise_add", "s", withNull, 2, nullptr, nullptr, 0, &raw),
                    KILN_C_ERROR_ARGUMENT, {"inputs[1] is NULL"}));
  EXPECT_TRUE(fails(kiln_sym_from_json("{\"nodes\": [", &raw), KILN_C_ERROR,
                    {"kiln_sym_from_json: "}));
  EXPECT_TRUE(fails(kiln_sym_load("/no/such/dir/net-symbol.json", &raw), KILN_C_ERROR,
                    {"kiln_sym_load: ", "/no/such/dir/net-symbol.json"}));
  EXPECT_TRUE(fails(kiln_sym_save(x.get(), "/no/such/dir/out.json"), KILN_C_ERROR,
                    {"kiln_sym_save: ", "/no/such/dir/out.json"}));
  EXPECT_TRUE(fails(kiln_sym_variable("", &raw), KILN_C_ERROR_ARGUMENT, {"name is empty"}));
  const char *json = nullptr;
  EXPECT_TRUE(fails(kiln_sym_to_json(nullptr, &json), KILN_C_ERROR_ARGUMENT,
                    {"kiln_sym_to_json", "Symbol handle is NULL"}));
  int n = 0;
  const char *const *list = nullptr;
  EXPECT_TRUE(fails(kiln_sym_list_arguments(x.get(), &n, nullptr), KILN_C_ERROR_ARGUMENT,
                    {"'names' is NULL"}));
  EXPECT_OK(kiln_sym_list_arguments(x.get(), &n, &list));
  EXPECT_OK(kiln_sym_free(nullptr));
}

//===----------------------------------------------------------------------===//
// Executor
//===----------------------------------------------------------------------===//

// smallNet's weights: h = relu(x·W1ᵀ), logits = h·W2ᵀ (zero biases).
const Floats kW1 = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -1};
const Floats kW2 = {1, 1, 0, 0, 0, 1};
const Floats kX = {1, 2, 3, 4, -1, -2, -3, -4};
const Floats kLabel = {0, 1};
// h = [[1, 2, 0], [0, 0, 1]]; logits = [[3, 0], [0, 1]].
const Floats kProbs = {0.952574f, 0.047426f, 0.268941f, 0.731059f};

Exec bindSmallNet(int batch = 2) {
  Sym net = smallNet();
  const char *inputs[] = {"data"};
  int ndims[] = {2};
  int64_t dims[] = {batch, 4};
  kiln_exec_t raw = nullptr;
  EXPECT_OK(kiln_exec_bind(net.get(), inputs, ndims, dims, 1, &raw));
  Exec exec(raw);
  if (!raw)
    return exec;
  EXPECT_OK(kiln_exec_set_arg(raw, "fc1_weight", kW1.data(), kW1.size()));
  EXPECT_OK(kiln_exec_set_arg(raw, "fc2_weight", kW2.data(), kW2.size()));
  EXPECT_OK(kiln_exec_set_arg(raw, "data", kX.data(), kX.size()));
  EXPECT_OK(kiln_exec_set_arg(raw, "softmax_label", kLabel.data(), kLabel.size()));
  return exec;
}

std::vector<std::string> execNames(kiln_exec_t exec, int kind) {
  int n = -1;
  const char *const *list = nullptr;
  EXPECT_OK(kiln_exec_list_names(exec, kind, &n, &list));
  return names(n, list);
}

Floats execGrad(kiln_exec_t exec, const char *param) {
  kiln_nd_t raw = nullptr;
  EXPECT_OK(kiln_exec_grad(exec, param, &raw));
  Nd grad(raw);
  return grad ? valuesOf(grad.get()) : Floats();
}

TEST(CApiExecutor, BindForwardOutputs) {
  Exec exec = bindSmallNet();
  ASSERT_TRUE(exec);
  EXPECT_EQ(execNames(exec.get(), KILN_C_EXEC_INPUTS),
            (std::vector<std::string>{"data", "softmax_label"}));
  EXPECT_EQ(execNames(exec.get(), KILN_C_EXEC_PARAMS),
            (std::vector<std::string>{"fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"}));
  EXPECT_TRUE(execNames(exec.get(), KILN_C_EXEC_AUX).empty());
  EXPECT_EQ(execNames(exec.get(), KILN_C_EXEC_OUTPUTS),
            (std::vector<std::string>{"softmax_output"}));
  int n = 0;
  ASSERT_OK(kiln_exec_num_outputs(exec.get(), &n));
  EXPECT_EQ(n, 1);
  const char *name = nullptr;
  ASSERT_OK(kiln_exec_output_name(exec.get(), 0, &name));
  EXPECT_STREQ(name, "softmax_output");

  ASSERT_OK(kiln_exec_forward(exec.get(), 0));
  int ndim = 0;
  const int64_t *dims = nullptr;
  ASSERT_OK(kiln_exec_output_shape(exec.get(), 0, &ndim, &dims));
  ASSERT_EQ(ndim, 2);
  EXPECT_EQ(Shape(dims, dims + 2), (Shape{2, 2}));
  Floats probs(4);
  ASSERT_OK(kiln_exec_copy_output(exec.get(), 0, probs.data(), probs.size()));
  expectNear(probs, kProbs, 1e-5, "softmax output");
  kiln_nd_t raw = nullptr;
  ASSERT_OK(kiln_exec_output(exec.get(), 0, &raw));
  Nd out(raw);
  expectNear(valuesOf(out.get()), kProbs, 1e-5, "output as NDArray");

  // The NDArray forward on another input: the second row negated.
  Nd x = array({2, 4}, {1, 2, 3, 4, 1, 2, 3, 4});
  const char *inputs[] = {"data"};
  kiln_nd_t in[] = {x.get()};
  kiln_nd_t outs[1] = {nullptr};
  ASSERT_OK(kiln_exec_forward_nd(exec.get(), inputs, in, 1, 0, 1, outs, &n));
  ASSERT_EQ(n, 1);
  Nd ndOut(outs[0]);
  expectNear(valuesOf(ndOut.get()), {kProbs[0], kProbs[1], kProbs[0], kProbs[1]}, 1e-5,
             "NDArray forward");

  // An argument as an NDArray view: writes through it reach the executor,
  // and the view outlives the executor handle.
  ASSERT_OK(kiln_exec_arg(exec.get(), "fc2_bias", &raw));
  Nd bias(raw);
  Floats newBias = {1, 0};
  ASSERT_OK(kiln_nd_copy_from(bias.get(), newBias.data(), newBias.size()));
  ASSERT_OK(kiln_exec_forward(exec.get(), 0));
  ASSERT_OK(kiln_exec_copy_output(exec.get(), 0, probs.data(), probs.size()));
  EXPECT_NEAR(probs[0], 1 / (1 + std::exp(-4.0)), 1e-5); // logits [4, 0]
  exec.reset();
  EXPECT_EQ(valuesOf(bias.get()), newBias);
}

TEST(CApiExecutor, TrainingGradientsMatchEagerAutograd) {
  Exec exec = bindSmallNet();
  ASSERT_TRUE(exec);
  ASSERT_OK(kiln_exec_forward(exec.get(), 1));
  ASSERT_OK(kiln_exec_backward(exec.get(), nullptr, nullptr, 0));
  // SoftmaxOutput's gradient is p - onehot(label); fc2_bias sums it over
  // the batch.
  Floats db2 = {kProbs[0] - 1 + kProbs[2], kProbs[1] + kProbs[3] - 1};
  expectNear(execGrad(exec.get(), "fc2_bias"), db2, 1e-5, "fc2_bias gradient");

  // The same network, eagerly, under autograd.
  Nd x = array({2, 4}, kX), label = array({2}, kLabel);
  Nd w1 = array({3, 4}, kW1), b1 = array({3}, {0, 0, 0});
  Nd w2 = array({2, 3}, kW2), b2 = array({2}, {0, 0});
  for (kiln_nd_t p : {w1.get(), b1.get(), w2.get(), b2.get()})
    ASSERT_OK(kiln_nd_attach_grad(p, KILN_C_GRAD_WRITE));
  ASSERT_OK(kiln_autograd_record_begin(1));
  Nd h = invoke1("FullyConnected", {x.get(), w1.get(), b1.get()}, {{"num_hidden", "3"}});
  Nd r = invoke1("Activation", {h.get()}, {{"act_type", "relu"}});
  Nd logits = invoke1("FullyConnected", {r.get(), w2.get(), b2.get()}, {{"num_hidden", "2"}});
  Nd probs = invoke1("SoftmaxOutput", {logits.get(), label.get()});
  ASSERT_OK(kiln_autograd_scope_end());
  expectNear(valuesOf(probs.get()), kProbs, 1e-5, "eager forward");
  kiln_nd_t heads[] = {probs.get()};
  ASSERT_OK(kiln_autograd_backward(heads, 1, nullptr, 0));
  const char *params[] = {"fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"};
  kiln_nd_t eager[] = {w1.get(), b1.get(), w2.get(), b2.get()};
  for (int i = 0; i < 4; ++i) {
    kiln_nd_t raw = nullptr;
    ASSERT_OK(kiln_nd_grad(eager[i], &raw));
    Nd g(raw);
    expectNear(execGrad(exec.get(), params[i]), valuesOf(g.get()), 1e-5, params[i]);
  }
}

TEST(CApiExecutor, HeadGradientOfNonLossHead) {
  Sym data = variable("data");
  Sym fc = op("FullyConnected", "fc", {data.get()}, {{"num_hidden", "3"}});
  const char *inputs[] = {"data"};
  int ndims[] = {2};
  int64_t dims[] = {2, 4};
  kiln_exec_t raw = nullptr;
  ASSERT_OK(kiln_exec_bind(fc.get(), inputs, ndims, dims, 1, &raw));
  Exec exec(raw);
  ASSERT_OK(kiln_exec_set_arg(exec.get(), "data", kX.data(), kX.size()));
  ASSERT_OK(kiln_exec_forward(exec.get(), 1));
  Floats head = {1, -2, 0.5f, 3, 0, -1};
  Nd headGrad = array({2, 3}, head);
  const char *names[] = {"fc_output"};
  kiln_nd_t grads[] = {headGrad.get()};
  ASSERT_OK(kiln_exec_backward(exec.get(), names, grads, 1));
  // dW = headᵀ · data.
  Floats want(12);
  for (int o = 0; o < 3; ++o)
    for (int k = 0; k < 4; ++k)
      for (int n = 0; n < 2; ++n)
        want[o * 4 + k] += head[n * 3 + o] * kX[n * 4 + k];
  expectNear(execGrad(exec.get(), "fc_weight"), want, 1e-4, "fc_weight gradient");
  const char *twice[] = {"fc_output", "fc_output"};
  kiln_nd_t two[] = {headGrad.get(), headGrad.get()};
  EXPECT_TRUE(fails(kiln_exec_backward(exec.get(), twice, two, 2), KILN_C_ERROR_ARGUMENT,
                    {"'fc_output' is given twice"}));
}

TEST(CApiExecutor, CheckpointRoundTrip) {
  TempDir dir;
  Exec exec = bindSmallNet();
  ASSERT_TRUE(exec);
  std::string prefix = dir.file("small");
  ASSERT_OK(kiln_exec_save_checkpoint(exec.get(), prefix.c_str(), 3));
  ASSERT_TRUE(std::filesystem::exists(prefix + "-symbol.json"));
  std::string params = prefix + "-0003.params";
  kiln_nd_list_t rawList = nullptr;
  ASSERT_OK(kiln_nd_load(params.c_str(), &rawList));
  List list(rawList);
  const char *name = nullptr;
  kiln_nd_t item = nullptr;
  ASSERT_OK(kiln_nd_list_get(list.get(), 0, &name, &item));
  EXPECT_EQ(std::string(name).rfind("arg:", 0), 0u) << name;

  const char *inputs[] = {"data"};
  int ndims[] = {2};
  int64_t dims[] = {2, 4};
  kiln_exec_t raw = nullptr;
  ASSERT_OK(kiln_exec_load((prefix + "-symbol.json").c_str(), params.c_str(), inputs, ndims,
                           dims, 1, &raw));
  Exec loaded(raw);
  ASSERT_OK(kiln_exec_set_arg(loaded.get(), "data", kX.data(), kX.size()));
  ASSERT_OK(kiln_exec_forward(loaded.get(), 0));
  Floats probs(4);
  ASSERT_OK(kiln_exec_copy_output(loaded.get(), 0, probs.data(), probs.size()));
  expectNear(probs, kProbs, 1e-5, "reloaded checkpoint");
}

TEST(CApiExecutor, Errors) {
  const char *inputs[] = {"data"};
  int ndims[] = {4};
  int64_t dims[] = {2, 1, 28, 28};
  kiln_exec_t raw = nullptr;
  EXPECT_TRUE(fails(kiln_exec_load("/no/such/net-symbol.json", nullptr, inputs, ndims, dims, 1,
                                   &raw),
                    KILN_C_ERROR, {"kiln_exec_load: ", "/no/such/net-symbol.json"}));
  EXPECT_EQ(raw, nullptr);
  EXPECT_TRUE(fails(kiln_exec_load("zoo:mlp", "/no/such/mlp.params", inputs, ndims, dims, 1,
                                   &raw),
                    KILN_C_ERROR, {"kiln_exec_load: ", "/no/such/mlp.params"}));
  EXPECT_TRUE(fails(kiln_exec_load("zoo:mlp", nullptr, inputs, ndims, nullptr, 1, &raw),
                    KILN_C_ERROR_ARGUMENT, {"dims is NULL but input 'data' has rank 4"}));
  const char *twice[] = {"data", "data"};
  int twiceDims[] = {1, 1};
  int64_t flat[] = {2, 2};
  EXPECT_TRUE(fails(kiln_exec_load("zoo:mlp", nullptr, twice, twiceDims, flat, 2, &raw),
                    KILN_C_ERROR_ARGUMENT, {"input 'data' is given twice"}));
  EXPECT_TRUE(fails(kiln_exec_bind(nullptr, inputs, ndims, dims, 1, &raw),
                    KILN_C_ERROR_ARGUMENT, {"kiln_exec_bind", "Symbol handle is NULL"}));

  // Shapes that do not fit: (2, 3) + (3, 2).
  Sym a = variable("a"), b = variable("b");
  Sym sum = op("elemwise_add", "sum", {a.get(), b.get()});
  const char *ab[] = {"a", "b"};
  int abDims[] = {2, 2};
  int64_t abFlat[] = {2, 3, 3, 2};
  EXPECT_TRUE(fails(kiln_exec_bind(sum.get(), ab, abDims, abFlat, 2, &raw), KILN_C_ERROR,
                    {"kiln_exec_bind: ", "node 'sum'", "same shape"}));
  // An attribute value is checked when the network is bound.
  Sym x = variable("x");
  Sym fc = op("FullyConnected", "fc", {x.get()}, {{"num_hidden", "many"}});
  const char *xName[] = {"x"};
  EXPECT_TRUE(fails(kiln_exec_bind(fc.get(), xName, abDims, abFlat, 1, &raw), KILN_C_ERROR,
                    {"kiln_exec_bind: ", "num_hidden", "many"}));

  Exec exec = bindSmallNet();
  ASSERT_TRUE(exec);
  Floats three(3);
  EXPECT_TRUE(fails(kiln_exec_set_arg(exec.get(), "data", three.data(), three.size()),
                    KILN_C_ERROR_ARGUMENT,
                    {"kiln_exec_set_arg", "argument 'data' (2, 4) has 8 elements but size is 3"}));
  EXPECT_TRUE(fails(kiln_exec_set_arg(exec.get(), "nope", three.data(), three.size()),
                    KILN_C_ERROR, {"kiln_exec_set_arg: ", "'nope'"}));
  Floats out(4);
  EXPECT_TRUE(fails(kiln_exec_copy_output(exec.get(), 0, out.data(), out.size()), KILN_C_ERROR,
                    {"kiln_exec_copy_output: ", "forward"}));
  ASSERT_OK(kiln_exec_forward(exec.get(), 0));
  EXPECT_TRUE(fails(kiln_exec_copy_output(exec.get(), 1, out.data(), out.size()),
                    KILN_C_ERROR_ARGUMENT, {"output index 1 is out of range (there is 1)"}));
  kiln_nd_t nd = nullptr;
  EXPECT_TRUE(fails(kiln_exec_grad(exec.get(), "nope", &nd), KILN_C_ERROR,
                    {"kiln_exec_grad: ", "'nope'"}));
  Nd wrong = array({3, 4}, Floats(12, 0.0f));
  const char *data[] = {"data"};
  kiln_nd_t in[] = {wrong.get()};
  kiln_nd_t outs[1];
  int n = 0;
  EXPECT_TRUE(fails(kiln_exec_forward_nd(exec.get(), data, in, 1, 0, 1, outs, &n), KILN_C_ERROR,
                    {"kiln_exec_forward_nd: ", "'data'", "(3, 4)"}));
  EXPECT_TRUE(fails(kiln_exec_forward_nd(exec.get(), data, in, 1, 0, 0, nullptr, &n),
                    KILN_C_ERROR_ARGUMENT, {"1 outputs but outputs_capacity is 0"}));
  EXPECT_EQ(n, 1);
  const char **list = nullptr;
  EXPECT_TRUE(fails(kiln_exec_list_names(exec.get(), 9, &n, (const char *const **)&list),
                    KILN_C_ERROR_ARGUMENT, {"kind 9"}));
  EXPECT_TRUE(fails(kiln_exec_save_checkpoint(exec.get(), "/no/such/dir/ck", 0), KILN_C_ERROR,
                    {"kiln_exec_save_checkpoint: ", "/no/such/dir/ck"}));
  EXPECT_TRUE(fails(kiln_exec_forward(nullptr, 0), KILN_C_ERROR_ARGUMENT,
                    {"Executor handle is NULL"}));
  EXPECT_OK(kiln_exec_free(nullptr));
}

//===----------------------------------------------------------------------===//
// AOT model libraries
//===----------------------------------------------------------------------===//

/// Runs a shell command; its output goes to `log`, printed on failure.
::testing::AssertionResult run(const std::string &command, const std::string &log) {
  int rc = std::system((command + " > '" + log + "' 2>&1").c_str());
  if (rc == 0)
    return ::testing::AssertionSuccess();
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return ::testing::AssertionFailure() << command << " failed (" << rc << "):\n" << text.str();
}

TEST(CApiAot, LibraryMatchesExecutor) {
  TempDir dir;
  std::string lib = dir.file("libmlp.so");
  ASSERT_TRUE(run(std::string("'") + KILN_COMPILE_PATH +
                      "' zoo:mlp --input-shape data=2,1,28,28 --random-params 7 --emit lib -o '" +
                      lib + "'",
                  dir.file("compile.log")));

  kiln_aot_lib_t rawLib = nullptr;
  ASSERT_OK(kiln_aot_load(lib.c_str(), &rawLib));
  AotLib library(rawLib);
  const char *json = nullptr;
  ASSERT_OK(kiln_aot_signature(library.get(), &json));
  EXPECT_NE(std::string(json).find("\"model\":\"zoo:mlp\""), std::string::npos) << json;
  int numInputs = 0, numOutputs = 0;
  ASSERT_OK(kiln_aot_num_inputs(library.get(), &numInputs));
  ASSERT_OK(kiln_aot_num_outputs(library.get(), &numOutputs));
  ASSERT_EQ(numInputs, 2);
  ASSERT_EQ(numOutputs, 1);
  const char *name = nullptr;
  ASSERT_OK(kiln_aot_input_name(library.get(), 1, &name));
  EXPECT_STREQ(name, "softmax_label");
  ASSERT_OK(kiln_aot_output_name(library.get(), 0, &name));
  EXPECT_STREQ(name, "softmax_output");
  int ndim = 0, optional = -1;
  const int64_t *dims = nullptr;
  ASSERT_OK(kiln_aot_input_shape(library.get(), 0, &ndim, &dims));
  EXPECT_EQ(Shape(dims, dims + ndim), (Shape{2, 1, 28, 28}));
  ASSERT_OK(kiln_aot_output_shape(library.get(), 0, &ndim, &dims));
  EXPECT_EQ(Shape(dims, dims + ndim), (Shape{2, 10}));
  ASSERT_OK(kiln_aot_input_optional(library.get(), 0, &optional));
  EXPECT_EQ(optional, 0);
  ASSERT_OK(kiln_aot_input_optional(library.get(), 1, &optional));
  EXPECT_EQ(optional, 1);

  // A second model library in the same process keeps its own entry points.
  std::string lib1 = dir.file("libmlp1.so");
  ASSERT_TRUE(run(std::string("'") + KILN_COMPILE_PATH +
                      "' zoo:mlp --input-shape data=1,1,28,28 --random-params 7 --emit lib -o '" +
                      lib1 + "'",
                  dir.file("compile1.log")));
  ASSERT_OK(kiln_aot_load(lib1.c_str(), &rawLib));
  AotLib library1(rawLib);
  ASSERT_OK(kiln_aot_input_shape(library1.get(), 0, &ndim, &dims));
  EXPECT_EQ(Shape(dims, dims + ndim), (Shape{1, 1, 28, 28}));
  ASSERT_OK(kiln_aot_input_shape(library.get(), 0, &ndim, &dims));
  EXPECT_EQ(Shape(dims, dims + ndim), (Shape{2, 1, 28, 28}));

  // The Executor on zoo:mlp with deterministic weights, saved as a
  // checkpoint the library's model then loads.
  const char *inputs[] = {"data"};
  int ndims[] = {4};
  int64_t shape[] = {2, 1, 28, 28};
  kiln_exec_t rawExec = nullptr;
  ASSERT_OK(kiln_exec_load("zoo:mlp", nullptr, inputs, ndims, shape, 1, &rawExec));
  Exec exec(rawExec);
  int numParams = 0;
  const char *const *params = nullptr;
  ASSERT_OK(kiln_exec_list_names(exec.get(), KILN_C_EXEC_PARAMS, &numParams, &params));
  for (int p = 0; p < numParams; ++p) {
    kiln_nd_t raw = nullptr;
    ASSERT_OK(kiln_exec_arg(exec.get(), params[p], &raw));
    Nd arg(raw);
    int64_t size = 0;
    ASSERT_OK(kiln_nd_size(arg.get(), &size));
    Floats values(static_cast<size_t>(size));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = 0.1f * float(std::sin(0.37 * double(i) + p));
    ASSERT_OK(kiln_exec_set_arg(exec.get(), params[p], values.data(), values.size()));
  }
  Floats x(2 * 28 * 28);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float((i * 37) % 101) / 101.0f;
  ASSERT_OK(kiln_exec_set_arg(exec.get(), "data", x.data(), x.size()));
  ASSERT_OK(kiln_exec_forward(exec.get(), 0));
  Floats want(20);
  ASSERT_OK(kiln_exec_copy_output(exec.get(), 0, want.data(), want.size()));
  std::string prefix = dir.file("mlp");
  ASSERT_OK(kiln_exec_save_checkpoint(exec.get(), prefix.c_str(), 0));

  kiln_aot_model_t rawModel = nullptr;
  ASSERT_OK(kiln_aot_create(library.get(), (prefix + "-0000.params").c_str(), &rawModel));
  AotModel model(rawModel);
  Floats got(20, -1.0f);
  const float *in[] = {x.data(), nullptr}; // the label is optional
  float *out[] = {got.data()};
  ASSERT_OK(kiln_aot_run(model.get(), in, 2, out, 1));
  expectNear(got, want, 1e-5, "AOT output vs Executor");
  // The spread of the outputs shows the weights were not all alike.
  EXPECT_GT(*std::max_element(want.begin(), want.end()) -
                *std::min_element(want.begin(), want.end()),
            1e-3);

  // The embedded weights; unloading the handle keeps the library for the
  // instance.
  ASSERT_OK(kiln_aot_create(library.get(), nullptr, &rawModel));
  AotModel embedded(rawModel);
  library.reset();
  ASSERT_OK(kiln_aot_run(embedded.get(), in, 2, out, 1));
  EXPECT_NEAR(got[0] + got[1] + got[2] + got[3] + got[4] + got[5] + got[6] + got[7] + got[8] +
                  got[9],
              1.0, 1e-5);

  // Run errors: counts, NULL buffers, the library's own checks.
  EXPECT_TRUE(fails(kiln_aot_run(embedded.get(), in, 1, out, 1), KILN_C_ERROR_ARGUMENT,
                    {"kiln_aot_run", "libmlp.so", "takes 2 inputs but n_inputs is 1"}));
  float *nullOut[] = {nullptr};
  EXPECT_TRUE(fails(kiln_aot_run(embedded.get(), in, 2, nullOut, 1), KILN_C_ERROR_ARGUMENT,
                    {"outputs[0] ('softmax_output') is NULL"}));
  const float *noData[] = {nullptr, nullptr};
  EXPECT_TRUE(fails(kiln_aot_run(embedded.get(), noData, 2, out, 1), KILN_C_ERROR,
                    {"kiln_aot_run: ", "libmlp.so", "input 0 ('data'): data is NULL"}));
  EXPECT_TRUE(fails(kiln_aot_run(nullptr, in, 2, out, 1), KILN_C_ERROR_ARGUMENT,
                    {"AOT model handle is NULL"}));
}

TEST(CApiAot, LoadErrors) {
  TempDir dir;
  kiln_aot_lib_t lib = nullptr;
  // A real shared library that is not a Kiln model.
  EXPECT_TRUE(fails(kiln_aot_load("libm.so.6", &lib), KILN_C_ERROR,
                    {"kiln_aot_load: ", "'libm.so.6' is not a Kiln AOT model library",
                     "kiln_model_api_version"}));
  EXPECT_EQ(lib, nullptr);
  std::string missing = dir.file("libnothing.so");
  EXPECT_TRUE(fails(kiln_aot_load(missing.c_str(), &lib), KILN_C_ERROR,
                    {"kiln_aot_load: ", "cannot load '" + missing + "'"}));
  std::string text = dir.file("libtext.so");
  std::ofstream(text) << "not an ELF file";
  EXPECT_TRUE(fails(kiln_aot_load(text.c_str(), &lib), KILN_C_ERROR,
                    {"cannot load '" + text + "'"}));
  EXPECT_TRUE(fails(kiln_aot_load(nullptr, &lib), KILN_C_ERROR_ARGUMENT, {"path is NULL"}));
  int n = 0;
  EXPECT_TRUE(fails(kiln_aot_num_inputs(nullptr, &n), KILN_C_ERROR_ARGUMENT,
                    {"AOT library handle is NULL"}));

  // A model library with a bad parameter file and a bad index.
  std::string path = dir.file("libext.so");
  ASSERT_TRUE(run(std::string("'") + KILN_COMPILE_PATH +
                      "' zoo:mlp --input-shape data=1,1,28,28 --external-params --emit lib -o '" +
                      path + "'",
                  dir.file("compile.log")));
  ASSERT_OK(kiln_aot_load(path.c_str(), &lib));
  AotLib library(lib);
  kiln_aot_model_t model = nullptr;
  EXPECT_TRUE(fails(kiln_aot_create(library.get(), nullptr, &model), KILN_C_ERROR,
                    {"kiln_aot_create: ", "libext.so", "--external-params"}));
  EXPECT_TRUE(fails(kiln_aot_create(library.get(), "/no/such/ck.params", &model), KILN_C_ERROR,
                    {"kiln_aot_create: ", "/no/such/ck.params"}));
  EXPECT_EQ(model, nullptr);
  const char *name = nullptr;
  EXPECT_TRUE(fails(kiln_aot_input_name(library.get(), 5, &name), KILN_C_ERROR_ARGUMENT,
                    {"input index 5 is out of range (there are 2)"}));
}

} // namespace
