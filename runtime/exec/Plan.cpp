//===- exec/Plan.cpp - Plan validation and binary serialization -----------===//

#include "runtime/exec/Plan.h"

#include "kiln/Error.h"
#include "kiln/Tensor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

using namespace kiln;
using namespace kiln::exec;

int64_t kiln::exec::dtypeBytes(DType t) {
  switch (t) {
  case DType::F32: return 4;
  case DType::F64: return 8;
  case DType::F16: return 2;
  case DType::BF16: return 2;
  case DType::I8: return 1;
  case DType::I32: return 4;
  case DType::I64: return 8;
  case DType::U8: return 1;
  }
  return 0;
}

const char *kiln::exec::dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::I8: return "i8";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::U8: return "u8";
  }
  return "?";
}

const char *kiln::exec::slotKindName(SlotKind k) {
  switch (k) {
  case SlotKind::Arena: return "arena";
  case SlotKind::Input: return "input";
  case SlotKind::Param: return "param";
  case SlotKind::Output: return "output";
  case SlotKind::Constant: return "constant";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

[[noreturn]] static void invalid(const std::string &msg) { throw Error("invalid plan: " + msg); }

static std::string slotRef(const Plan &p, uint32_t s) {
  return "slot #" + std::to_string(s) + " ('" + p.slots[s].name + "')";
}

static std::string stepRef(const Plan &p, size_t i) {
  const Step &st = p.steps[i];
  return "step #" + std::to_string(i) + " (" + st.opName + ", node '" + st.nodeName + "')";
}

/// numElements * elemBytes without silent overflow: a corrupted shape must
/// not wrap around to a plausible size.
static bool checkedBytes(const std::vector<int64_t> &shape, int64_t elem, int64_t &out) {
  int64_t n = elem;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return false;
    n *= d;
  }
  out = n;
  return true;
}

static void checkSortedUnique(const std::vector<uint32_t> &v, const std::string &what) {
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i - 1] >= v[i])
      invalid(what + " is not sorted and duplicate-free");
}

