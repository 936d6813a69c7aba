//===- runtime/aot/CApi.cpp - kiln/aot.h over the embedded model ----------===//
//
// The only exported symbols of an AOT shared library (kiln-compile links it
// with a version script keeping `kiln_model_*`). Every entry point catches
// everything: no C++ exception may cross the C boundary.
//
//===----------------------------------------------------------------------===//

#include "kiln/aot.h"

#include "kiln/Error.h"
#include "runtime/aot/AotModel.h"

#include <exception>
#include <memory>
#include <new>
#include <string>

using namespace kiln;
using namespace kiln::aot;

struct kiln_model {
  std::unique_ptr<Model> model;
};

namespace {

thread_local std::string lastError;

/// A C API failure: the status to return with the message.
struct Failure {
  kiln_status status;
  std::string message;
};

/// Runs `body`, turning every exception into a status and lastError.
/// `fallback` is the status for a kiln::Error the body did not classify.
template <typename F> kiln_status guarded(kiln_status fallback, F &&body) {
  try {
    body();
    return KILN_OK;
  } catch (const Failure &f) {
    lastError = f.message;
    return f.status;
  } catch (const std::bad_alloc &) {
    lastError = "out of memory";
    return KILN_ERROR_RUNTIME;
  } catch (const std::exception &e) {
    lastError = e.what();
    return fallback;
  } catch (...) {
    lastError = "unknown error";
    return KILN_ERROR_RUNTIME;
  }
}

/// modelInfo(), with a damaged artifact reported as KILN_ERROR_MODEL.
const ModelInfo &info() {
  try {
    return modelInfo();
  } catch (const std::exception &e) {
    throw Failure{KILN_ERROR_MODEL, e.what()};
  }
}

const TensorInfo &tensorAt(const std::vector<TensorInfo> &list, int32_t index,
                           const char *what) {
  if (index < 0 || size_t(index) >= list.size())
    throw Failure{KILN_ERROR_INVALID_ARGUMENT,
                  std::string(what) + " index " + std::to_string(index) +
                      " out of range (the model has " + std::to_string(list.size()) + ")"};
  return list[index];
}

void fillInfo(const TensorInfo &t, kiln_tensor *out) {
  if (!out)
    throw Failure{KILN_ERROR_INVALID_ARGUMENT, "info is NULL"};
  out->data = nullptr;
  out->dtype = int32_t(t.dtype);
  out->rank = int32_t(t.shape.size());
  out->shape = t.shape.data();
}

std::string shapeText(const kiln_tensor &t) {
  if (t.rank < 0 || (t.rank > 0 && !t.shape))
    return "(invalid)";
  std::vector<int64_t> shape(t.shape, t.shape + t.rank);
  return formatShape(shape);
}

/// Checks one caller tensor against the signature entry.
void checkTensor(const kiln_tensor &t, const TensorInfo &expected, const char *what,
                 int32_t index, bool mayBeNull) {
  std::string where = std::string(what) + " " + std::to_string(index) + " ('" + expected.name +
                      "')";
  auto fail = [&](const std::string &why) {
    throw Failure{KILN_ERROR_INVALID_ARGUMENT, where + ": " + why};
  };
  if (!t.data && !mayBeNull)
    fail("data is NULL");
  if (t.dtype != int32_t(expected.dtype))
    fail("dtype " + std::to_string(t.dtype) + " but the model needs " +
         exec::dtypeName(expected.dtype) + " (" + std::to_string(int(expected.dtype)) + ")");
  bool same = t.rank == int32_t(expected.shape.size()) && (t.rank == 0 || t.shape);
  for (int32_t d = 0; same && d < t.rank; ++d)
    same = t.shape[d] == expected.shape[d];
  if (!same)
    fail("shape " + shapeText(t) + " but the model needs " + formatShape(expected.shape));
}

} // namespace

