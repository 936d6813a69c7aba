//===- MXNetOpDef.h - How MXNet names and spells each graph op --*- C++ -*-===//
//
// One entry per MXNet operator Kiln supports, generated from the op's ODS
// definition (the mxnet* fields of Graph_Op in GraphBase.td): the canonical
// MXNet 1.x name and aliases, each attribute's kind and MXNet default (as
// MXNet's string), the keys accepted without becoming an attribute, the
// input names MXNet gives the op's arguments, and its aux-state count. The
// importer, the exporter, the Symbol API, eager NDArray calls and
// docs/operators.md all read this one registry, so they cannot disagree
// about a name or a default.
//
// Every IR attribute has the MXNet key's name, so one name serves both sides.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_MXNETOPDEF_H
#define KILN_GRAPH_MXNETOPDEF_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::graph {

/// How an MXNet attribute string is read (and the IR attribute it becomes):
/// Int (I64Attr), Bool (BoolAttr), F32/F64 (FloatAttr), Tuple
/// (DenseI64ArrayAttr from "(3, 3)"), FloatTuple (DenseF64ArrayAttr from
/// "(0.5, 1.0)"), Enum (a graph-dialect enum), String (StringAttr, kept as
/// written), OptTuple (a tuple whose entries may be None, as slice's
/// begin/end/step "(None, 1)": DenseI64ArrayAttr with kNoneIndex for None).
enum class MXAttrKind { Int, Bool, F32, F64, Tuple, FloatTuple, Enum, String, OptTuple };

/// A None entry of an OptTuple attribute.
constexpr int64_t kNoneIndex = INT64_MIN;

/// Converts between an MXNet enum string and the dialect's enum attribute.
struct MXEnumCodec {
  /// The attribute for an MXNet enum string, or a null attribute.
  mlir::Attribute (*parse)(mlir::MLIRContext *, const std::string &);
  std::string (*format)(mlir::Attribute);
  /// "relu, sigmoid, ..." for messages.
  std::string (*cases)();
};

struct MXAttrSpec {
  const char *name;
  MXAttrKind kind;
  /// MXNet's default as MXNet writes it; nullptr when the attribute is
  /// required (IR attribute without default) or optional (`optional`).
  const char *mxDefault = nullptr;
  /// OptionalAttr in the IR: MXNet's "None" (or absence) leaves it unset.
  /// With an `mxDefault` as well (MXOptDef), None is a value distinct from
  /// the default: the IR attribute's absence means None, so the importer
  /// sets the default explicitly when a file leaves the key out, and the
  /// exporter writes "None" for an absent attribute.
  bool optional = false;
  const MXEnumCodec *enumCodec = nullptr;
  /// An optional attribute whose key MXNet requires all the same, None
  /// being one of its values ("int or None, required": slice_axis's end):
  /// the importer rejects a node without the key, the exporter writes None.
  bool keyRequired = false;
};

/// Checks on the value of an accepted-but-dropped MXNet key (the importer
/// implements them): any value; a channel-first layout; False; None;
/// float32 or None.
enum class MXKeyCheck { Any, ChannelFirstLayout, MustBeFalse, MustBeNone, Float32OrNone };

struct MXIgnoredKey {
  const char *name;
  MXKeyCheck check;
};

/// How MXNet's input list depends on the attributes: Fixed (`inputs` as
/// listed); Bias / BiasOffByDefault (the last input, "bias", exists unless
/// no_bias, whose default is False / True); PreluGamma (the second input,
/// "gamma", exists only for act_type prelu); Variadic ("arg0".."argN-1" for
/// num_args); SoftmaxLength (a second input "length" with use_length);
/// UpSampling ("arg0".."argN-1" for num_args with sample_type nearest,
/// `inputs` for bilinear); ResizeLike (the second input, "like", exists only
/// for mode like); RNN ("state_cell" only for mode lstm, "sequence_length"
/// only with use_sequence_length); SequenceLength (the second input,
/// "sequence_length", exists only with use_sequence_length: SequenceMask,
/// SequenceLast, SequenceReverse); NumOutputs ("data_0".."data_N-1" for
/// num_outputs: amp_multicast).
enum class MXInputRule {
  Fixed,
  Bias,
  BiasOffByDefault,
  PreluGamma,
  Variadic,
  SoftmaxLength,
  UpSampling,
  ResizeLike,
  RNN,
  SequenceLength,
  NumOutputs
};

struct MXNetOpDef {
  /// Canonical MXNet 1.x name, written by the exporter.
  const char *mxName;
  /// Graph-dialect op name, e.g. "graph.fully_connected".
  const char *irName;
  /// The op's one-line summary (docs/operators.md).
  const char *summary;
  std::vector<const char *> aliases;
  std::vector<MXAttrSpec> attrs;
  std::vector<MXIgnoredKey> ignoredKeys;
  /// MXNet's input names with every optional input present.
  std::vector<const char *> inputs;
  MXInputRule inputRule = MXInputRule::Fixed;
  /// How many trailing inputs are auxiliary states (BatchNorm: 2).
  int numAux = 0;
  /// Results come from `num_outputs` (SliceChannel) rather than being one.
  bool splitResults = false;
  /// Reshape: legacy `target_shape` / `keep_highest` turn into `shape`.
  bool legacyReshape = false;
  /// Whether MXNet defines a gradient for the op.
  bool hasGradient = true;
  /// A Bool attribute that adds one visible output when true (Proposal's
  /// `output_score`); nullptr when the output count does not depend on one.
  const char *extraResultIf = nullptr;

  const MXAttrSpec *findAttr(llvm::StringRef name) const;
};

/// Every MXNet operator Kiln supports, ordered by canonical name.
llvm::ArrayRef<const MXNetOpDef *> mxnetOps();
/// The entry for a canonical name or alias; nullptr when unsupported.
const MXNetOpDef *lookupMXNetOp(llvm::StringRef name);
/// The entry of a graph op ("graph.convolution"); nullptr for Kiln's
/// internal ops.
const MXNetOpDef *lookupMXNetOpByIRName(llvm::StringRef irName);

} // namespace kiln::graph

#endif // KILN_GRAPH_MXNETOPDEF_H
