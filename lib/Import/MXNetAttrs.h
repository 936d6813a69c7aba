//===- MXNetAttrs.h - MXNet attribute strings -------------------*- C++ -*-===//
//
// MXNet stores every operator parameter as a string (SPEC §2.1): tuples as
// "(3, 3)", "[3,3]", "(3,)", "(3L, 3L)" or a bare "3"; booleans as
// True/False/true/false/1/0; "None" for an unset optional. These parse and
// format them; `context` (e.g. "node 'conv1' attribute 'kernel'") goes into
// the kiln::Error thrown on a malformed value.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_MXNETATTRS_H
#define KILN_IMPORT_MXNETATTRS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::mx {

bool parseBool(const std::string &value, const std::string &context);
int64_t parseInt(const std::string &value, const std::string &context);
double parseFloat(const std::string &value, const std::string &context);
/// A bare scalar is a 1-tuple; "()" and "[]" are empty.
std::vector<int64_t> parseTuple(const std::string &value, const std::string &context);
/// True for "None" (any case), MXNet's unset optional.
bool isNone(const std::string &value);
/// A tuple of numbers, "(0.5, 1, 2)" or "[0.5]" or a bare "0.5" (MXNet's
/// float tuples: MultiBoxPrior sizes, ratios...).
std::vector<double> parseFloatTuple(const std::string &value, const std::string &context);
/// A tuple whose entries may be None ("(None, 1)", slice's begin/end/step),
/// None entries being std::nullopt; otherwise read as parseTuple.
std::vector<std::optional<int64_t>> parseOptTuple(const std::string &value,
                                                  const std::string &context);

/// "True" / "False", as MXNet's Python writes them.
std::string formatBool(bool value);
/// "(3, 3)", "(3,)", "()".
std::string formatTuple(const std::vector<int64_t> &values);
/// "(None, 1)", "(2,)", "()".
std::string formatOptTuple(const std::vector<std::optional<int64_t>> &values);
/// The shortest decimal that reads back to the same double ("0.001", "1e-05").
std::string formatFloat(double value);

} // namespace kiln::mx

#endif // KILN_IMPORT_MXNETATTRS_H
