//===- GraphShapeOps.td - Graph dialect: shape and indexing -*- tablegen -*-===//
//
// Views, data movement and indexing: expand_dims, squeeze, swapaxes, flip, tile, repeat,
// broadcast_like, reshape_like, slice, slice_like, take, pick, gather_nd, one_hot, stack,
// _arange/_ones/_full, Pad, Crop, space_to_depth, depth_to_space, shape_array, size_array, where.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphShapeOps.h, defined in dialects/Graph/ShapeOps.cpp, run by
// lib/Interpreter/ShapeOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/ShapeOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_SHAPE_OPS
#define KILN_GRAPH_SHAPE_OPS

include "Graph/GraphBase.td"

#endif // KILN_GRAPH_SHAPE_OPS
