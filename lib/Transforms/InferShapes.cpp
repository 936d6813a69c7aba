//===- InferShapes.cpp - kiln-graph-infer-shapes --------------------------===//
// SKELETON: the pass body is written by the dialect owner.

#include "Transforms/Passes.h"
#include "Graph/GraphOps.h"

namespace kiln {
#define GEN_PASS_DEF_GRAPHINFERSHAPES
#include "Transforms/Passes.h.inc"
} // namespace kiln

namespace {
struct GraphInferShapesPass
    : kiln::impl::GraphInferShapesBase<GraphInferShapesPass> {
  void runOnOperation() override {}
};
} // namespace
