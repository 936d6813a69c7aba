//===- runtime/aot/AotModel.cpp - The model an AOT artifact embeds --------===//

#include "runtime/aot/AotModel.h"

#include "kiln/Error.h"
#include "runtime/aot/Embedded.h"
#include "runtime/io/NDArrayFile.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

// Defined by the object kiln-compile generates for each artifact. Hidden: it
// is internal to the executable or library (and a PC-relative reference).
extern "C" __attribute__((visibility("hidden"))) const KilnAotEmbedded kiln_aot_embedded;

namespace kiln::aot {

Manifest parseManifest(const std::string &text) {
  Manifest m;
  std::istringstream in(text);
  std::string line;
  bool sawHeader = false;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    size_t space = line.find(' ');
    std::string key = line.substr(0, space);
    std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (!sawHeader) {
      if (key != "kiln-aot-manifest" || value != "1")
        throw Error("unsupported manifest '" + line + "'");
      sawHeader = true;
    } else if (key == "model") {
      m.model = value;
    } else if (key == "external-params") {
      m.externalParams = value == "1";
    } else if (key == "optional-input") {
      m.optionalInputs.push_back(value);
    }
    // Unknown keys are skipped: later compilers may record more.
  }
  if (!sawHeader)
    throw Error("the manifest is empty");
  return m;
}

static std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

