//===- runtime/aot/AotMain.cpp - main() of an AOT inference executable ----===//
//
// The executable `kiln-compile --emit exe` links from this archive member,
// the generated kernels and the embedded plan/weights. It takes kiln-run's
// arguments (SPEC §1.2, §1.3) and gives the same outputs and errors:
//
//   EXE --input NAME=FILE.npy ... [--output-dir DIR] [--bench N]
//       [--params FILE.params] [--signature] [--help]
//
// Inputs are checked against the compiled signature before anything runs;
// outputs are written only after the run succeeded, each atomically, so a
// failure leaves no output file behind (SPEC §1.5). No LLVM here: options
// are parsed by hand, accepting kiln-run's spellings (`--opt V`, `--opt=V`,
// `-opt V`).
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "runtime/aot/AotModel.h"
#include "runtime/io/Npy.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace kiln;
using namespace kiln::aot;

namespace {

std::string toolName = "kiln-aot";

struct Options {
  std::vector<std::string> inputs;
  std::string outputDir = ".";
  std::string params;
  unsigned bench = 0;
  bool help = false, signature = false;
};

void printUsage(FILE *out) {
  std::fprintf(out,
               "USAGE: %s --input NAME=FILE.npy ... [--output-dir DIR] [--bench N]\n"
               "       [--params FILE.params] [--signature] [--help]\n\n"
               "A Kiln ahead-of-time compiled inference executable (kiln-compile --emit exe).\n"
               "Runs the embedded model once on the .npy inputs and writes DIR/out0.npy,\n"
               "out1.npy, ... one per head, as kiln-run does.\n\n"
               "OPTIONS:\n"
               "  --input NAME=FILE.npy  an input array (repeatable); float32, or f16/f64/\n"
               "                         integers converted with a note\n"
               "  --output-dir DIR       where out<i>.npy go (default: .)\n"
               "  --bench N              time N runs after the first; the last line printed\n"
               "                         is 'bench: iters=N min_ms=X median_ms=Y'\n"
               "  --params FILE.params   MXNet parameters (needed when compiled with\n"
               "                         --external-params; overrides embedded weights)\n"
               "  --signature            print the model's inputs and outputs and exit\n"
               "  --help                 this text and the signature\n",
               toolName.c_str());
}

void printSignature(FILE *out) {
  const ModelInfo &info = modelInfo();
  std::fprintf(out, "model: %s\n", info.manifest.model.c_str());
  std::fprintf(out, "inputs:\n");
  for (const TensorInfo &t : info.inputs)
    std::fprintf(out, "  %s: %s %s%s\n", t.name.c_str(), formatShape(t.shape).c_str(),
                 exec::dtypeName(t.dtype),
                 t.optional ? " (optional: not read at inference; zeros if not given)" : "");
  std::fprintf(out, "outputs:\n");
  for (size_t i = 0; i < info.outputs.size(); ++i)
    std::fprintf(out, "  out%zu.npy: %s %s %s\n", i, info.outputs[i].name.c_str(),
                 formatShape(info.outputs[i].shape).c_str(),
                 exec::dtypeName(info.outputs[i].dtype));
  std::fprintf(out, "parameters: %zu (%s)\n", info.paramNames.size(),
               info.manifest.externalParams ? "external: give --params FILE.params"
                                            : "embedded");
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-')
      throw Error("unexpected argument '" + arg + "' (see --help)");
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1), value;
    bool hasValue = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    auto takeValue = [&]() -> std::string {
      if (hasValue)
        return value;
      if (i + 1 >= argc)
        throw Error("--" + name + " needs a value (see --help)");
      return argv[++i];
    };
    if (name == "help" || name == "h") {
      o.help = true;
    } else if (name == "signature") {
      o.signature = true;
    } else if (name == "input") {
      o.inputs.push_back(takeValue());
    } else if (name == "output-dir") {
      o.outputDir = takeValue();
    } else if (name == "params") {
      o.params = takeValue();
    } else if (name == "bench") {
      std::string v = takeValue();
      char *end = nullptr;
      errno = 0;
      unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-' || errno || n > 1000000000ul)
        throw Error("--bench expects a number of iterations, got '" + v + "'");
      o.bench = unsigned(n);
    } else {
      throw Error("unknown option '" + arg + "' (see --help)");
    }
  }
  return o;
}

