//===- runtime/io/NDArrayFile.h - MXNet NDArray list files ------*- C++ -*-===//
//
// MXNet's `.params` / `.nd` files (SPEC §2.2): a list of NDArrays with
// optional names ("arg:fc1_weight", "aux:bn_moving_mean"). Every record
// version MXNet ever wrote is read — legacy (pre-V1), V1, V2 and V3 — and
// every dense dtype is converted to float32. Kiln writes V2, which MXNet 1.x
// reads, so checkpoints go both ways.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IO_NDARRAYFILE_H
#define KILN_RUNTIME_IO_NDARRAYFILE_H

#include "kiln/Tensor.h"

#include <string>
#include <vector>

namespace kiln {

/// NAMES is empty for an unnamed list (`nd.save` of a list) and otherwise
/// parallel to ARRAYS. A "none" array (MXNet's empty NDArray(), stored as a
/// bare shape record) is read as a tensor of shape (0,) with no values.
struct NDArrayList {
  std::vector<std::string> names;
  std::vector<Tensor> arrays;
};

/// Reads PATH. Throws kiln::Error naming PATH and, where the problem is in
/// one array, its index and (when the file has names) its name.
NDArrayList loadNDArrayFile(const std::string &path);

/// Parses the bytes of an NDArray list file; FILENAME is used in messages.
NDArrayList parseNDArrayList(const std::string &bytes,
                             const std::string &fileName);

/// The list in MXNet's format: V2 dense float32 records on cpu(0). Tensors
/// with no elements become "none" records (MXNet 1.x would read a zero-size
/// V2 shape as none anyway). Rank-0 tensors, which V2 cannot express, are
/// written as V3 (numpy-shape) records. Throws kiln::Error when NAMES is
/// neither empty nor as long as ARRAYS, or a tensor is inconsistent.
std::string serializeNDArrayList(const NDArrayList &list);

/// Writes LIST to PATH atomically (see writeFileAtomically).
void saveNDArrayFile(const std::string &path, const NDArrayList &list);

} // namespace kiln

#endif // KILN_RUNTIME_IO_NDARRAYFILE_H
