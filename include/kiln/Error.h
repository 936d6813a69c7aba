//===- kiln/Error.h - Kiln's error type -------------------------*- C++ -*-===//
//
// Every Kiln API entry point reports bad input by throwing kiln::Error whose
// message names the file and the node/argument at fault (SPEC §1.5). Tools
// catch it in main, print "kiln-TOOL: error: MESSAGE" and exit non-zero.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_ERROR_H
#define KILN_ERROR_H

#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace kiln

#endif // KILN_ERROR_H
