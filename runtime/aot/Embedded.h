//===- runtime/aot/Embedded.h - What an AOT artifact embeds -----*- C++ -*-===//
//
// The contract between kiln-compile (which generates an object defining
// `kiln_aot_embedded`) and the AOT runtime archive libKilnAotMain.a (which
// reads it). kiln-compile builds the symbol as an LLVM IR constant of the
// same layout, so any change here must bump kAbiVersion and be mirrored in
// tools/kiln-compile/Aot.cpp. No LLVM/MLIR here.
//
// Contents:
//  - plan: exec::serializePlan() bytes (the plan validates itself on load);
//  - weights: every param/aux value in Plan::paramSlots order, each at a
//    64-byte aligned offset (weightOffsets()), raw little-endian elements;
//    empty when the model was compiled with --external-params;
//  - manifest: a few "key value" text lines the plan has no place for
//    (Manifest below);
//  - kernels: the packed entry of Plan::kernelNames[i] at index i, so the
//    runtime needs no symbol lookup (and the artifacts no dlsym).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_AOT_EMBEDDED_H
#define KILN_RUNTIME_AOT_EMBEDDED_H

#include "runtime/exec/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::aot {

/// Layout version of KilnAotEmbedded: the archive refuses other versions.
constexpr uint32_t kAbiVersion = 1;
/// Alignment of the weights blob and of each weight in it.
constexpr int64_t kWeightAlignment = 64;
/// The symbol kiln-compile defines.
constexpr const char *kEmbeddedSymbol = "kiln_aot_embedded";

/// What kiln-compile records next to the plan, as text lines "KEY VALUE":
///   kiln-aot-manifest 1
///   model zoo:mlp                 (as named to kiln-compile; messages)
///   external-params 0|1           (weights not embedded)
///   optional-input softmax_label  (repeatable: inputs inference never reads)
/// Readers skip keys they do not know.
struct Manifest {
  std::string model;
  bool externalParams = false;
  std::vector<std::string> optionalInputs;
};

/// The text kiln-compile embeds (parseManifest in AotModel.h reads it).
inline std::string formatManifest(const Manifest &m) {
  std::string text = "kiln-aot-manifest 1\nmodel " + m.model + "\nexternal-params " +
                     (m.externalParams ? "1" : "0") + "\n";
  for (const std::string &name : m.optionalInputs)
    text += "optional-input " + name + "\n";
  return text;
}

/// Byte offset of each Plan::paramSlots entry in the weights blob; the last
/// element is the blob's total size.
inline std::vector<int64_t> weightOffsets(const exec::Plan &plan) {
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (uint32_t slot : plan.paramSlots) {
    offsets.push_back(offset);
    int64_t bytes = plan.slots[slot].bytes;
    offset += (bytes + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
  }
  offsets.push_back(offset);
  return offsets;
}

} // namespace kiln::aot

extern "C" {
/// Field order and types are the ABI (x86-64/AArch64 LP64 C layout): two
/// u32, then pointer/u64 pairs.
struct KilnAotEmbedded {
  uint32_t abiVersion;
  uint32_t reserved;
  const uint8_t *plan;
  uint64_t planSize;
  const uint8_t *weights;
  uint64_t weightsSize;
  const char *manifest;
  uint64_t manifestSize;
  void (*const *kernels)(void **buffers);
  uint64_t numKernels;
};
}

#endif // KILN_RUNTIME_AOT_EMBEDDED_H
