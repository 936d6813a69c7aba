//===- GraphOps.cpp - Kiln graph dialect op definitions -------------------===//
//
// Op verifiers, attribute helpers and in-place hints. Shape rules live in
// ShapeInference.cpp and are shared by the verifier and the inference pass.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphOps.cpp.inc"

// SKELETON verifiers until the shape rules land.
#define KILN_SKELETON_VERIFY(OP) LogicalResult OP::verify() { return success(); }
KILN_SKELETON_VERIFY(ActivationOp)
KILN_SKELETON_VERIFY(AddNOp)
KILN_SKELETON_VERIFY(BatchNormOp)
KILN_SKELETON_VERIFY(BroadcastAddOp)
KILN_SKELETON_VERIFY(BroadcastDivOp)
KILN_SKELETON_VERIFY(BroadcastMaximumOp)
KILN_SKELETON_VERIFY(BroadcastMinimumOp)
KILN_SKELETON_VERIFY(BroadcastMulOp)
KILN_SKELETON_VERIFY(BroadcastPowerOp)
KILN_SKELETON_VERIFY(BroadcastSubOp)
KILN_SKELETON_VERIFY(BroadcastToOp)
KILN_SKELETON_VERIFY(ConcatOp)
KILN_SKELETON_VERIFY(ConvolutionOp)
KILN_SKELETON_VERIFY(DeconvolutionOp)
KILN_SKELETON_VERIFY(DivScalarOp)
KILN_SKELETON_VERIFY(DropoutOp)
KILN_SKELETON_VERIFY(ElemwiseAddOp)
KILN_SKELETON_VERIFY(ElemwiseDivOp)
KILN_SKELETON_VERIFY(ElemwiseMulOp)
KILN_SKELETON_VERIFY(ElemwiseSubOp)
KILN_SKELETON_VERIFY(EmbeddingOp)
KILN_SKELETON_VERIFY(FlattenOp)
KILN_SKELETON_VERIFY(FullyConnectedOp)
KILN_SKELETON_VERIFY(LRNOp)
KILN_SKELETON_VERIFY(LeakyReLUOp)
KILN_SKELETON_VERIFY(LinearRegressionOutputOp)
KILN_SKELETON_VERIFY(LogSoftmaxOp)
KILN_SKELETON_VERIFY(LogisticRegressionOutputOp)
KILN_SKELETON_VERIFY(MAERegressionOutputOp)
KILN_SKELETON_VERIFY(MaxOp)
KILN_SKELETON_VERIFY(MaximumScalarOp)
KILN_SKELETON_VERIFY(MeanOp)
KILN_SKELETON_VERIFY(MinOp)
KILN_SKELETON_VERIFY(MinimumScalarOp)
KILN_SKELETON_VERIFY(MinusScalarOp)
KILN_SKELETON_VERIFY(MulScalarOp)
KILN_SKELETON_VERIFY(PlusScalarOp)
KILN_SKELETON_VERIFY(PoolingOp)
KILN_SKELETON_VERIFY(PowerScalarOp)
KILN_SKELETON_VERIFY(RDivScalarOp)
KILN_SKELETON_VERIFY(RMinusScalarOp)
KILN_SKELETON_VERIFY(RPowerScalarOp)
KILN_SKELETON_VERIFY(ReshapeOp)
KILN_SKELETON_VERIFY(SoftmaxActivationOp)
KILN_SKELETON_VERIFY(SoftmaxOp)
KILN_SKELETON_VERIFY(SoftmaxOutputOp)
KILN_SKELETON_VERIFY(SplitOp)
KILN_SKELETON_VERIFY(SumOp)
KILN_SKELETON_VERIFY(TransposeOp)
std::optional<unsigned> ActivationOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> LeakyReLUOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> BatchNormOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> DropoutOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> FlattenOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> ReshapeOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> AddNOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> ElemwiseAddOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> ElemwiseSubOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> ElemwiseMulOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> ElemwiseDivOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> LinearRegressionOutputOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> LogisticRegressionOutputOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> MAERegressionOutputOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> PlusScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> MinusScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> RMinusScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> MulScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> DivScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> RDivScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> PowerScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> RPowerScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> MaximumScalarOp::getInPlaceOperand(unsigned) { return 0; }
std::optional<unsigned> MinimumScalarOp::getInPlaceOperand(unsigned) { return 0; }
SmallVector<int64_t> ConvolutionOp::getStrides() { return {}; }
SmallVector<int64_t> ConvolutionOp::getDilations() { return {}; }
SmallVector<int64_t> ConvolutionOp::getPads() { return {}; }
SmallVector<int64_t> DeconvolutionOp::getStrides() { return {}; }
SmallVector<int64_t> DeconvolutionOp::getDilations() { return {}; }
SmallVector<int64_t> DeconvolutionOp::getPads(ArrayRef<int64_t>) { return {}; }
SmallVector<int64_t> DeconvolutionOp::getAdjs(ArrayRef<int64_t>) { return {}; }
SmallVector<int64_t> PoolingOp::getStrides() { return {}; }
SmallVector<int64_t> PoolingOp::getPads() { return {}; }
SmallVector<int64_t> SumOp::getReducedAxes(int64_t) { return {}; }
SmallVector<int64_t> MeanOp::getReducedAxes(int64_t) { return {}; }
SmallVector<int64_t> MaxOp::getReducedAxes(int64_t) { return {}; }
SmallVector<int64_t> MinOp::getReducedAxes(int64_t) { return {}; }