void kiln::exec::validatePlan(const Plan &p) {
  if (p.alignment <= 0 || (p.alignment & (p.alignment - 1)))
    invalid("alignment " + std::to_string(p.alignment) + " is not a power of two");
  if (p.arenaBytes < 0 || p.arenaBytes % p.alignment)
    invalid("arena size " + std::to_string(p.arenaBytes) + " is not a multiple of the alignment");

  const size_t nKinds = 5;
  size_t counts[nKinds] = {0, p.inputSlots.size(), p.paramSlots.size(), p.outputSlots.size(),
                           p.constants.size()};
  std::set<std::pair<int, int64_t>> externals;
  std::vector<std::pair<int64_t, int64_t>> blocks; // (offset, bytes)
  for (size_t i = 0; i < p.storages.size(); ++i) {
    const Storage &s = p.storages[i];
    std::string ref = "storage #" + std::to_string(i);
    auto kind = static_cast<size_t>(s.kind);
    if (kind >= nKinds)
      invalid(ref + " has unknown kind " + std::to_string(kind));
    if (s.bytes < 0 || s.index < 0)
      invalid(ref + " has a negative offset, index or size");
    if (s.kind == SlotKind::Arena) {
      if (s.index % p.alignment)
        invalid(ref + ": arena offset " + std::to_string(s.index) + " is not " +
                std::to_string(p.alignment) + "-byte aligned");
      if (s.bytes > p.arenaBytes || s.index > p.arenaBytes - s.bytes)
        invalid(ref + ": bytes [" + std::to_string(s.index) + ", " +
                std::to_string(s.index + s.bytes) + ") lie outside the arena of " +
                std::to_string(p.arenaBytes) + " bytes");
      blocks.emplace_back(s.index, s.bytes);
      continue;
    }
    if (static_cast<size_t>(s.index) >= counts[kind])
      invalid(ref + ": " + slotKindName(s.kind) + " #" + std::to_string(s.index) +
              " does not exist (the plan has " + std::to_string(counts[kind]) + ")");
    if (!externals.insert({(int)kind, s.index}).second)
      invalid(ref + ": " + slotKindName(s.kind) + " #" + std::to_string(s.index) +
              " is owned by two storages");
  }
  // Disjoint blocks are what lets one engine variable per storage order all
  // accesses: two overlapping blocks would race unseen.
  std::sort(blocks.begin(), blocks.end());
  for (size_t i = 1; i < blocks.size(); ++i)
    if (blocks[i - 1].second > 0 && blocks[i].second > 0 &&
        blocks[i - 1].first + blocks[i - 1].second > blocks[i].first)
      invalid("arena blocks at offsets " + std::to_string(blocks[i - 1].first) + " and " +
              std::to_string(blocks[i].first) + " overlap");

  for (size_t i = 0; i < p.slots.size(); ++i) {
    const Slot &sl = p.slots[i];
    std::string ref = slotRef(p, (uint32_t)i);
    if (static_cast<unsigned>(sl.dtype) >= kNumDTypes)
      invalid(ref + " has unknown dtype " + std::to_string((unsigned)sl.dtype));
    int64_t bytes;
    if (!checkedBytes(sl.shape, dtypeBytes(sl.dtype), bytes))
      invalid(ref + " has an invalid shape");
    if (bytes != sl.bytes)
      invalid(ref + " says " + std::to_string(sl.bytes) + " bytes but shape " +
              formatShape(sl.shape) + " of " + dtypeName(sl.dtype) + " needs " +
              std::to_string(bytes));
    if (sl.storage >= p.storages.size())
      invalid(ref + " names storage #" + std::to_string(sl.storage) + " of " +
              std::to_string(p.storages.size()));
    const Storage &st = p.storages[sl.storage];
    if (st.kind == SlotKind::Arena ? sl.bytes > st.bytes : sl.bytes != st.bytes)
      invalid(ref + " (" + std::to_string(sl.bytes) + " bytes) does not fit its storage (" +
              std::to_string(st.bytes) + " bytes)");
    if (st.kind == SlotKind::Constant && (int64_t)p.constants[st.index].data.size() != sl.bytes)
      invalid(ref + ": constant data has " + std::to_string(p.constants[st.index].data.size()) +
              " bytes, the slot " + std::to_string(sl.bytes));
  }

  auto checkSignature = [&](const std::vector<uint32_t> &list, SlotKind kind) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i] >= p.slots.size())
        invalid(std::string(slotKindName(kind)) + " #" + std::to_string(i) + " names slot #" +
                std::to_string(list[i]) + " of " + std::to_string(p.slots.size()));
      const Storage &st = p.storages[p.slots[list[i]].storage];
      if (st.kind != kind || st.index != (int64_t)i)
        invalid(std::string(slotKindName(kind)) + " #" + std::to_string(i) + " is " +
                slotRef(p, list[i]) + ", which lives in " + slotKindName(st.kind) + " #" +
                std::to_string(st.index));
    }
  };
  checkSignature(p.inputSlots, SlotKind::Input);
  checkSignature(p.paramSlots, SlotKind::Param);
  checkSignature(p.outputSlots, SlotKind::Output);
  for (size_t i = 0; i < p.constants.size(); ++i)
    if (!externals.count({(int)SlotKind::Constant, (int64_t)i}))
      invalid("constant #" + std::to_string(i) + " ('" + p.constants[i].name +
              "') has no storage");

  std::vector<int> outputWriters(p.outputSlots.size(), 0);
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step &s = p.steps[i];
    std::string ref = stepRef(p, i);
    if (s.kernel >= p.kernelNames.size())
      invalid(ref + " names kernel #" + std::to_string(s.kernel) + " of " +
              std::to_string(p.kernelNames.size()));
    if (s.numInputs > s.args.size())
      invalid(ref + " has " + std::to_string(s.numInputs) + " inputs but only " +
              std::to_string(s.args.size()) + " arguments");
    std::set<uint32_t> reads, writes;
    for (size_t a = 0; a < s.args.size(); ++a) {
      if (s.args[a] >= p.slots.size())
        invalid(ref + ": argument " + std::to_string(a) + " names slot #" +
                std::to_string(s.args[a]) + " of " + std::to_string(p.slots.size()));
      uint32_t storage = p.slots[s.args[a]].storage;
      if (a < s.numInputs) {
        reads.insert(storage);
        continue;
      }
      SlotKind k = p.storages[storage].kind;
      if (k != SlotKind::Arena && k != SlotKind::Output)
        invalid(ref + " writes " + slotRef(p, s.args[a]) + ", a read-only " + slotKindName(k));
      if (!writes.insert(storage).second)
        invalid(ref + " writes storage #" + std::to_string(storage) + " twice");
      if (k == SlotKind::Output)
        ++outputWriters[p.storages[storage].index];
    }
    for (uint32_t w : writes)
      reads.erase(w);
    checkSortedUnique(s.reads, ref + "'s read set");
    checkSortedUnique(s.writes, ref + "'s write set");
    if (std::vector<uint32_t>(reads.begin(), reads.end()) != s.reads ||
        std::vector<uint32_t>(writes.begin(), writes.end()) != s.writes)
      invalid(ref + "'s read/write sets do not match its arguments");
  }
  for (size_t i = 0; i < outputWriters.size(); ++i)
    if (outputWriters[i] != 1)
      invalid("output #" + std::to_string(i) + " ('" + p.slots[p.outputSlots[i]].name +
              "') is written by " + std::to_string(outputWriters[i]) + " steps, not exactly one");
}