extern "C" {

int32_t kiln_model_api_version(void) { return KILN_AOT_API_VERSION; }

const char *kiln_model_signature(void) {
  const char *result = nullptr;
  guarded(KILN_ERROR_MODEL, [&] { result = info().json.c_str(); });
  return result;
}

int32_t kiln_model_num_inputs(void) {
  int32_t n = -1;
  guarded(KILN_ERROR_MODEL, [&] { n = int32_t(info().inputs.size()); });
  return n;
}

int32_t kiln_model_num_outputs(void) {
  int32_t n = -1;
  guarded(KILN_ERROR_MODEL, [&] { n = int32_t(info().outputs.size()); });
  return n;
}

const char *kiln_model_input_name(int32_t index) {
  const char *name = nullptr;
  guarded(KILN_ERROR_MODEL,
          [&] { name = tensorAt(info().inputs, index, "input").name.c_str(); });
  return name;
}

const char *kiln_model_output_name(int32_t index) {
  const char *name = nullptr;
  guarded(KILN_ERROR_MODEL,
          [&] { name = tensorAt(info().outputs, index, "output").name.c_str(); });
  return name;
}

kiln_status kiln_model_input_info(int32_t index, kiln_tensor *out) {
  return guarded(KILN_ERROR_MODEL,
                 [&] { fillInfo(tensorAt(info().inputs, index, "input"), out); });
}

kiln_status kiln_model_output_info(int32_t index, kiln_tensor *out) {
  return guarded(KILN_ERROR_MODEL,
                 [&] { fillInfo(tensorAt(info().outputs, index, "output"), out); });
}

int32_t kiln_model_input_optional(int32_t index) {
  int32_t r = -1;
  guarded(KILN_ERROR_MODEL, [&] { r = tensorAt(info().inputs, index, "input").optional; });
  return r;
}

kiln_status kiln_model_create(const char *paramsPath, kiln_model **model) {
  return guarded(KILN_ERROR_PARAMS, [&] {
    if (!model)
      throw Failure{KILN_ERROR_INVALID_ARGUMENT, "model is NULL"};
    *model = nullptr;
    (void)info(); // a damaged artifact is KILN_ERROR_MODEL, not a params error
    std::unique_ptr<Model> m = Model::create(paramsPath ? paramsPath : "");
    *model = new kiln_model{std::move(m)};
  });
}

kiln_status kiln_model_run(kiln_model *model, const kiln_tensor *inputs, int32_t numInputs,
                           kiln_tensor *outputs, int32_t numOutputs) {
  return guarded(KILN_ERROR_RUNTIME, [&] {
    const ModelInfo &mi = info();
    if (!model)
      throw Failure{KILN_ERROR_INVALID_ARGUMENT, "model is NULL"};
    if (numInputs != int32_t(mi.inputs.size()) || (numInputs > 0 && !inputs))
      throw Failure{KILN_ERROR_INVALID_ARGUMENT,
                    "the model takes " + std::to_string(mi.inputs.size()) + " inputs, got " +
                        std::to_string(numInputs) + (inputs ? "" : " (inputs is NULL)")};
    if (numOutputs != int32_t(mi.outputs.size()) || (numOutputs > 0 && !outputs))
      throw Failure{KILN_ERROR_INVALID_ARGUMENT,
                    "the model has " + std::to_string(mi.outputs.size()) + " outputs, got " +
                        std::to_string(numOutputs) + (outputs ? "" : " (outputs is NULL)")};
    std::vector<const void *> in;
    for (int32_t i = 0; i < numInputs; ++i) {
      checkTensor(inputs[i], mi.inputs[i], "input", i, mi.inputs[i].optional);
      in.push_back(inputs[i].data);
    }
    std::vector<void *> out;
    for (int32_t i = 0; i < numOutputs; ++i) {
      checkTensor(outputs[i], mi.outputs[i], "output", i, false);
      out.push_back(outputs[i].data);
    }
    model->model->run(in, out);
  });
}

void kiln_model_destroy(kiln_model *model) { delete model; }

const char *kiln_model_last_error(void) { return lastError.c_str(); }

} // extern "C"
