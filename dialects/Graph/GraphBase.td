//===- GraphBase.td - Kiln graph dialect: base classes -----*- tablegen -*-===//
//
// The dialect, its enums, and Graph_Op: the one declarative home of an
// operator. Besides the usual ODS fields, a graph op states here
//  - how MXNet names and spells it (mxnet* fields): its canonical name,
//    aliases, attributes with MXNet's defaults, accepted-but-ignored keys,
//    input names and aux-state count. getMXNetDef() is generated from them
//    and the importer, the exporter, the Symbol API, eager NDArray calls and
//    docs/operators.md all read that one registry (MXNetOpDef.h);
//  - its shape rule, gradient rule, in-place hint and verifier when a shared
//    helper does the work (shapeRule, gradientRule, inPlaceOperand,
//    customVerifier), so that an op of a family is a few lines.
// Families (elementwise formulas in GraphElementwise.td; views, reductions,
// indexing and NN layers in their own files) derive from Graph_Op.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_BASE
#define KILN_GRAPH_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "Graph/GraphInterfaces.td"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

def Graph_Dialect : Dialect {
  let name = "graph";
  let cppNamespace = "::kiln::graph";
  let summary = "Kiln's graph dialect: MXNet operators on tensors";
  let description = [{
    Every MXNet operator Kiln supports is one op here, with typed attributes
    and MXNet's defaults. A model is a `func.func` whose arguments are, in
    order, the data inputs, the learnable parameters and the auxiliary states
    (see docs/graph-dialect.md for the naming attributes), and whose results
    are the graph heads.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def Graph_Tensor : TensorOf<[AnyFloat]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

class Graph_Enum<string name, string desc, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, desc, cases> {
  let cppNamespace = "::kiln::graph";
  let genSpecializedAttr = 0;
}
class Graph_EnumAttr<EnumAttrInfo info, string mnemonic>
    : EnumAttr<Graph_Dialect, info, mnemonic> {
  let assemblyFormat = "`<` $value `>`";
}

def Graph_ActType : Graph_Enum<"ActType", "Activation act_type", [
  I32EnumAttrCase<"relu", 0>, I32EnumAttrCase<"sigmoid", 1>, I32EnumAttrCase<"tanh", 2>,
  I32EnumAttrCase<"softrelu", 3>, I32EnumAttrCase<"softsign", 4>]>;
def Graph_ActTypeAttr : Graph_EnumAttr<Graph_ActType, "act_type">;

def Graph_LeakyActType : Graph_Enum<"LeakyActType", "LeakyReLU act_type", [
  I32EnumAttrCase<"leaky", 0>, I32EnumAttrCase<"prelu", 1>, I32EnumAttrCase<"elu", 2>,
  I32EnumAttrCase<"selu", 3>, I32EnumAttrCase<"gelu", 4>, I32EnumAttrCase<"rrelu", 5>]>;
def Graph_LeakyActTypeAttr : Graph_EnumAttr<Graph_LeakyActType, "leaky_act_type">;

def Graph_PoolType : Graph_Enum<"PoolType", "Pooling pool_type", [
  I32EnumAttrCase<"max", 0>, I32EnumAttrCase<"avg", 1>, I32EnumAttrCase<"sum", 2>,
  I32EnumAttrCase<"lp", 3>]>;
def Graph_PoolTypeAttr : Graph_EnumAttr<Graph_PoolType, "pool_type">;

def Graph_PoolingConvention : Graph_Enum<"PoolingConvention", "Pooling pooling_convention", [
  I32EnumAttrCase<"valid", 0>, I32EnumAttrCase<"full", 1>, I32EnumAttrCase<"same", 2>]>;
def Graph_PoolingConventionAttr
    : Graph_EnumAttr<Graph_PoolingConvention, "pooling_convention">;

def Graph_Normalization : Graph_Enum<"Normalization", "SoftmaxOutput normalization", [
  I32EnumAttrCase<"null", 0>, I32EnumAttrCase<"batch", 1>, I32EnumAttrCase<"valid", 2>]>;
def Graph_NormalizationAttr : Graph_EnumAttr<Graph_Normalization, "normalization">;

def Graph_SoftmaxMode : Graph_Enum<"SoftmaxMode", "SoftmaxActivation mode", [
  I32EnumAttrCase<"instance", 0>, I32EnumAttrCase<"channel", 1>]>;
def Graph_SoftmaxModeAttr : Graph_EnumAttr<Graph_SoftmaxMode, "softmax_mode">;

def Graph_DropoutMode : Graph_Enum<"DropoutMode", "Dropout mode", [
  I32EnumAttrCase<"training", 0>, I32EnumAttrCase<"always", 1>]>;
def Graph_DropoutModeAttr : Graph_EnumAttr<Graph_DropoutMode, "dropout_mode">;

def Graph_RegressionKind : Graph_Enum<"RegressionKind", "regression loss head", [
  I32EnumAttrCase<"linear", 0>, I32EnumAttrCase<"logistic", 1>, I32EnumAttrCase<"mae", 2>]>;
def Graph_RegressionKindAttr : Graph_EnumAttr<Graph_RegressionKind, "regression_kind">;

// The element types MXNet's Cast converts to (Kiln stores every tensor as a
// float; Cast rounds values the way the conversion would).
def Graph_DType : Graph_Enum<"DType", "MXNet dtype", [
  I32EnumAttrCase<"float32", 0>, I32EnumAttrCase<"float64", 1>, I32EnumAttrCase<"float16", 2>,
  I32EnumAttrCase<"uint8", 3>, I32EnumAttrCase<"int32", 4>, I32EnumAttrCase<"int8", 5>,
  I32EnumAttrCase<"int64", 6>, I32EnumAttrCase<"boolean", 7, "bool">, I32EnumAttrCase<"bfloat16", 12>]>;
def Graph_DTypeAttr : Graph_EnumAttr<Graph_DType, "dtype">;

def Graph_TopKRetTyp : Graph_Enum<"TopKRetTyp", "topk ret_typ", [
  I32EnumAttrCase<"value", 0>, I32EnumAttrCase<"indices", 1>, I32EnumAttrCase<"mask", 2>,
  I32EnumAttrCase<"both", 3>]>;
def Graph_TopKRetTypAttr : Graph_EnumAttr<Graph_TopKRetTyp, "topk_ret_typ">;
// take's mode (MXNet's take_::kRaise, kWrap, kClip).
def Graph_TakeMode : Graph_Enum<"TakeMode", "take mode", [
  I32EnumAttrCase<"clip", 0>, I32EnumAttrCase<"wrap", 1>, I32EnumAttrCase<"raise", 2>]>;
def Graph_TakeModeAttr : Graph_EnumAttr<Graph_TakeMode, "take_mode">;

// pick's mode (no raise in MXNet).
def Graph_PickMode : Graph_Enum<"PickMode", "pick mode", [
  I32EnumAttrCase<"clip", 0>, I32EnumAttrCase<"wrap", 1>]>;
def Graph_PickModeAttr : Graph_EnumAttr<Graph_PickMode, "pick_mode">;

def Graph_PadMode : Graph_Enum<"PadMode", "Pad mode", [
  I32EnumAttrCase<"constant", 0>, I32EnumAttrCase<"edge", 1>, I32EnumAttrCase<"reflect", 2>]>;
def Graph_PadModeAttr : Graph_EnumAttr<Graph_PadMode, "pad_mode">;

// Neural-network layers (GraphNNOps.td).
def Graph_UpSamplingType : Graph_Enum<"UpSamplingType", "UpSampling sample_type", [
  I32EnumAttrCase<"nearest", 0>, I32EnumAttrCase<"bilinear", 1>]>;
def Graph_UpSamplingTypeAttr : Graph_EnumAttr<Graph_UpSamplingType, "sample_type">;

def Graph_MultiInputMode : Graph_Enum<"MultiInputMode", "UpSampling multi_input_mode", [
  I32EnumAttrCase<"concat", 0>, I32EnumAttrCase<"sum", 1>]>;
def Graph_MultiInputModeAttr : Graph_EnumAttr<Graph_MultiInputMode, "multi_input_mode">;

def Graph_ResizeMode : Graph_Enum<"ResizeMode", "BilinearResize2D mode", [
  I32EnumAttrCase<"size", 0>, I32EnumAttrCase<"odd_scale", 1>, I32EnumAttrCase<"like", 2>,
  I32EnumAttrCase<"to_even_down", 3>, I32EnumAttrCase<"to_even_up", 4>,
  I32EnumAttrCase<"to_odd_down", 5>, I32EnumAttrCase<"to_odd_up", 6>]>;
def Graph_ResizeModeAttr : Graph_EnumAttr<Graph_ResizeMode, "resize_mode">;

def Graph_L2NormMode : Graph_Enum<"L2NormMode", "L2Normalization mode", [
  I32EnumAttrCase<"instance", 0>, I32EnumAttrCase<"channel", 1>, I32EnumAttrCase<"spatial", 2>]>;
def Graph_L2NormModeAttr : Graph_EnumAttr<Graph_L2NormMode, "l2norm_mode">;

// GridGenerator's and SpatialTransformer's transform_type (SpatialTransformer
// takes only affine), SpatialTransformer's sampler_type.
def Graph_GridTransformType : Graph_Enum<"GridTransformType", "GridGenerator transform_type", [
  I32EnumAttrCase<"affine", 0>, I32EnumAttrCase<"warp", 1>]>;
def Graph_GridTransformTypeAttr : Graph_EnumAttr<Graph_GridTransformType, "grid_transform">;
def Graph_SamplerType : Graph_Enum<"SamplerType", "SpatialTransformer sampler_type", [
  I32EnumAttrCase<"bilinear", 0>]>;
def Graph_SamplerTypeAttr : Graph_EnumAttr<Graph_SamplerType, "sampler_type">;

// MXNet RNN's `mode` (rnn_enum::RNNModeType, same values).
def Graph_RNNMode : Graph_Enum<"RNNMode", "RNN mode", [
  I32EnumAttrCase<"rnn_relu", 0>, I32EnumAttrCase<"rnn_tanh", 1>, I32EnumAttrCase<"lstm", 2>,
  I32EnumAttrCase<"gru", 3>]>;
def Graph_RNNModeAttr : Graph_EnumAttr<Graph_RNNMode, "rnn_mode">;

//===----------------------------------------------------------------------===//
// Traits shared by op families
//===----------------------------------------------------------------------===//

// Every tensor operand has the result's shape and is read at the result's
// index: fusion may append the op to a chain through any operand, and a
// result may overwrite an operand whose value dies here.
def Graph_ElementwiseTrait : NativeOpTrait<"GraphElementwise"> {
  let cppNamespace = "::kiln::graph";
}
// NumPy-broadcasting binary ops: an operand is read at the result's index
// when it has the result's shape.
def Graph_BroadcastElementwiseTrait : NativeOpTrait<"GraphBroadcastElementwise"> {
  let cppNamespace = "::kiln::graph";
}
// Loss heads: their backward is MXNet's built-in gradient, which ignores the
// head gradient, so autodiff gives them none (kiln::isLossHead).
def Graph_LossHeadTrait : NativeOpTrait<"GraphLossHead"> {
  let cppNamespace = "::kiln::graph";
}

//===----------------------------------------------------------------------===//
// MXNet registry entries
//===----------------------------------------------------------------------===//

// One MXNet attribute: its name, how its string is parsed (MXAttrKind), and
// MXNet's default as MXNet writes it ("" = required, unless `optional`:
// MXNet's None, which leaves an OptionalAttr unset; `keyRequired`: MXNet
// requires the key even so, None being one of its values).
class MXAttr<string name, string kind, string dflt = "", bit optional = 0,
             string codec = "nullptr", bit keyRequired = 0> {
  string cpp = "{\"" # name # "\", ::kiln::graph::MXAttrKind::" # kind # ", " #
               !if(!empty(dflt), "nullptr", "\"" # dflt # "\"") # ", " #
               !if(optional, "true", "false") # ", " # codec # ", " #
               !if(keyRequired, "true", "false") # "}";
}
class MXReq<string name, string kind> : MXAttr<name, kind>;
class MXDef<string name, string kind, string dflt> : MXAttr<name, kind, dflt>;
class MXOpt<string name, string kind> : MXAttr<name, kind, "", 1>;
// MXNet's default is `dflt`, and None is a value of its own (topk's and
// sort's `int or None` axis, default -1, None = the flattened array): the IR
// attribute is an OptionalAttr whose absence means None, and the importer
// writes `dflt` explicitly when a file leaves the key out.
class MXOptDef<string name, string kind, string dflt> : MXAttr<name, kind, dflt, 1>;
// MXNet's "X or None, required": the key must be written, None allowed.
class MXReqOrNone<string name, string kind> : MXAttr<name, kind, "", 1, "nullptr", 1>;
// An enum attribute of the graph dialect (Graph_Enum `enumName`).
class MXEnum<string name, string enumName, string dflt = "">
    : MXAttr<name, "Enum", dflt, 0,
             "::kiln::graph::enumCodec<::kiln::graph::" # enumName # ", ::kiln::graph::" #
             enumName # "Attr, ::kiln::graph::getMaxEnumValFor" # enumName # "()>()">;

// An MXNet key Kiln accepts without keeping it (a performance hint, or a
// value Kiln supports in one setting only, checked by MXKeyCheck `check`).
class MXKey<string name, string check = "Any"> {
  string cpp = "{\"" # name # "\", ::kiln::graph::MXKeyCheck::" # check # "}";
}
def MXKeyWorkspace : MXKey<"workspace">;
def MXKeyCudnnTune : MXKey<"cudnn_tune">;
def MXKeyCudnnOff : MXKey<"cudnn_off">;
def MXKeyLayout : MXKey<"layout", "ChannelFirstLayout">;

//===----------------------------------------------------------------------===//
// Graph_Op
//===----------------------------------------------------------------------===//

class Graph_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graph_Dialect, mnemonic,
         !listconcat(traits, [Pure,
                              DeclareOpInterfaceMethods<Graph_ShapeInferenceOpInterface>,
                              // Every op states its gradient rule (Gradients.cpp
                              // or gradientRule), so a new op without one fails
                              // to link.
                              DeclareOpInterfaceMethods<Graph_GradientOpInterface>])> {
  // Generic, predictable syntax: `graph.op %a, %b {attrs} : (types) -> types`.
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;

  //--- How MXNet spells the op (empty mxnetName: internal to Kiln). -------//
  string mxnetName = "";
  // Other names MXNet registers for the op, and pre-NNVM spellings of old
  // files (test/conformance/mxnet-1.9.1-operators.json lists MXNet's).
  list<string> mxnetAliases = [];
  list<MXAttr> mxnetAttrs = [];
  list<MXKey> mxnetKeys = [];
  // MXNet's input names (ListArguments order; they name implicit variables
  // such as "fc1_weight"), and the rule that adjusts them to the attributes
  // (MXInputRule: Fixed, Bias, BiasOffByDefault, PreluGamma, Variadic,
  // SoftmaxLength, RNN, SequenceLength).
  list<string> mxnetInputs = ["data"];
  string mxnetInputRule = "Fixed";
  // How many trailing inputs are auxiliary states (BatchNorm: 2).
  int mxnetNumAux = 0;
  // Results come from `num_outputs` (SliceChannel) rather than being one.
  bit mxnetSplitResults = 0;
  // Reshape: legacy `target_shape` / `keep_highest` turn into `shape`.
  bit mxnetLegacyReshape = 0;
  // Whether MXNet defines a gradient (docs/operators.md).
  bit mxnetHasGradient = 1;
  // A Bool attribute that, when true, makes MXNet show one more output
  // (NumVisibleOutputs: Proposal's `output_score`); the op then has one more
  // result than it has with the attribute false.
  string mxnetExtraResultIf = "";

  //--- Shared implementations (empty: written by hand in C++). -----------//
  // The op defines verify() itself (attribute checks, then verifyShapes).
  bit customVerifier = 0;
  // >= 0: result 0 may overwrite this operand (InPlaceOpInterface, which the
  // op must list among its traits).
  int inPlaceOperand = -1;
  // An expression returning the LogicalResult of inferShapes(state).
  code shapeRule = "";
  // An expression returning the LogicalResult of buildGradient(builder,
  // resultGrads, operandGrads).
  code gradientRule = "";
  // Declarations and definitions added by a family class, then by the op.
  code familyDecl = "";
  code familyDef = "";
  code opDecl = "";
  code opDef = "";

  let extraClassDeclaration =
      "static const ::kiln::graph::MXNetOpDef *getMXNetDef();\n" # familyDecl # opDecl;
  let extraClassDefinition =
      !if(!empty(mxnetName),
          "const ::kiln::graph::MXNetOpDef *$cppClass::getMXNetDef() { return nullptr; }\n",
          "const ::kiln::graph::MXNetOpDef *$cppClass::getMXNetDef() {\n"
          "  static const ::kiln::graph::MXNetOpDef def{\"" # mxnetName #
          "\", getOperationName().data(),\n    \"" # !subst("\"", "\\\"", summary) # "\",\n    {" #
          !interleave(!foreach(a, mxnetAliases, "\"" # a # "\""), ", ") # "},\n    {" #
          !interleave(!foreach(a, mxnetAttrs, a.cpp), ", ") # "},\n    {" #
          !interleave(!foreach(k, mxnetKeys, k.cpp), ", ") # "},\n    {" #
          !interleave(!foreach(i, mxnetInputs, "\"" # i # "\""), ", ") # "},\n" #
          "    ::kiln::graph::MXInputRule::" # mxnetInputRule # ", " #
          !cast<string>(mxnetNumAux) # ", " # !if(mxnetSplitResults, "true", "false") # ", " #
          !if(mxnetLegacyReshape, "true", "false") # ", " #
          !if(mxnetHasGradient, "true", "false") # ", " #
          !if(!empty(mxnetExtraResultIf), "nullptr", "\"" # mxnetExtraResultIf # "\"") #
          "};\n  return &def;\n}\n") #
      !if(customVerifier, "",
          "::llvm::LogicalResult $cppClass::verify() { return verifyShapes(*this); }\n") #
      !if(!lt(inPlaceOperand, 0), "",
          "std::optional<unsigned> $cppClass::getInPlaceOperand(unsigned resultIndex) {\n"
          "  return resultIndex == 0 ? std::optional<unsigned>(" #
          !cast<string>(inPlaceOperand) # ") : std::nullopt;\n}\n") #
      !if(!empty(shapeRule), "",
          "::llvm::LogicalResult $cppClass::inferShapes(ShapeInferenceState &state) {\n"
          "  return " # shapeRule # ";\n}\n") #
      !if(!empty(gradientRule), "",
          "::llvm::LogicalResult $cppClass::buildGradient(::mlir::OpBuilder &builder,\n"
          "    ::llvm::ArrayRef<::mlir::Value> resultGrads,\n"
          "    ::llvm::SmallVectorImpl<::mlir::Value> &operandGrads) {\n"
          "  (void)builder; (void)resultGrads;\n"
          "  return " # gradientRule # ";\n}\n") #
      familyDef # opDef;
}

//===----------------------------------------------------------------------===//
// Reductions over an axis set (sum, mean, max, min in GraphOps.td; prod,
// nansum, nanprod in GraphReduceOps.td)
//===----------------------------------------------------------------------===//

class Graph_ReduceOp<string mnemonic, string what>
    : Graph_Op<mnemonic> {
  let summary = "MXNet " # mnemonic # ": " # what # " over `axis`";
  let description = [{
    Reduces over the listed axes (all axes when `axis` is absent, MXNet's
    None), or over every other axis with `exclude`. `keepdims` keeps reduced
    axes as size 1.

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %x {axis = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   OptionalAttr<DenseI64ArrayAttr>:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims,
                   DefaultValuedAttr<BoolAttr, "false">:$exclude);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = mnemonic;
  let mxnetAttrs = [MXOpt<"axis", "Tuple">, MXDef<"keepdims", "Bool", "False">,
                    MXDef<"exclude", "Bool", "False">];
  let shapeRule = "inferReduce(*this, state, getAxis(), getKeepdims(), getExclude())";
  let familyDecl = [{
    /// The reduced axes, normalized to [0, rank) and sorted, for an input of `rank`.
    ::llvm::SmallVector<int64_t> getReducedAxes(int64_t rank) {
      return ::kiln::graph::reducedAxes(getAxis(), getExclude(), rank);
    }
  }];
}

#endif // KILN_GRAPH_BASE
