//===- runtime/io/File.h - Whole-file reads and atomic writes ---*- C++ -*-===//
//
// SPEC §1.5 forbids partial output files, so every writer in Kiln goes through
// writeFileAtomically: the bytes land under a temporary name in the target's
// directory and are renamed into place only once they are all written.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IO_FILE_H
#define KILN_RUNTIME_IO_FILE_H

#include <string>

namespace kiln {

/// The whole file as bytes. Throws kiln::Error "cannot open 'PATH': REASON"
/// (or "cannot read ...") on failure, including when PATH is a directory.
std::string readFile(const std::string &path);

/// Writes BYTES to PATH so that PATH is either untouched or complete: a
/// temporary file in the same directory is written, then renamed over PATH.
/// On any failure the temporary is removed and kiln::Error names PATH.
void writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace kiln

#endif // KILN_RUNTIME_IO_FILE_H
