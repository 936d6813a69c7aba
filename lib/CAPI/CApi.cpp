//===- CApi.cpp - Kiln's C API over the C++ API ---------------------------===//
//
// Every entry point runs its body in guard(), which turns any C++ exception
// into a status and a per-thread message "FUNCTION: what went wrong", so
// nothing but C types ever crosses the boundary. Handles are heap structs
// holding the C++ handle (NDArray and Symbol are themselves cheap shared
// handles) plus whatever storage the pointers a call returns live in.
//
//===----------------------------------------------------------------------===//

#include "kiln/c_api.h"

// The AOT C API, for the function-pointer types of what kiln_aot_load
// resolves. Both headers in one translation unit also proves that they do
// not clash.
#include "kiln/aot.h"

#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/NDArray.h"
#include "kiln/Symbol.h"
#include "kiln/Zoo.h"
#include "runtime/io/NDArrayFile.h"

#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace kiln;

struct kiln_nd_s {
  NDArray array;
  /// What the array's memory belongs to when it is a view of it (an
  /// executor's argument or gradient): kept alive as long as the handle.
  std::shared_ptr<void> owner;
};

struct kiln_nd_list_s {
  std::vector<std::string> names; // empty: an unnamed list
  std::vector<kiln_nd_s> arrays;
};

struct kiln_sym_s {
  Symbol symbol;
  std::string json;
  /// Storage of kiln_sym_list_*: the strings and the pointer array, per
  /// function (indexed by ListKind).
  std::vector<std::string> lists[4];
  std::vector<const char *> listPointers[4];
};

struct kiln_exec_s {
  std::shared_ptr<Executor> executor;
  std::vector<const char *> names[4]; // per KILN_C_EXEC_* kind, filled lazily
  /// Output shapes (fixed by binding), recorded by the first query after a
  /// forward so the pointers handed out stay valid.
  std::vector<std::vector<int64_t>> outputShapes;
};

