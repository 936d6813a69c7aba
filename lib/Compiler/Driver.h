//===- Driver.h - Shared plumbing of the kiln-* tools -----------*- C++ -*-===//
//
// What kiln-run, kiln-compile and later kiln-train share: command-line value
// parsing (NAME=DIMS, NAME=FILE), the error boundary of a tool's main, and
// filling model parameters from a .params file or seeded random values.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DRIVER_H
#define KILN_COMPILER_DRIVER_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln {
struct LoadedModel;

namespace driver {

/// "data=1,3,224,224" (also "data=(1,3,224,224)") → {"data", {1,3,224,224}}.
/// `flag` names the option in messages.
std::pair<std::string, std::vector<int64_t>> parseShapeSpec(const std::string &spec,
                                                            const std::string &flag);
/// "data=x.npy" → {"data", "x.npy"}.
std::pair<std::string, std::string> parseNamedPath(const std::string &spec,
                                                   const std::string &flag);

/// Runs a tool body; a kiln::Error (or any std::exception) becomes
/// "TOOL: error: MESSAGE" on stderr and exit status 1.
int guardedMain(const char *toolName, const std::function<int()> &body);

/// The value of every Param/Aux argument of `model`, in argument order
/// (Input arguments get an empty Tensor). Values come from `model.params`;
/// a missing one is an error naming it, unless `randomSeed` is set, in which
/// case it is filled MXNet-style: gamma 1, beta/bias 0, moving_mean 0,
/// moving_var 1, weights uniform in ±sqrt(3 / fan_in), deterministically.
std::vector<Tensor> bindParameters(const LoadedModel &model,
                                   std::optional<uint64_t> randomSeed);

} // namespace driver
} // namespace kiln

#endif // KILN_COMPILER_DRIVER_H
