//===- runtime/aot/AotModel.h - The model an AOT artifact embeds -*- C++ -*-===//
//
// The C++ side shared by the stand-alone executable's main (AotMain.cpp) and
// the shared library's C API (CApi.cpp): the embedded plan, deserialized and
// validated once per process, its signature, and instances that bind
// parameters (embedded or from a .params file) to a PlanExecutor running the
// embedded kernels. Part of libKilnAotMain.a: no LLVM/MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_AOT_AOTMODEL_H
#define KILN_RUNTIME_AOT_AOTMODEL_H

#include "kiln/Tensor.h"
#include "runtime/aot/Embedded.h"
#include "runtime/exec/Executor.h"
#include "runtime/exec/Plan.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln::aot {

/// Parses the manifest text (see Manifest in Embedded.h); throws
/// kiln::Error on a malformed one.
Manifest parseManifest(const std::string &text);

/// One input or output of the model.
struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  exec::DType dtype = exec::DType::F32;
  int64_t bytes = 0;
  /// Inputs only: inference never reads it (a loss head's label); a run may
  /// leave it out and gets zeros.
  bool optional = false;
};

/// The embedded model, loaded once per process.
struct ModelInfo {
  exec::Plan plan;
  Manifest manifest;
  std::vector<TensorInfo> inputs, outputs;
  /// Names of the parameters (and aux states), in Plan::paramSlots order.
  std::vector<std::string> paramNames;
  /// kiln_model_signature()'s JSON.
  std::string json;
};

/// The embedded model. Throws kiln::Error("embedded model: ...") when the
/// artifact is damaged (bad plan blob, ABI mismatch, kernel count mismatch);
/// every call then throws the same message.
const ModelInfo &modelInfo();

/// One instance: parameters bound, arena allocated.
class Model {
public:
  /// `paramsPath` empty: the embedded weights (an error when compiled with
  /// --external-params). Otherwise an MXNet .params file holding exactly the
  /// model's parameters and aux states (names with or without "arg:"/"aux:"),
  /// of the compiled shapes; messages name the file and the parameter.
  static std::unique_ptr<Model> create(const std::string &paramsPath);

  /// Runs once. `inputs[i]` follows ModelInfo::inputs (null allowed only for
  /// an optional input: zeros), `outputs[i]` ModelInfo::outputs; each buffer
  /// dense row-major of the slot's bytes.
  void run(const std::vector<const void *> &inputs, const std::vector<void *> &outputs);

  int64_t arenaBytes() const { return executor->arenaBytes(); }

private:
  Model() = default;
  std::vector<Tensor> ownedParams; ///< from a .params file
  std::vector<const void *> params;
  /// Zeros for each optional input a run leaves out.
  std::vector<std::vector<uint8_t>> zeroInputs;
  std::unique_ptr<exec::PlanExecutor> executor;
};

} // namespace kiln::aot

#endif // KILN_RUNTIME_AOT_AOTMODEL_H