namespace {

/// A bad argument caught here rather than by Kiln (KILN_C_ERROR_ARGUMENT).
struct ArgumentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

thread_local std::string lastError;

int fail(const char *function, const char *message, int status) noexcept {
  try {
    lastError = std::string(function) + ": " + message;
  } catch (...) {
    // Out of memory while reporting: an empty message beats none at all.
    lastError.clear();
  }
  return status;
}

/// Runs `body`, mapping exceptions to statuses and kiln_last_error().
template <typename Body>
int guard(const char *function, Body &&body) noexcept {
  try {
    body();
    return KILN_C_OK;
  } catch (const ArgumentError &e) {
    return fail(function, e.what(), KILN_C_ERROR_ARGUMENT);
  } catch (const Error &e) {
    return fail(function, e.what(), KILN_C_ERROR);
  } catch (const std::bad_alloc &) {
    return fail(function, "out of memory", KILN_C_ERROR_INTERNAL);
  } catch (const std::exception &e) {
    return fail(function, (std::string("internal error: ") + e.what()).c_str(),
                KILN_C_ERROR_INTERNAL);
  } catch (...) {
    return fail(function, "internal error: an unknown exception", KILN_C_ERROR_INTERNAL);
  }
}

[[noreturn]] void argumentError(const std::string &message) { throw ArgumentError(message); }

template <typename T> T &deref(T *p, const char *what) {
  if (!p)
    argumentError(std::string(what) + " is NULL");
  return *p;
}

/// An output pointer: must be non-null.
template <typename T> T *outPtr(T *p, const char *what) {
  if (!p)
    argumentError(std::string("the output pointer '") + what + "' is NULL");
  return p;
}

std::string stringArg(const char *s, const char *what) {
  if (!s)
    argumentError(std::string(what) + " is NULL");
  return s;
}

void checkCount(int n, const void *array, const char *countName, const char *arrayName) {
  if (n < 0)
    argumentError(std::string(countName) + " is negative (" + std::to_string(n) + ")");
  if (n > 0 && !array)
    argumentError(std::string(arrayName) + " is NULL but " + countName + " is " +
                  std::to_string(n));
}

void checkIndex(int index, size_t count, const char *what) {
  if (index < 0 || size_t(index) >= count)
    argumentError(std::string(what) + " " + std::to_string(index) + " is out of range (there " +
                  (count == 1 ? "is 1" : "are " + std::to_string(count)) + ")");
}

std::vector<int64_t> shapeArg(const int64_t *shape, int ndim, const char *what) {
  checkCount(ndim, shape, "ndim", what);
  std::vector<int64_t> out(shape, shape + ndim);
  for (int i = 0; i < ndim; ++i)
    if (out[i] < 0)
      argumentError(std::string(what) + ": extent " + std::to_string(i) + " is negative (" +
                    std::to_string(out[i]) + ")");
  return out;
}

void checkSize(size_t size, int64_t want, const std::string &what) {
  if (int64_t(size) != want)
    argumentError(what + " has " + std::to_string(want) + " elements but size is " +
                  std::to_string(size));
}

nd::AttrMap attrsArg(const char *const *keys, const char *const *values, int n) {
  checkCount(n, keys, "n_attrs", "attr_keys");
  checkCount(n, values, "n_attrs", "attr_values");
  nd::AttrMap attrs;
  for (int i = 0; i < n; ++i) {
    if (!keys[i])
      argumentError("attr_keys[" + std::to_string(i) + "] is NULL");
    if (!values[i])
      argumentError("attr_values[" + std::to_string(i) + "] (attribute '" +
                    std::string(keys[i]) + "') is NULL");
    if (!attrs.emplace(keys[i], values[i]).second)
      argumentError("attribute '" + std::string(keys[i]) + "' is given twice");
  }
  return attrs;
}

NDArray &array(kiln_nd_t nd, const char *what = "the NDArray handle") {
  return deref(nd, what).array;
}

/// `n` arrays; a NULL entry is an empty NDArray when `allowNull` (a head
/// gradient left to its default), an error otherwise.
std::vector<NDArray> arraysArg(const kiln_nd_t *arrays, int n, const char *countName,
                               const char *arrayName, bool allowNull) {
  checkCount(n, arrays, countName, arrayName);
  std::vector<NDArray> out;
  for (int i = 0; i < n; ++i) {
    if (!arrays[i] && !allowNull)
      argumentError(std::string(arrayName) + "[" + std::to_string(i) + "] is NULL");
    out.push_back(arrays[i] ? arrays[i]->array : NDArray());
  }
  return out;
}

/// Hands out new handles for `arrays` into `out[0 .. n)`, all or none.
void handOut(std::vector<NDArray> arrays, int capacity, kiln_nd_t *out, int *count,
             const std::string &what) {
  *count = int(arrays.size());
  if (arrays.size() > size_t(capacity))
    argumentError(what + " has " + std::to_string(arrays.size()) +
                  " outputs but outputs_capacity is " + std::to_string(capacity));
  std::vector<std::unique_ptr<kiln_nd_s>> handles;
  for (NDArray &a : arrays)
    handles.push_back(std::make_unique<kiln_nd_s>(kiln_nd_s{std::move(a), nullptr}));
  for (size_t i = 0; i < handles.size(); ++i)
    out[i] = handles[i].release();
}

kiln_nd_t newHandle(NDArray a, std::shared_ptr<void> owner = nullptr) {
  return new kiln_nd_s{std::move(a), std::move(owner)};
}

// Symbols.

Symbol &symbol(kiln_sym_t sym, const char *what = "the Symbol handle") {
  return deref(sym, what).symbol;
}

enum ListKind { Arguments, AuxStates, Outputs, Inputs };

void listNames(kiln_sym_t sym, ListKind kind, int *count, const char *const **names) {
  kiln_sym_s &s = deref(sym, "the Symbol handle");
  outPtr(count, "count");
  outPtr(names, "names");
  std::vector<std::string> list = kind == Arguments   ? s.symbol.listArguments()
                                  : kind == AuxStates ? s.symbol.listAuxiliaryStates()
                                  : kind == Outputs   ? s.symbol.listOutputs()
                                                      : s.symbol.listInputs();
  s.lists[kind] = std::move(list);
  s.listPointers[kind].clear();
  for (const std::string &n : s.lists[kind])
    s.listPointers[kind].push_back(n.c_str());
  *count = int(s.lists[kind].size());
  *names = s.listPointers[kind].data();
}

kiln_sym_t newSymbol(Symbol s) {
  auto handle = std::make_unique<kiln_sym_s>();
  handle->symbol = std::move(s);
  return handle.release();
}

// Executors.

Executor &executor(kiln_exec_t exec) {
  return *deref(exec, "the Executor handle").executor;
}

ShapeMap shapesArg(const char *const *names, const int *ndims, const int64_t *dims, int n) {
  checkCount(n, names, "n_inputs", "input_names");
  checkCount(n, ndims, "n_inputs", "ndims");
  ShapeMap shapes;
  size_t offset = 0;
  for (int i = 0; i < n; ++i) {
    if (!names[i])
      argumentError("input_names[" + std::to_string(i) + "] is NULL");
    if (ndims[i] < 0)
      argumentError("ndims[" + std::to_string(i) + "] (input '" + names[i] +
                    "') is negative (" + std::to_string(ndims[i]) + ")");
    if (ndims[i] > 0 && !dims)
      argumentError("dims is NULL but input '" + std::string(names[i]) + "' has rank " +
                    std::to_string(ndims[i]));
    std::vector<int64_t> shape(dims + offset, dims + offset + ndims[i]);
    offset += size_t(ndims[i]);
    for (int64_t d : shape)
      if (d < 0)
        argumentError("input '" + std::string(names[i]) + "': extent " + std::to_string(d) +
                      " is negative");
    if (!shapes.emplace(names[i], std::move(shape)).second)
      argumentError("input '" + std::string(names[i]) + "' is given twice");
  }
  return shapes;
}

kiln_exec_t newExecutor(std::unique_ptr<Executor> e) {
  auto handle = std::make_unique<kiln_exec_s>();
  handle->executor = std::move(e);
  return handle.release();
}

const Tensor &output(kiln_exec_t exec, int index) {
  const std::vector<Tensor> &outputs = executor(exec).outputs();
  checkIndex(index, outputs.size(), "output index");
  return outputs[size_t(index)];
}

} // namespace

// AOT libraries: the entry points of include/kiln/aot.h, resolved by name.

namespace {

struct AotLibrary {
  std::string path;
  void *handle = nullptr;
  decltype(&kiln_model_api_version) apiVersion = nullptr;
  decltype(&kiln_model_signature) signature = nullptr;
  decltype(&kiln_model_num_inputs) numInputs = nullptr;
  decltype(&kiln_model_num_outputs) numOutputs = nullptr;
  decltype(&kiln_model_input_name) inputName = nullptr;
  decltype(&kiln_model_output_name) outputName = nullptr;
  decltype(&kiln_model_input_info) inputInfo = nullptr;
  decltype(&kiln_model_output_info) outputInfo = nullptr;
  decltype(&kiln_model_input_optional) inputOptional = nullptr;
  decltype(&kiln_model_create) create = nullptr;
  decltype(&kiln_model_run) run = nullptr;
  decltype(&kiln_model_destroy) destroy = nullptr;
  decltype(&kiln_model_last_error) lastError = nullptr;

  // The signature, read once at load (it points into the library).
  const char *signatureJSON = nullptr;
  std::vector<const char *> inputNames, outputNames;
  std::vector<kiln_tensor> inputs, outputs;
  std::vector<int> optional;