//===----------------------------------------------------------------------===//
// Serialization
//===----------------------------------------------------------------------===//

static const char kMagic[8] = {'K', 'I', 'L', 'N', 'P', 'L', 'A', 'N'};
// magic, version, reserved, payload length
static constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;

static uint64_t fnv1a(const uint8_t *data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

namespace {
class Writer {
public:
  std::vector<uint8_t> out;
  void u8(uint8_t v) { out.push_back(v); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void i64(int64_t v) { fixed(static_cast<uint64_t>(v), 8); }
  void str(const std::string &s) {
    u32(static_cast<uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  void u32s(const std::vector<uint32_t> &v) {
    u32(static_cast<uint32_t>(v.size()));
    for (uint32_t x : v)
      u32(x);
  }

private:
  // Explicit little-endian so a blob written on one host loads on any.
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
};

class Reader {
public:
  Reader(const uint8_t *p, size_t n) : p(p), n(n) {}
  uint8_t u8() { return static_cast<uint8_t>(fixed(1, "a byte")); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4, "a 32-bit field")); }
  uint64_t u64() { return fixed(8, "a 64-bit field"); }
  int64_t i64() { return static_cast<int64_t>(fixed(8, "a 64-bit field")); }
  std::string str() {
    uint32_t len = u32();
    need(len, "a string");
    std::string s(reinterpret_cast<const char *>(p + pos), len);
    pos += len;
    return s;
  }
  /// A count of items each taking at least `minBytes`: rejecting counts the
  /// remaining bytes cannot hold keeps a corrupted blob from asking for a
  /// huge allocation.
  uint32_t count(size_t minBytes, const char *what) {
    uint32_t c = u32();
    if (static_cast<uint64_t>(c) * minBytes > n - pos)
      throw Error(std::string("plan blob is corrupted: ") + what + " count " +
                  std::to_string(c) + " exceeds the remaining " + std::to_string(n - pos) +
                  " bytes");
    return c;
  }
  std::vector<uint32_t> u32s(const char *what) {
    uint32_t c = count(4, what);
    std::vector<uint32_t> v(c);
    for (auto &x : v)
      x = u32();
    return v;
  }
  size_t remaining() const { return n - pos; }

private:
  void need(size_t k, const char *what) {
    if (k > n - pos)
      throw Error(std::string("plan blob is truncated: expected ") + what + " at payload offset " +
                  std::to_string(pos));
  }
  uint64_t fixed(int k, const char *what) {
    need(k, what);
    uint64_t v = 0;
    for (int i = 0; i < k; ++i)
      v |= static_cast<uint64_t>(p[pos + i]) << (8 * i);
    pos += k;
    return v;
  }
  const uint8_t *p;
  size_t n, pos = 0;
};
} // namespace

std::vector<uint8_t> kiln::exec::serializePlan(const Plan &p) {
  Writer w;
  w.i64(p.alignment);
  w.i64(p.arenaBytes);
  w.u32(static_cast<uint32_t>(p.kernelNames.size()));
  for (const auto &k : p.kernelNames)
    w.str(k);
  w.u32(static_cast<uint32_t>(p.storages.size()));
  for (const Storage &s : p.storages) {
    w.u8(static_cast<uint8_t>(s.kind));
    w.i64(s.index);
    w.i64(s.bytes);
  }
  w.u32(static_cast<uint32_t>(p.slots.size()));
  for (const Slot &s : p.slots) {
    w.str(s.name);
    w.u32(static_cast<uint32_t>(s.shape.size()));
    for (int64_t d : s.shape)
      w.i64(d);
    w.u8(static_cast<uint8_t>(s.dtype));
    w.i64(s.bytes);
    w.u32(s.storage);
  }
  w.u32(static_cast<uint32_t>(p.steps.size()));
  for (const Step &s : p.steps) {
    w.u32(s.kernel);
    w.u32s(s.args);
    w.u32(s.numInputs);
    w.u32s(s.reads);
    w.u32s(s.writes);
    w.str(s.opName);
    w.str(s.nodeName);
  }
  w.u32(static_cast<uint32_t>(p.constants.size()));
  for (const Constant &c : p.constants) {
    w.str(c.name);
    w.u64(c.data.size());
    w.out.insert(w.out.end(), c.data.begin(), c.data.end());
  }
  w.u32s(p.inputSlots);
  w.u32s(p.paramSlots);
  w.u32s(p.outputSlots);

  Writer blob;
  blob.out.insert(blob.out.end(), kMagic, kMagic + 8);
  blob.u32(kPlanFormatVersion);
  blob.u32(0); // reserved: flags for later versions
  blob.u64(w.out.size());
  blob.out.insert(blob.out.end(), w.out.begin(), w.out.end());
  blob.u64(fnv1a(w.out.data(), w.out.size()));
  return std::move(blob.out);
}

Plan kiln::exec::deserializePlan(const uint8_t *data, size_t size) {
  if (size < kHeaderBytes || std::memcmp(data, kMagic, 8) != 0)
    throw Error("not a Kiln plan: the blob does not start with \"KILNPLAN\"");
  Reader header(data + 8, kHeaderBytes - 8);
  uint32_t version = header.u32();
  if (version != kPlanFormatVersion)
    throw Error("unsupported plan format version " + std::to_string(version) +
                " (this runtime reads version " + std::to_string(kPlanFormatVersion) + ")");
  // Reserved for flags of later versions; a version-1 reader knows none.
  if (uint32_t flags = header.u32())
    throw Error("unsupported plan flags " + std::to_string(flags) + " for format version " +
                std::to_string(version));
  uint64_t payloadLen = header.u64();
  if (payloadLen > size - kHeaderBytes || size - kHeaderBytes - payloadLen < 8)
    throw Error("plan blob is truncated: the header announces " + std::to_string(payloadLen) +
                " payload bytes plus an 8-byte checksum, " +
                std::to_string(size - kHeaderBytes) + " bytes follow");
  if (size - kHeaderBytes - payloadLen != 8)
    throw Error("plan blob has " + std::to_string(size - kHeaderBytes - payloadLen - 8) +
                " trailing bytes after the checksum");
  const uint8_t *payload = data + kHeaderBytes;
  Reader tail(payload + payloadLen, 8);
  uint64_t stored = tail.u64();
  if (stored != fnv1a(payload, payloadLen))
    throw Error("plan blob is corrupted: checksum mismatch");

  Reader r(payload, payloadLen);
  Plan p;
  p.alignment = r.i64();
  p.arenaBytes = r.i64();
  p.kernelNames.resize(r.count(4, "kernel"));
  for (auto &k : p.kernelNames)
    k = r.str();
  p.storages.resize(r.count(17, "storage"));
  for (Storage &s : p.storages) {
    s.kind = static_cast<SlotKind>(r.u8());
    s.index = r.i64();
    s.bytes = r.i64();
  }
  p.slots.resize(r.count(21, "slot"));
  for (Slot &s : p.slots) {
    s.name = r.str();
    s.shape.resize(r.count(8, "dimension"));
    for (auto &d : s.shape)
      d = r.i64();
    s.dtype = static_cast<DType>(r.u8());
    s.bytes = r.i64();
    s.storage = r.u32();
  }
  p.steps.resize(r.count(28, "step"));
  for (Step &s : p.steps) {
    s.kernel = r.u32();
    s.args = r.u32s("argument");
    s.numInputs = r.u32();
    s.reads = r.u32s("read");
    s.writes = r.u32s("write");
    s.opName = r.str();
    s.nodeName = r.str();
  }
  p.constants.resize(r.count(12, "constant"));
  for (Constant &c : p.constants) {
    c.name = r.str();
    uint64_t len = r.u64();
    if (len > r.remaining())
      throw Error("plan blob is truncated: constant '" + c.name + "' announces " +
                  std::to_string(len) + " bytes");
    c.data.resize(len);
    for (auto &b : c.data)
      b = r.u8();
  }
  p.inputSlots = r.u32s("input");
  p.paramSlots = r.u32s("param");
  p.outputSlots = r.u32s("output");
  if (r.remaining())
    throw Error("plan blob is corrupted: " + std::to_string(r.remaining()) +
                " unread payload bytes");
  validatePlan(p);
  return p;
}