static std::string jsonTensor(const TensorInfo &t, bool withOptional) {
  std::string out = "{\"name\":" + jsonString(t.name) + ",\"dtype\":\"" +
                    exec::dtypeName(t.dtype) + "\",\"shape\":[";
  for (size_t i = 0; i < t.shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(t.shape[i]);
  out += "]";
  if (withOptional)
    out += std::string(",\"optional\":") + (t.optional ? "true" : "false");
  return out + "}";
}

static TensorInfo tensorInfo(const exec::Plan &plan, uint32_t slot) {
  const exec::Slot &s = plan.slots[slot];
  TensorInfo t;
  t.name = s.name;
  t.shape = s.shape;
  t.dtype = s.dtype;
  t.bytes = s.bytes;
  return t;
}

static std::unique_ptr<ModelInfo> loadModelInfo() {
  const KilnAotEmbedded &e = kiln_aot_embedded;
  if (e.abiVersion != kAbiVersion)
    throw Error("built for AOT ABI version " + std::to_string(e.abiVersion) +
                " but the runtime archive reads version " + std::to_string(kAbiVersion) +
                "; rebuild it with the matching kiln-compile");
  auto info = std::make_unique<ModelInfo>();
  info->plan = exec::deserializePlan(e.plan, e.planSize);
  info->manifest = parseManifest(std::string(e.manifest, e.manifestSize));
  const exec::Plan &p = info->plan;
  if (e.numKernels != p.kernelNames.size())
    throw Error("the plan names " + std::to_string(p.kernelNames.size()) + " kernels but " +
                std::to_string(e.numKernels) + " are linked in");
  for (uint64_t i = 0; i < e.numKernels; ++i)
    if (!e.kernels[i])
      throw Error("no kernel linked in for '" + p.kernelNames[i] + "'");
  if (!info->manifest.externalParams && int64_t(e.weightsSize) < weightOffsets(p).back())
    throw Error("the embedded weights hold " + std::to_string(e.weightsSize) +
                " bytes but the parameters need " + std::to_string(weightOffsets(p).back()));

  for (uint32_t slot : p.inputSlots) {
    TensorInfo t = tensorInfo(p, slot);
    for (const std::string &name : info->manifest.optionalInputs)
      t.optional |= name == t.name;
    info->inputs.push_back(std::move(t));
  }
  for (uint32_t slot : p.outputSlots)
    info->outputs.push_back(tensorInfo(p, slot));
  for (uint32_t slot : p.paramSlots)
    info->paramNames.push_back(p.slots[slot].name);

  std::string &j = info->json;
  j = "{\"model\":" + jsonString(info->manifest.model) +
      ",\"external_params\":" + (info->manifest.externalParams ? "true" : "false") +
      ",\"inputs\":[";
  for (size_t i = 0; i < info->inputs.size(); ++i)
    j += (i ? "," : "") + jsonTensor(info->inputs[i], true);
  j += "],\"outputs\":[";
  for (size_t i = 0; i < info->outputs.size(); ++i)
    j += (i ? "," : "") + jsonTensor(info->outputs[i], false);
  j += "]}";
  return info;
}

namespace {
struct Loaded {
  std::unique_ptr<ModelInfo> info;
  std::string error;
};
} // namespace

const ModelInfo &modelInfo() {
  // Loaded once (thread-safe static initialization); a damaged artifact
  // gives every caller the same message.
  static const Loaded loaded = [] {
    Loaded l;
    try {
      l.info = loadModelInfo();
    } catch (const std::exception &e) {
      l.error = std::string("embedded model: ") + e.what();
    }
    return l;
  }();
  if (!loaded.info)
    throw Error(loaded.error);
  return *loaded.info;
}

static std::string stripPrefix(const std::string &name) {
  if (name.rfind("arg:", 0) == 0 || name.rfind("aux:", 0) == 0)
    return name.substr(4);
  return name;
}

std::unique_ptr<Model> Model::create(const std::string &paramsPath) {
  const ModelInfo &info = modelInfo();
  const exec::Plan &p = info.plan;
  std::unique_ptr<Model> m(new Model());
  if (paramsPath.empty()) {
    if (info.manifest.externalParams)
      throw Error("the model was compiled with --external-params: its parameters must come "
                  "from a .params file");
    std::vector<int64_t> offsets = weightOffsets(p);
    for (size_t i = 0; i < p.paramSlots.size(); ++i)
      m->params.push_back(kiln_aot_embedded.weights + offsets[i]);
  } else {
    NDArrayList list = loadNDArrayFile(paramsPath);
    if (list.names.empty() && !list.arrays.empty())
      throw Error(paramsPath + ": the arrays have no names, so they cannot be matched to the "
                               "model's parameters");
    std::map<std::string, size_t> byName;
    for (size_t i = 0; i < list.names.size(); ++i) {
      std::string name = stripPrefix(list.names[i]);
      bool known = false;
      for (const std::string &n : info.paramNames)
        known |= n == name;
      for (const TensorInfo &t : info.inputs)
        known |= t.name == name; // a stored label: harmless, not used
      if (!known)
        throw Error(paramsPath + ": '" + list.names[i] + "' is not a parameter of " +
                    info.manifest.model + " (a misspelt or foreign parameter)");
      if (!byName.emplace(name, i).second)
        throw Error(paramsPath + ": parameter '" + name + "' appears twice");
    }
    for (size_t i = 0; i < p.paramSlots.size(); ++i) {
      const exec::Slot &slot = p.slots[p.paramSlots[i]];
      auto it = byName.find(slot.name);
      if (it == byName.end())
        throw Error(paramsPath + ": missing parameter '" + slot.name + "' (shape " +
                    formatShape(slot.shape) + ")");
      Tensor &t = list.arrays[it->second];
      if (t.shape != slot.shape)
        throw Error(paramsPath + ": parameter '" + slot.name + "' has shape " +
                    formatShape(t.shape) + " but the model was compiled for " +
                    formatShape(slot.shape));
      if (slot.dtype != exec::DType::F32)
        throw Error(paramsPath + ": parameter '" + slot.name + "' is " +
                    exec::dtypeName(slot.dtype) + " in the model; .params values load as f32");
      m->ownedParams.push_back(std::move(t));
    }
    for (const Tensor &t : m->ownedParams)
      m->params.push_back(t.values.data());
  }

  const KilnAotEmbedded &e = kiln_aot_embedded;
  std::vector<exec::KernelFn> kernels(e.kernels, e.kernels + e.numKernels);
  m->executor = std::make_unique<exec::PlanExecutor>(p, std::move(kernels));
  // Allocated here, not on first use, so that concurrent runs need no lock
  // (PlanExecutor serializes the runs themselves).
  m->zeroInputs.resize(info.inputs.size());
  for (size_t i = 0; i < info.inputs.size(); ++i)
    if (info.inputs[i].optional)
      m->zeroInputs[i].assign(size_t(info.inputs[i].bytes) + 1, 0);
  return m;
}

void Model::run(const std::vector<const void *> &inputs, const std::vector<void *> &outputs) {
  const ModelInfo &info = modelInfo();
  if (inputs.size() != info.inputs.size())
    throw Error("the model takes " + std::to_string(info.inputs.size()) + " inputs but " +
                std::to_string(inputs.size()) + " were given");
  std::vector<const void *> in = inputs;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i])
      continue;
    if (!info.inputs[i].optional)
      throw Error("input '" + info.inputs[i].name + "' was not given");
    in[i] = zeroInputs[i].data();
  }
  executor->run(in, params, outputs);
}

} // namespace kiln::aot