/// mkdir -p.
void createDirectories(const std::string &dir) {
  for (size_t end = 1; end <= dir.size(); ++end) {
    if (end < dir.size() && dir[end] != '/')
      continue;
    if (::mkdir(dir.substr(0, end).c_str(), 0777) != 0 && errno != EEXIST)
      throw Error("cannot create --output-dir '" + dir + "': " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error("cannot create --output-dir '" + dir + "': not a directory");
}

int runTool(int argc, char **argv) {
  Options o = parseArgs(argc, argv);
  if (o.help) {
    printUsage(stdout);
    std::printf("\n");
    printSignature(stdout);
    return 0;
  }
  if (o.signature) {
    printSignature(stdout);
    return 0;
  }
  const ModelInfo &info = modelInfo();

  // Every input is read and checked before the model is instantiated, as
  // kiln-run reads them before compiling.
  std::vector<Tensor> given(info.inputs.size());
  std::vector<bool> have(info.inputs.size(), false);
  for (const std::string &spec : o.inputs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw Error("--input expects NAME=FILE, got '" + spec + "'");
    std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
    std::string note;
    Tensor t;
    try {
      t = readNpy(path, &note);
    } catch (const Error &e) {
      throw Error("--input " + name + ": " + e.what());
    }
    if (!note.empty())
      std::fprintf(stderr, "%s: note: %s: %s\n", toolName.c_str(), path.c_str(), note.c_str());
    auto it = std::find_if(info.inputs.begin(), info.inputs.end(),
                           [&](const TensorInfo &ti) { return ti.name == name; });
    if (it == info.inputs.end()) {
      if (std::find(info.paramNames.begin(), info.paramNames.end(), name) !=
          info.paramNames.end())
        throw Error("--input " + name + ": '" + name +
                    "' is a parameter of the model, not an input");
      std::string names;
      for (const TensorInfo &ti : info.inputs)
        names += (names.empty() ? "" : ", ") + ti.name;
      throw Error("--input " + name + ": the model has no input named '" + name +
                  "' (its inputs: " + names + ")");
    }
    size_t index = it - info.inputs.begin();
    if (have[index])
      throw Error("--input " + name + " given twice");
    if (it->dtype != exec::DType::F32)
      throw Error("--input " + name + ": the model takes " + exec::dtypeName(it->dtype) +
                  ", which .npy inputs (read as float32) cannot feed");
    if (t.shape != it->shape)
      throw Error("--input " + name + ": '" + path + "' has shape " + formatShape(t.shape) +
                  " but the model was compiled for " + formatShape(it->shape));
    given[index] = std::move(t);
    have[index] = true;
  }
  for (size_t i = 0; i < info.inputs.size(); ++i) {
    const TensorInfo &t = info.inputs[i];
    if (have[i])
      continue;
    if (!t.optional)
      throw Error("missing --input " + t.name + "=FILE.npy (shape " + formatShape(t.shape) +
                  ")");
    // Labels are inputs the forward pass does not read; zeros are harmless.
    std::fprintf(stderr, "%s: note: input '%s' not given; using zeros of shape %s\n",
                 toolName.c_str(), t.name.c_str(), formatShape(t.shape).c_str());
  }

  if (info.manifest.externalParams && o.params.empty())
    throw Error("the model was compiled with --external-params: give its parameters with "
                "--params FILE.params");
  std::unique_ptr<Model> model = Model::create(o.params);
  std::vector<const void *> inputs;
  for (size_t i = 0; i < given.size(); ++i)
    inputs.push_back(have[i] ? given[i].values.data() : nullptr);
  std::vector<Tensor> outputs;
  std::vector<void *> outputPtrs;
  for (const TensorInfo &t : info.outputs) {
    if (t.dtype != exec::DType::F32)
      throw Error("output '" + t.name + "' is " + exec::dtypeName(t.dtype) +
                  "; this executable writes float32 .npy files only");
    outputs.emplace_back(t.shape);
  }
  for (Tensor &t : outputs)
    outputPtrs.push_back(t.values.data());

  model->run(inputs, outputPtrs);
  if (o.bench > 0) {
    std::vector<double> ms;
    for (unsigned i = 0; i < o.bench; ++i) {
      auto start = std::chrono::steady_clock::now();
      model->run(inputs, outputPtrs);
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("bench: iters=%u min_ms=%.3f median_ms=%.3f\n", o.bench, ms.front(),
                ms[ms.size() / 2]);
    std::fflush(stdout);
  }

  createDirectories(o.outputDir);
  for (size_t i = 0; i < outputs.size(); ++i)
    writeNpy(o.outputDir + "/out" + std::to_string(i) + ".npy", outputs[i]);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 0 && argv[0]) {
    toolName = argv[0];
    size_t slash = toolName.find_last_of('/');
    if (slash != std::string::npos)
      toolName = toolName.substr(slash + 1);
  }
  // The same boundary as the kiln-* tools (driver::guardedMain): one line,
  // exit status 1, never an abort.
  try {
    return runTool(argc, argv);
  } catch (const Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", toolName.c_str(), e.what());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: internal error: %s\n", toolName.c_str(), e.what());
  }
  return 1;
}