  ~AotLibrary() {
    if (handle)
      dlclose(handle);
  }

  /// The library's own message for its last failure on this thread.
  std::string libraryError() const {
    const char *m = lastError ? lastError() : nullptr;
    return m && *m ? m : "no message";
  }
};

struct AotModel {
  std::shared_ptr<AotLibrary> library;
  kiln_model *model = nullptr;
  ~AotModel() {
    if (model)
      library->destroy(model);
  }
};

template <typename F> void resolve(AotLibrary &lib, F &fn, const char *name) {
  dlerror();
  void *p = dlsym(lib.handle, name);
  if (!p)
    throw Error("'" + lib.path + "' is not a Kiln AOT model library (kiln-compile --emit lib): "
                "it does not define '" + name + "'");
  fn = reinterpret_cast<F>(p);
}

std::shared_ptr<AotLibrary> loadAot(const std::string &path) {
  auto lib = std::make_shared<AotLibrary>();
  lib->path = path;
  dlerror();
  // RTLD_LOCAL: the kiln_model_* of two libraries must not meet.
  lib->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char *why = dlerror();
    throw Error("cannot load '" + path + "': " + (why ? why : "dlopen failed"));
  }
  resolve(*lib, lib->apiVersion, "kiln_model_api_version");
  resolve(*lib, lib->signature, "kiln_model_signature");
  resolve(*lib, lib->numInputs, "kiln_model_num_inputs");
  resolve(*lib, lib->numOutputs, "kiln_model_num_outputs");
  resolve(*lib, lib->inputName, "kiln_model_input_name");
  resolve(*lib, lib->outputName, "kiln_model_output_name");
  resolve(*lib, lib->inputInfo, "kiln_model_input_info");
  resolve(*lib, lib->outputInfo, "kiln_model_output_info");
  resolve(*lib, lib->inputOptional, "kiln_model_input_optional");
  resolve(*lib, lib->create, "kiln_model_create");
  resolve(*lib, lib->run, "kiln_model_run");
  resolve(*lib, lib->destroy, "kiln_model_destroy");
  resolve(*lib, lib->lastError, "kiln_model_last_error");

  int32_t version = lib->apiVersion();
  if (version != KILN_AOT_API_VERSION)
    throw Error("'" + path + "' was built for version " + std::to_string(version) +
                " of the AOT model API; this Kiln reads version " +
                std::to_string(KILN_AOT_API_VERSION) + ": rebuild it with this kiln-compile");
  lib->signatureJSON = lib->signature();
  if (!lib->signatureJSON)
    throw Error("'" + path + "': the model in the library is unusable: " + lib->libraryError());
  int32_t numInputs = lib->numInputs(), numOutputs = lib->numOutputs();
  if (numInputs < 0 || numOutputs < 0)
    throw Error("'" + path + "': cannot read the model's signature: " + lib->libraryError());
  for (int32_t i = 0; i < numInputs; ++i) {
    kiln_tensor info;
    const char *name = lib->inputName(i);
    int32_t optional = lib->inputOptional(i);
    if (!name || optional < 0 || lib->inputInfo(i, &info) != KILN_OK)
      throw Error("'" + path + "': cannot read input " + std::to_string(i) +
                  " of the signature: " + lib->libraryError());
    lib->inputNames.push_back(name);
    lib->inputs.push_back(info);
    lib->optional.push_back(optional);
  }
  for (int32_t i = 0; i < numOutputs; ++i) {
    kiln_tensor info;
    const char *name = lib->outputName(i);
    if (!name || lib->outputInfo(i, &info) != KILN_OK)
      throw Error("'" + path + "': cannot read output " + std::to_string(i) +
                  " of the signature: " + lib->libraryError());
    lib->outputNames.push_back(name);
    lib->outputs.push_back(info);
  }
  return lib;
}

} // namespace

struct kiln_aot_lib_s {
  std::shared_ptr<AotLibrary> library;
};

struct kiln_aot_model_s {
  AotModel instance;
};

namespace {

AotLibrary &aotLibrary(kiln_aot_lib_t lib) {
  return *deref(lib, "the AOT library handle").library;
}

void aotShape(const kiln_tensor &info, int *ndim, const int64_t **dims) {
  *outPtr(ndim, "ndim") = int(info.rank);
  *outPtr(dims, "dims") = info.rank ? info.shape : nullptr;
}

/// The autograd scopes this thread opened through the C API, innermost
/// last; each restores the flags it found when it is closed (or when the
/// thread ends).
struct AutogradScope {
  std::unique_ptr<autograd::RecordScope> record;
  std::unique_ptr<autograd::PauseScope> pause;
};
thread_local std::vector<AutogradScope> autogradScopes;

} // namespace

