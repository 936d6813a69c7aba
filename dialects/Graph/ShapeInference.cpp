//===- ShapeInference.cpp - Graph dialect shape rules ---------------------===//
//
// SKELETON: replaced by the real shape rules.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"

using namespace mlir;
using namespace kiln::graph;
LogicalResult ActivationOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult AddNOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BatchNormOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastAddOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastDivOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastMaximumOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastMinimumOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastMulOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastPowerOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastSubOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult BroadcastToOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ConcatOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ConvolutionOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult DeconvolutionOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult DivScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult DropoutOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ElemwiseAddOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ElemwiseDivOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ElemwiseMulOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ElemwiseSubOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult EmbeddingOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult FlattenOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult FullyConnectedOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult LRNOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult LeakyReLUOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult LinearRegressionOutputOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult LogSoftmaxOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult LogisticRegressionOutputOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MAERegressionOutputOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MaxOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MaximumScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MeanOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MinOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MinimumScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MinusScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult MulScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult PlusScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult PoolingOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult PowerScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult RDivScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult RMinusScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult RPowerScalarOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult ReshapeOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult SoftmaxActivationOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult SoftmaxOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult SoftmaxOutputOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult SplitOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult SumOp::inferShapes(ShapeInferenceState &) { return failure(); }
LogicalResult TransposeOp::inferShapes(ShapeInferenceState &) { return failure(); }
