//===- runtime/io/Npy.h - NumPy .npy files ----------------------*- C++ -*-===//
//
// SPEC §1.4: inputs and outputs of the tools. Kiln reads format 1.0, 2.0 and
// 3.0, little-endian, C order; float32 is native and the other numeric types
// NumPy commonly writes (f2, f8, integers, bool) are converted to float32
// with a note so that labels and double-precision inputs just work. Kiln
// writes `<f4`, format 1.0, with NumPy's 64-byte data alignment.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IO_NPY_H
#define KILN_RUNTIME_IO_NPY_H

#include "kiln/Tensor.h"

#include <string>

namespace kiln {

/// Reads PATH. When the file's dtype is not float32 and CONVERSIONNOTE is
/// given, it receives e.g. "converted '<f8' to float32"; otherwise it is
/// cleared. Throws kiln::Error naming PATH on any problem.
Tensor readNpy(const std::string &path, std::string *conversionNote = nullptr);

/// Parses the bytes of a .npy file; FILENAME is used only in messages.
Tensor parseNpy(const std::string &bytes, const std::string &fileName,
                std::string *conversionNote = nullptr);

/// The bytes of T as a `<f4` format-1.0 .npy file.
std::string serializeNpy(const Tensor &t);

/// Writes T to PATH atomically (see writeFileAtomically).
void writeNpy(const std::string &path, const Tensor &t);

} // namespace kiln

#endif // KILN_RUNTIME_IO_NPY_H