extern "C" {

const char *kiln_last_error(void) { return lastError.c_str(); }

int kiln_c_api_version(void) { return KILN_C_API_VERSION; }

//===----------------------------------------------------------------------===//
// NDArray
//===----------------------------------------------------------------------===//

int kiln_nd_create(const int64_t *shape, int ndim, kiln_nd_t *out) {
  return guard("kiln_nd_create", [&] {
    outPtr(out, "out");
    *out = newHandle(NDArray(shapeArg(shape, ndim, "shape")));
  });
}

int kiln_nd_create_from_data(const int64_t *shape, int ndim, const float *data, size_t size,
                             kiln_nd_t *out) {
  return guard("kiln_nd_create_from_data", [&] {
    outPtr(out, "out");
    std::vector<int64_t> dims = shapeArg(shape, ndim, "shape");
    checkSize(size, Tensor::numElements(dims), "an array of shape " + formatShape(dims));
    if (size && !data)
      argumentError("data is NULL");
    *out = newHandle(NDArray(dims, std::vector<float>(data, data + size)));
  });
}

int kiln_nd_full(const int64_t *shape, int ndim, float value, kiln_nd_t *out) {
  return guard("kiln_nd_full", [&] {
    outPtr(out, "out");
    *out = newHandle(nd::full(shapeArg(shape, ndim, "shape"), value));
  });
}

int kiln_nd_free(kiln_nd_t nd) {
  return guard("kiln_nd_free", [&] { delete nd; });
}

int kiln_nd_shape(kiln_nd_t nd, int *ndim, const int64_t **dims) {
  return guard("kiln_nd_shape", [&] {
    const std::vector<int64_t> &shape = array(nd).shape();
    *outPtr(ndim, "ndim") = int(shape.size());
    *outPtr(dims, "dims") = shape.empty() ? nullptr : shape.data();
  });
}

int kiln_nd_size(kiln_nd_t nd, int64_t *size) {
  return guard("kiln_nd_size", [&] { *outPtr(size, "size") = array(nd).size(); });
}

int kiln_nd_copy_to(kiln_nd_t nd, float *data, size_t size) {
  return guard("kiln_nd_copy_to", [&] {
    const NDArray &a = array(nd);
    checkSize(size, a.size(), "the array " + formatShape(a.shape()));
    if (size && !data)
      argumentError("data is NULL");
    a.syncCopyToCPU(data, size);
  });
}

int kiln_nd_copy_from(kiln_nd_t nd, const float *data, size_t size) {
  return guard("kiln_nd_copy_from", [&] {
    NDArray &a = array(nd);
    checkSize(size, a.size(), "the array " + formatShape(a.shape()));
    if (size && !data)
      argumentError("data is NULL");
    a.syncCopyFromCPU(data, size);
  });
}

int kiln_nd_copy(kiln_nd_t nd, kiln_nd_t *out) {
  return guard("kiln_nd_copy", [&] {
    outPtr(out, "out");
    *out = newHandle(array(nd).copy());
  });
}

int kiln_nd_reshape(kiln_nd_t nd, const int64_t *shape, int ndim, kiln_nd_t *out) {
  return guard("kiln_nd_reshape", [&] {
    outPtr(out, "out");
    checkCount(ndim, shape, "ndim", "shape");
    NDArray view = array(nd).reshape(std::vector<int64_t>(shape, shape + ndim));
    // Views keep what the viewed memory belongs to (an executor) alive.
    *out = newHandle(std::move(view), nd->owner);
  });
}

int kiln_nd_slice(kiln_nd_t nd, int64_t begin, int64_t end, kiln_nd_t *out) {
  return guard("kiln_nd_slice", [&] {
    outPtr(out, "out");
    NDArray view = array(nd).slice(begin, end);
    *out = newHandle(std::move(view), nd->owner);
  });
}

int kiln_nd_wait_to_read(kiln_nd_t nd) {
  return guard("kiln_nd_wait_to_read", [&] { array(nd).waitToRead(); });
}

int kiln_nd_wait_all(void) {
  return guard("kiln_nd_wait_all", [&] { nd::waitAll(); });
}

int kiln_nd_invoke(const char *op, const kiln_nd_t *inputs, int n_inputs,
                   const char *const *attr_keys, const char *const *attr_values, int n_attrs,
                   int outputs_capacity, kiln_nd_t *outputs, int *n_outputs) {
  return guard("kiln_nd_invoke", [&] {
    std::string name = stringArg(op, "op");
    outPtr(n_outputs, "n_outputs");
    checkCount(outputs_capacity, outputs, "outputs_capacity", "outputs");
    std::vector<NDArray> in = arraysArg(inputs, n_inputs, "n_inputs", "inputs", false);
    nd::AttrMap attrs = attrsArg(attr_keys, attr_values, n_attrs);
    handOut(nd::invoke(name, in, attrs), outputs_capacity, outputs, n_outputs,
            "operator '" + name + "'");
  });
}

int kiln_nd_invoke_out(const char *op, const kiln_nd_t *inputs, int n_inputs,
                       const char *const *attr_keys, const char *const *attr_values,
                       int n_attrs, const kiln_nd_t *outputs, int n_outputs) {
  return guard("kiln_nd_invoke_out", [&] {
    std::string name = stringArg(op, "op");
    std::vector<NDArray> in = arraysArg(inputs, n_inputs, "n_inputs", "inputs", false);
    std::vector<NDArray> out = arraysArg(outputs, n_outputs, "n_outputs", "outputs", false);
    if (out.empty())
      argumentError("n_outputs is 0: the out= form needs the arrays to write");
    nd::invoke(name, in, attrsArg(attr_keys, attr_values, n_attrs), out);
  });
}

int kiln_nd_save(const char *path, const kiln_nd_t *arrays, int n, const char *const *names) {
  return guard("kiln_nd_save", [&] {
    std::string file = stringArg(path, "path");
    std::vector<NDArray> in = arraysArg(arrays, n, "n", "arrays", false);
    NDArrayList list;
    std::set<std::string> seen;
    for (int i = 0; names && i < n; ++i) {
      if (!names[i])
        argumentError("names[" + std::to_string(i) + "] is NULL");
      if (!seen.insert(names[i]).second)
        argumentError("the name '" + std::string(names[i]) + "' is given twice");
      list.names.push_back(names[i]);
    }
    // toTensor() waits for the values (and reports a failed op).
    for (const NDArray &a : in)
      list.arrays.push_back(a.toTensor());
    saveNDArrayFile(file, list);
  });
}

int kiln_nd_load(const char *path, kiln_nd_list_t *out) {
  return guard("kiln_nd_load", [&] {
    outPtr(out, "out");
    NDArrayList list = loadNDArrayFile(stringArg(path, "path"));
    auto handle = std::make_unique<kiln_nd_list_s>();
    handle->names = std::move(list.names);
    for (const Tensor &t : list.arrays)
      handle->arrays.push_back(kiln_nd_s{NDArray(t), nullptr});
    *out = handle.release();
  });
}

int kiln_nd_list_size(kiln_nd_list_t list, int *count) {
  return guard("kiln_nd_list_size", [&] {
    *outPtr(count, "count") = int(deref(list, "the list handle").arrays.size());
  });
}

int kiln_nd_list_get(kiln_nd_list_t list, int index, const char **name, kiln_nd_t *array) {
  return guard("kiln_nd_list_get", [&] {
    kiln_nd_list_s &l = deref(list, "the list handle");
    outPtr(array, "array");
    checkIndex(index, l.arrays.size(), "index");
    if (name)
      *name = l.names.empty() ? nullptr : l.names[size_t(index)].c_str();
    *array = &l.arrays[size_t(index)];
  });
}

int kiln_nd_list_free(kiln_nd_list_t list) {
  return guard("kiln_nd_list_free", [&] { delete list; });
}

int kiln_nd_seed(uint64_t seed) {
  return guard("kiln_nd_seed", [&] { nd::seed(seed); });
}

int kiln_nd_cache_stats(int64_t *hits, int64_t *misses, int64_t *entries,
                        double *compile_seconds) {
  return guard("kiln_nd_cache_stats", [&] {
    nd::CacheStats s = nd::cacheStats();
    if (hits)
      *hits = s.hits;
    if (misses)
      *misses = s.misses;
    if (entries)
      *entries = s.entries;
    if (compile_seconds)
      *compile_seconds = s.compileSeconds;
  });
}

int kiln_nd_clear_cache(void) {
  return guard("kiln_nd_clear_cache", [&] { nd::clearCache(); });
}

//===----------------------------------------------------------------------===//
// Autograd
//===----------------------------------------------------------------------===//

int kiln_nd_attach_grad(kiln_nd_t nd, int grad_req) {
  return guard("kiln_nd_attach_grad", [&] {
    NDArray &a = array(nd);
    if (grad_req < KILN_C_GRAD_NULL || grad_req > KILN_C_GRAD_ADD)
      argumentError("grad_req " + std::to_string(grad_req) +
                    " is not KILN_C_GRAD_NULL (0), KILN_C_GRAD_WRITE (1) or KILN_C_GRAD_ADD (2)");
    a.attachGrad(grad_req == KILN_C_GRAD_NULL    ? GradReq::Null
                 : grad_req == KILN_C_GRAD_WRITE ? GradReq::Write
                                                 : GradReq::Add);
  });
}

int kiln_nd_grad(kiln_nd_t nd, kiln_nd_t *out) {
  return guard("kiln_nd_grad", [&] {
    outPtr(out, "out");
    NDArray grad = array(nd).grad();
    *out = newHandle(std::move(grad), nd->owner);
  });
}

int kiln_autograd_record_begin(int training) {
  return guard("kiln_autograd_record_begin", [&] {
    AutogradScope scope;
    scope.record = std::make_unique<autograd::RecordScope>(training != 0);
    autogradScopes.push_back(std::move(scope));
  });
}

int kiln_autograd_pause_begin(int training) {
  return guard("kiln_autograd_pause_begin", [&] {
    AutogradScope scope;
    scope.pause = std::make_unique<autograd::PauseScope>(training != 0);
    autogradScopes.push_back(std::move(scope));
  });
}

int kiln_autograd_scope_end(void) {
  return guard("kiln_autograd_scope_end", [&] {
    if (autogradScopes.empty())
      argumentError("no autograd scope is open on this thread "
                    "(kiln_autograd_record_begin / kiln_autograd_pause_begin)");
    autogradScopes.pop_back(); // its destructor restores the flags
  });
}

int kiln_autograd_is_recording(int *recording) {
  return guard("kiln_autograd_is_recording",
               [&] { *outPtr(recording, "recording") = autograd::isRecording() ? 1 : 0; });
}

int kiln_autograd_is_training(int *training) {
  return guard("kiln_autograd_is_training",
               [&] { *outPtr(training, "training") = autograd::isTraining() ? 1 : 0; });
}

int kiln_autograd_backward(const kiln_nd_t *heads, int n, const kiln_nd_t *head_grads,
                           int retain_graph) {
  return guard("kiln_autograd_backward", [&] {
    std::vector<NDArray> h = arraysArg(heads, n, "n", "heads", false);
    if (h.empty())
      argumentError("n is 0: backward needs at least one head");
    std::vector<NDArray> g;
    if (head_grads)
      g = arraysArg(head_grads, n, "n", "head_grads", true);
    autograd::backward(h, g, retain_graph != 0);
  });
}

//===----------------------------------------------------------------------===//
// Symbol
//===----------------------------------------------------------------------===//

int kiln_sym_variable(const char *name, kiln_sym_t *out) {
  return guard("kiln_sym_variable", [&] {
    outPtr(out, "out");
    std::string n = stringArg(name, "name");
    if (n.empty())
      argumentError("name is empty: a variable needs a name");
    *out = newSymbol(Symbol::Variable(n));
  });
}

int kiln_sym_create(const char *op, const char *name, const kiln_sym_t *inputs, int n_inputs,
                    const char *const *attr_keys, const char *const *attr_values, int n_attrs,
                    kiln_sym_t *out) {
  return guard("kiln_sym_create", [&] {
    outPtr(out, "out");
    std::string o = stringArg(op, "op");
    checkCount(n_inputs, inputs, "n_inputs", "inputs");
    std::vector<Symbol> in;
    for (int i = 0; i < n_inputs; ++i)
      in.push_back(symbol(inputs[i], ("inputs[" + std::to_string(i) + "]").c_str()));
    *out = newSymbol(Symbol::create(o, name ? name : "", in,
                                    attrsArg(attr_keys, attr_values, n_attrs)));
  });
}

int kiln_sym_group(const kiln_sym_t *symbols, int n, kiln_sym_t *out) {
  return guard("kiln_sym_group", [&] {
    outPtr(out, "out");
    checkCount(n, symbols, "n", "symbols");
    std::vector<Symbol> in;
    for (int i = 0; i < n; ++i)
      in.push_back(symbol(symbols[i], ("symbols[" + std::to_string(i) + "]").c_str()));
    *out = newSymbol(group(in));
  });
}

int kiln_sym_num_outputs(kiln_sym_t sym, int *count) {
  return guard("kiln_sym_num_outputs",
               [&] { *outPtr(count, "count") = int(symbol(sym).numOutputs()); });
}

int kiln_sym_get_output(kiln_sym_t sym, int index, kiln_sym_t *out) {
  return guard("kiln_sym_get_output", [&] {
    outPtr(out, "out");
    const Symbol &s = symbol(sym);
    checkIndex(index, s.numOutputs(), "output index");
    *out = newSymbol(s[size_t(index)]);
  });
}

int kiln_sym_load(const char *path, kiln_sym_t *out) {
  return guard("kiln_sym_load", [&] {
    outPtr(out, "out");
    *out = newSymbol(Symbol::load(stringArg(path, "path")));
  });
}

int kiln_sym_from_json(const char *json, kiln_sym_t *out) {
  return guard("kiln_sym_from_json", [&] {
    outPtr(out, "out");
    *out = newSymbol(Symbol::fromJSON(stringArg(json, "json")));
  });
}

int kiln_sym_save(kiln_sym_t sym, const char *path) {
  return guard("kiln_sym_save", [&] { symbol(sym).save(stringArg(path, "path")); });
}

int kiln_sym_to_json(kiln_sym_t sym, const char **json) {
  return guard("kiln_sym_to_json", [&] {
    kiln_sym_s &s = deref(sym, "the Symbol handle");
    outPtr(json, "json");
    s.json = s.symbol.toJSON();
    *json = s.json.c_str();
  });
}

int kiln_sym_list_arguments(kiln_sym_t sym, int *count, const char *const **names) {
  return guard("kiln_sym_list_arguments", [&] { listNames(sym, Arguments, count, names); });
}

int kiln_sym_list_auxiliary_states(kiln_sym_t sym, int *count, const char *const **names) {
  return guard("kiln_sym_list_auxiliary_states",
               [&] { listNames(sym, AuxStates, count, names); });
}

int kiln_sym_list_outputs(kiln_sym_t sym, int *count, const char *const **names) {
  return guard("kiln_sym_list_outputs", [&] { listNames(sym, Outputs, count, names); });
}

int kiln_sym_list_inputs(kiln_sym_t sym, int *count, const char *const **names) {
  return guard("kiln_sym_list_inputs", [&] { listNames(sym, Inputs, count, names); });
}

int kiln_sym_zoo(const char *name, const int64_t *image_shape, int image_ndim, int num_classes,
                 kiln_sym_t *out) {
  return guard("kiln_sym_zoo", [&] {
    outPtr(out, "out");
    std::string n = stringArg(name, "name");
    zoo::ZooOptions options;
    options.numClasses = num_classes;
    if (image_ndim != 0 || image_shape)
      options.imageShape = shapeArg(image_shape, image_ndim, "image_shape");
    *out = newSymbol(zoo::build(n, options));
  });
}

int kiln_sym_free(kiln_sym_t sym) {
  return guard("kiln_sym_free", [&] { delete sym; });
}

//===----------------------------------------------------------------------===//
// Executor
//===----------------------------------------------------------------------===//

int kiln_exec_bind(kiln_sym_t sym, const char *const *input_names, const int *ndims,
                   const int64_t *dims, int n_inputs, kiln_exec_t *out) {
  return guard("kiln_exec_bind", [&] {
    outPtr(out, "out");
    const Symbol &s = symbol(sym);
    *out = newExecutor(Executor::bind(s, shapesArg(input_names, ndims, dims, n_inputs)));
  });
}

int kiln_exec_load(const char *model, const char *params_path, const char *const *input_names,
                   const int *ndims, const int64_t *dims, int n_inputs, kiln_exec_t *out) {
  return guard("kiln_exec_load", [&] {
    outPtr(out, "out");
    std::string m = stringArg(model, "model");
    *out = newExecutor(Executor::load(m, params_path ? params_path : "",
                                      shapesArg(input_names, ndims, dims, n_inputs)));
  });
}

int kiln_exec_list_names(kiln_exec_t exec, int kind, int *count, const char *const **names) {
  return guard("kiln_exec_list_names", [&] {
    Executor &e = executor(exec);
    outPtr(count, "count");
    outPtr(names, "names");
    if (kind < KILN_C_EXEC_INPUTS || kind > KILN_C_EXEC_OUTPUTS)
      argumentError("kind " + std::to_string(kind) +
                    " is not one of KILN_C_EXEC_INPUTS, _PARAMS, _AUX, _OUTPUTS (0-3)");
    const std::vector<std::string> &list = kind == KILN_C_EXEC_INPUTS   ? e.inputNames()
                                           : kind == KILN_C_EXEC_PARAMS ? e.paramNames()
                                           : kind == KILN_C_EXEC_AUX    ? e.auxNames()
                                                                        : e.outputNames();
    // The executor's name lists never change, so the pointers stay valid.
    std::vector<const char *> &pointers = exec->names[kind];
    if (pointers.size() != list.size()) {
      pointers.clear();
      for (const std::string &n : list)
        pointers.push_back(n.c_str());
    }
    *count = int(list.size());
    *names = pointers.data();
  });
}

int kiln_exec_num_outputs(kiln_exec_t exec, int *count) {
  return guard("kiln_exec_num_outputs",
               [&] { *outPtr(count, "count") = int(executor(exec).outputNames().size()); });
}

int kiln_exec_output_name(kiln_exec_t exec, int index, const char **name) {
  return guard("kiln_exec_output_name", [&] {
    const std::vector<std::string> &names = executor(exec).outputNames();
    outPtr(name, "name");
    checkIndex(index, names.size(), "output index");
    *name = names[size_t(index)].c_str();
  });
}

int kiln_exec_set_arg(kiln_exec_t exec, const char *name, const float *data, size_t size) {
  return guard("kiln_exec_set_arg", [&] {
    Executor &e = executor(exec);
    std::string n = stringArg(name, "name");
    Tensor &t = e.arg(n);
    checkSize(size, t.size(), "argument '" + n + "' " + formatShape(t.shape));
    if (size && !data)
      argumentError("data is NULL");
    std::copy(data, data + size, t.values.begin());
  });
}

int kiln_exec_arg(kiln_exec_t exec, const char *name, kiln_nd_t *out) {
  return guard("kiln_exec_arg", [&] {
    Executor &e = executor(exec);
    outPtr(out, "out");
    *out = newHandle(e.argArray(stringArg(name, "name")), exec->executor);
  });
}

int kiln_exec_forward(kiln_exec_t exec, int is_train) {
  return guard("kiln_exec_forward", [&] { executor(exec).forward(is_train != 0); });
}

int kiln_exec_backward(kiln_exec_t exec, const char *const *names, const kiln_nd_t *head_grads,
                       int n) {
  return guard("kiln_exec_backward", [&] {
    Executor &e = executor(exec);
    checkCount(n, names, "n", "names");
    checkCount(n, head_grads, "n", "head_grads");
    std::map<std::string, Tensor> grads;
    for (int i = 0; i < n; ++i) {
      if (!names[i])
        argumentError("names[" + std::to_string(i) + "] is NULL");
      const NDArray &g =
          array(head_grads[i], ("head_grads[" + std::to_string(i) + "]").c_str());
      if (!grads.emplace(names[i], g.toTensor()).second)
        argumentError("a head gradient for '" + std::string(names[i]) + "' is given twice");
    }
    e.backward(grads);
  });
}

int kiln_exec_output_shape(kiln_exec_t exec, int index, int *ndim, const int64_t **dims) {
  return guard("kiln_exec_output_shape", [&] {
    Executor &e = executor(exec);
    outPtr(ndim, "ndim");
    outPtr(dims, "dims");
    if (exec->outputShapes.empty())
      for (const Tensor &t : e.outputs())
        exec->outputShapes.push_back(t.shape);
    checkIndex(index, exec->outputShapes.size(), "output index");
    const std::vector<int64_t> &shape = exec->outputShapes[size_t(index)];
    *ndim = int(shape.size());
    *dims = shape.empty() ? nullptr : shape.data();
  });
}

int kiln_exec_output(kiln_exec_t exec, int index, kiln_nd_t *out) {
  return guard("kiln_exec_output", [&] {
    outPtr(out, "out");
    *out = newHandle(NDArray(output(exec, index)));
  });
}

int kiln_exec_copy_output(kiln_exec_t exec, int index, float *data, size_t size) {
  return guard("kiln_exec_copy_output", [&] {
    const Tensor &t = output(exec, index);
    checkSize(size, t.size(), "output " + std::to_string(index) + " " + formatShape(t.shape));
    if (size && !data)
      argumentError("data is NULL");
    std::copy(t.values.begin(), t.values.end(), data);
  });
}

int kiln_exec_forward_nd(kiln_exec_t exec, const char *const *input_names,
                         const kiln_nd_t *inputs, int n_inputs, int is_train,
                         int outputs_capacity, kiln_nd_t *outputs, int *n_outputs) {
  return guard("kiln_exec_forward_nd", [&] {
    Executor &e = executor(exec);
    outPtr(n_outputs, "n_outputs");
    checkCount(outputs_capacity, outputs, "outputs_capacity", "outputs");
    checkCount(n_inputs, input_names, "n_inputs", "input_names");
    std::vector<NDArray> in = arraysArg(inputs, n_inputs, "n_inputs", "inputs", false);
    std::map<std::string, NDArray> named;
    for (int i = 0; i < n_inputs; ++i) {
      if (!input_names[i])
        argumentError("input_names[" + std::to_string(i) + "] is NULL");
      if (!named.emplace(input_names[i], in[size_t(i)]).second)
        argumentError("input '" + std::string(input_names[i]) + "' is given twice");
    }
    // Check the capacity first: the forward is not undone by a failure.
    size_t numOutputs = e.outputNames().size();
    if (numOutputs > size_t(outputs_capacity)) {
      *n_outputs = int(numOutputs);
      argumentError("the network has " + std::to_string(numOutputs) +
                    " outputs but outputs_capacity is " + std::to_string(outputs_capacity));
    }
    handOut(e.forward(named, is_train != 0), outputs_capacity, outputs, n_outputs,
            "the network");
  });
}

int kiln_exec_grad(kiln_exec_t exec, const char *name, kiln_nd_t *out) {
  return guard("kiln_exec_grad", [&] {
    Executor &e = executor(exec);
    outPtr(out, "out");
    *out = newHandle(e.gradArray(stringArg(name, "name")), exec->executor);
  });
}

int kiln_exec_save_checkpoint(kiln_exec_t exec, const char *prefix, int epoch) {
  return guard("kiln_exec_save_checkpoint", [&] {
    Executor &e = executor(exec);
    std::string p = stringArg(prefix, "prefix");
    if (epoch < 0)
      argumentError("epoch is negative (" + std::to_string(epoch) + ")");
    e.saveCheckpoint(p, epoch);
  });
}

int kiln_exec_free(kiln_exec_t exec) {
  return guard("kiln_exec_free", [&] { delete exec; });
}

//===----------------------------------------------------------------------===//
// AOT model libraries
//===----------------------------------------------------------------------===//

int kiln_aot_load(const char *path, kiln_aot_lib_t *out) {
  return guard("kiln_aot_load", [&] {
    outPtr(out, "out");
    std::string p = stringArg(path, "path");
    if (p.empty())
      argumentError("path is empty");
    auto handle = std::make_unique<kiln_aot_lib_s>();
    handle->library = loadAot(p);
    *out = handle.release();
  });
}

int kiln_aot_signature(kiln_aot_lib_t lib, const char **json) {
  return guard("kiln_aot_signature",
               [&] { *outPtr(json, "json") = aotLibrary(lib).signatureJSON; });
}

int kiln_aot_num_inputs(kiln_aot_lib_t lib, int *count) {
  return guard("kiln_aot_num_inputs",
               [&] { *outPtr(count, "count") = int(aotLibrary(lib).inputs.size()); });
}

int kiln_aot_num_outputs(kiln_aot_lib_t lib, int *count) {
  return guard("kiln_aot_num_outputs",
               [&] { *outPtr(count, "count") = int(aotLibrary(lib).outputs.size()); });
}

int kiln_aot_input_name(kiln_aot_lib_t lib, int index, const char **name) {
  return guard("kiln_aot_input_name", [&] {
    AotLibrary &l = aotLibrary(lib);
    outPtr(name, "name");
    checkIndex(index, l.inputs.size(), "input index");
    *name = l.inputNames[size_t(index)];
  });
}

int kiln_aot_output_name(kiln_aot_lib_t lib, int index, const char **name) {
  return guard("kiln_aot_output_name", [&] {
    AotLibrary &l = aotLibrary(lib);
    outPtr(name, "name");
    checkIndex(index, l.outputs.size(), "output index");
    *name = l.outputNames[size_t(index)];
  });
}

int kiln_aot_input_shape(kiln_aot_lib_t lib, int index, int *ndim, const int64_t **dims) {
  return guard("kiln_aot_input_shape", [&] {
    AotLibrary &l = aotLibrary(lib);
    checkIndex(index, l.inputs.size(), "input index");
    aotShape(l.inputs[size_t(index)], ndim, dims);
  });
}

int kiln_aot_output_shape(kiln_aot_lib_t lib, int index, int *ndim, const int64_t **dims) {
  return guard("kiln_aot_output_shape", [&] {
    AotLibrary &l = aotLibrary(lib);
    checkIndex(index, l.outputs.size(), "output index");
    aotShape(l.outputs[size_t(index)], ndim, dims);
  });
}

int kiln_aot_input_optional(kiln_aot_lib_t lib, int index, int *optional) {
  return guard("kiln_aot_input_optional", [&] {
    AotLibrary &l = aotLibrary(lib);
    outPtr(optional, "optional");
    checkIndex(index, l.inputs.size(), "input index");
    *optional = l.optional[size_t(index)];
  });
}

int kiln_aot_create(kiln_aot_lib_t lib, const char *params_path, kiln_aot_model_t *out) {
  return guard("kiln_aot_create", [&] {
    outPtr(out, "out");
    AotLibrary &l = aotLibrary(lib);
    auto handle = std::make_unique<kiln_aot_model_s>();
    handle->instance.library = lib->library;
    if (l.create(params_path, &handle->instance.model) != KILN_OK)
      throw Error("'" + l.path + "': " + l.libraryError());
    *out = handle.release();
  });
}

int kiln_aot_run(kiln_aot_model_t model, const float *const *inputs, int n_inputs,
                 float *const *outputs, int n_outputs) {
  return guard("kiln_aot_run", [&] {
    AotModel &m = deref(model, "the AOT model handle").instance;
    AotLibrary &l = *m.library;
    if (n_inputs < 0 || size_t(n_inputs) != l.inputs.size())
      argumentError("'" + l.path + "': the model takes " + std::to_string(l.inputs.size()) +
                    " inputs but n_inputs is " + std::to_string(n_inputs));
    if (n_outputs < 0 || size_t(n_outputs) != l.outputs.size())
      argumentError("'" + l.path + "': the model has " + std::to_string(l.outputs.size()) +
                    " outputs but n_outputs is " + std::to_string(n_outputs));
    checkCount(n_inputs, inputs, "n_inputs", "inputs");
    checkCount(n_outputs, outputs, "n_outputs", "outputs");
    std::vector<kiln_tensor> in = l.inputs, out = l.outputs;
    auto checkFloat = [&](const kiln_tensor &t, const char *kind, size_t i, const char *name) {
      if (t.dtype != KILN_F32)
        throw Error("'" + l.path + "': " + kind + " " + std::to_string(i) + " ('" + name +
                    "') has dtype " + std::to_string(t.dtype) +
                    "; the C API passes float32 buffers only");
    };
    for (size_t i = 0; i < in.size(); ++i) {
      checkFloat(in[i], "input", i, l.inputNames[i]);
      in[i].data = const_cast<float *>(inputs[i]);
    }
    for (size_t i = 0; i < out.size(); ++i) {
      checkFloat(out[i], "output", i, l.outputNames[i]);
      if (!outputs[i])
        argumentError("outputs[" + std::to_string(i) + "] ('" + l.outputNames[i] +
                      "') is NULL");
      out[i].data = outputs[i];
    }
    if (l.run(m.model, in.data(), int32_t(in.size()), out.data(), int32_t(out.size())) !=
        KILN_OK)
      throw Error("'" + l.path + "': " + l.libraryError());
  });
}

int kiln_aot_destroy(kiln_aot_model_t model) {
  return guard("kiln_aot_destroy", [&] { delete model; });
}

int kiln_aot_unload(kiln_aot_lib_t lib) {
  return guard("kiln_aot_unload", [&] { delete lib; });
}

} // extern "C"
