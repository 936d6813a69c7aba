//===- GraphShapeOps.h - Graph dialect: shape and indexing -*- C++ -*-===//
//
// The ops of GraphShapeOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
// Besides the ops, the rules the family's definitions, reference kernels and
// lowerings share: how slice's begin/end/step select elements, and how a
// float index becomes a position (MXNet casts it to an integer).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHSHAPEOPS_H
#define KILN_GRAPH_GRAPHSHAPEOPS_H

#include "Graph/GraphOps.h"

#include <string>

namespace kiln::graph {

/// The elements a slice takes, one entry per axis of the data: along axis
/// d, positions begin[d] + k·step[d] for k in [0, size[d]).
struct SliceBox {
  llvm::SmallVector<int64_t> begin, step, size;
};

/// MXNet's GetIndexRange and slice output size for data of shape `shape`
/// and slice's `begin`/`end`/`step` (kNoneIndex for None; `step` may be
/// empty). Returns an error message (empty on success): too many entries,
/// a step of 0, or an empty result (Kiln has no zero-size tensors).
std::string resolveSlice(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> begin,
                         llvm::ArrayRef<int64_t> end, llvm::ArrayRef<int64_t> step,
                         SliceBox &box);

/// The position an index value v selects along an axis of size n (> 0), as
/// MXNet's kernels compute it from the truncated value: clamped to
/// [0, n − 1], or wrapped modulo n. NaN gives 0.
int64_t clipIndex(double v, int64_t n);
int64_t wrapIndex(double v, int64_t n);
/// gather_nd's position for v along an axis of size n: trunc(v + n) mod n
/// (a negative index counts from the back; out-of-range ones wrap).
inline int64_t gatherIndex(double v, int64_t n) { return wrapIndex(v + static_cast<double>(n), n); }

/// Where diag reads the k-th diagonal of the matrices that axes `axis1`
/// and `axis2` of data (rank ≥ 2) span: element t of the diagonal is data
/// at start1 + t along axis1 and start2 + t along axis2 (axes normalized).
struct DiagGeometry {
  int64_t axis1, axis2, start1, start2, length;
  /// diag's result shape: the data without both axes, then the diagonal.
  llvm::SmallVector<int64_t> resultShape(llvm::ArrayRef<int64_t> data) const;
};
/// The geometry, or an error message (axes out of range or equal, no
/// such diagonal).
std::string diagGeometry(llvm::ArrayRef<int64_t> data, int64_t k, int64_t axis1, int64_t axis2,
                         DiagGeometry &geometry);

} // namespace kiln::graph

#define GET_OP_CLASSES
#include "Graph/GraphShapeOps.h.inc"

#endif // KILN_GRAPH_GRAPHSHAPEOPS_H
