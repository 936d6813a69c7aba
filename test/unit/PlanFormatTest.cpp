//===- PlanFormatTest.cpp - Plan validation and serialization -------------===//

#include "runtime/exec/Plan.h"

#include "kiln/Error.h"

#include <gtest/gtest.h>

#include <functional>

using namespace kiln;
using namespace kiln::exec;

namespace {

/// x (input, 2x3 f32) → relu → t (arena @0) → add(t, c) → y (output);
/// w is a parameter read by the second step too; c a constant.
Plan smallPlan() {
  Plan p;
  p.arenaBytes = 64;
  p.kernelNames = {"kiln_kernel_0", "kiln_kernel_1"};
  p.storages = {{SlotKind::Arena, 0, 64},
                {SlotKind::Input, 0, 24},
                {SlotKind::Param, 0, 24},
                {SlotKind::Constant, 0, 24},
                {SlotKind::Output, 0, 24}};
  p.slots = {{"t", {2, 3}, DType::F32, 24, 0},
             {"x", {2, 3}, DType::F32, 24, 1},
             {"w", {2, 3}, DType::F32, 24, 2},
             {"c", {2, 3}, DType::F32, 24, 3},
             {"y", {2, 3}, DType::F32, 24, 4}};
  p.steps = {{0, {1, 0}, 1, {1}, {0}, "graph.activation", "relu0"},
             {1, {0, 2, 3, 4}, 3, {0, 2, 3}, {4}, "graph.add_n", "add0"}};
  p.constants = {{"c", std::vector<uint8_t>(24, 7)}};
  p.inputSlots = {1};
  p.paramSlots = {2};
  p.outputSlots = {4};
  return p;
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

void expectSame(const Plan &a, const Plan &b) {
  EXPECT_EQ(a.alignment, b.alignment);
  EXPECT_EQ(a.arenaBytes, b.arenaBytes);
  EXPECT_EQ(a.kernelNames, b.kernelNames);
  ASSERT_EQ(a.storages.size(), b.storages.size());
  for (size_t i = 0; i < a.storages.size(); ++i) {
    EXPECT_EQ(a.storages[i].kind, b.storages[i].kind);
    EXPECT_EQ(a.storages[i].index, b.storages[i].index);
    EXPECT_EQ(a.storages[i].bytes, b.storages[i].bytes);
  }
  ASSERT_EQ(a.slots.size(), b.slots.size());
  for (size_t i = 0; i < a.slots.size(); ++i) {
    EXPECT_EQ(a.slots[i].name, b.slots[i].name);
    EXPECT_EQ(a.slots[i].shape, b.slots[i].shape);
    EXPECT_EQ(a.slots[i].dtype, b.slots[i].dtype);
    EXPECT_EQ(a.slots[i].bytes, b.slots[i].bytes);
    EXPECT_EQ(a.slots[i].storage, b.slots[i].storage);
  }
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) {
    EXPECT_EQ(a.steps[i].kernel, b.steps[i].kernel);
    EXPECT_EQ(a.steps[i].args, b.steps[i].args);
    EXPECT_EQ(a.steps[i].numInputs, b.steps[i].numInputs);
    EXPECT_EQ(a.steps[i].reads, b.steps[i].reads);
    EXPECT_EQ(a.steps[i].writes, b.steps[i].writes);
    EXPECT_EQ(a.steps[i].opName, b.steps[i].opName);
    EXPECT_EQ(a.steps[i].nodeName, b.steps[i].nodeName);
  }
  ASSERT_EQ(a.constants.size(), b.constants.size());
  for (size_t i = 0; i < a.constants.size(); ++i) {
    EXPECT_EQ(a.constants[i].name, b.constants[i].name);
    EXPECT_EQ(a.constants[i].data, b.constants[i].data);
  }
  EXPECT_EQ(a.inputSlots, b.inputSlots);
  EXPECT_EQ(a.paramSlots, b.paramSlots);
  EXPECT_EQ(a.outputSlots, b.outputSlots);
}

} // namespace

TEST(PlanFormat, SmallPlanIsValid) { EXPECT_NO_THROW(validatePlan(smallPlan())); }

TEST(PlanFormat, RoundTrip) {
  Plan p = smallPlan();
  p.slots[0].dtype = DType::F32;
  std::vector<uint8_t> blob = serializePlan(p);
  Plan q = deserializePlan(blob);
  expectSame(p, q);
  EXPECT_EQ(serializePlan(q), blob);
}

TEST(PlanFormat, RoundTripEveryDType) {
  for (unsigned d = 0; d < kNumDTypes; ++d) {
    Plan p = smallPlan();
    DType t = static_cast<DType>(d);
    for (Slot &s : p.slots) {
      s.dtype = t;
      s.bytes = 6 * dtypeBytes(t);
    }
    for (size_t i = 1; i < p.storages.size(); ++i)
      p.storages[i].bytes = 6 * dtypeBytes(t);
    p.constants[0].data.assign(6 * dtypeBytes(t), 1);
    expectSame(p, deserializePlan(serializePlan(p)));
  }
}

TEST(PlanFormat, EmptyPlanRoundTrips) {
  Plan p;
  expectSame(p, deserializePlan(serializePlan(p)));
}

TEST(PlanFormat, BadMagicVersionAndLength) {
  std::vector<uint8_t> blob = serializePlan(smallPlan());
  auto bad = blob;
  bad[0] = 'X';
  EXPECT_NE(errorOf([&] { deserializePlan(bad); }).find("not a Kiln plan"), std::string::npos);
  bad = blob;
  bad[8] = 99; // version field
  EXPECT_NE(errorOf([&] { deserializePlan(bad); }).find("unsupported plan format version 99"),
            std::string::npos);
  bad = blob;
  bad.push_back(0);
  EXPECT_NE(errorOf([&] { deserializePlan(bad); }).find("trailing"), std::string::npos);
  EXPECT_NE(errorOf([&] { deserializePlan(nullptr, 0); }).find("not a Kiln plan"),
            std::string::npos);
}

TEST(PlanFormat, EveryTruncationFailsCleanly) {
  std::vector<uint8_t> blob = serializePlan(smallPlan());
  for (size_t n = 0; n < blob.size(); ++n) {
    std::string msg = errorOf([&] { deserializePlan(blob.data(), n); });
    EXPECT_FALSE(msg.empty()) << "a blob cut to " << n << " bytes was accepted";
  }
}

TEST(PlanFormat, EveryFlippedByteIsDetected) {
  std::vector<uint8_t> blob = serializePlan(smallPlan());
  for (size_t i = 0; i < blob.size(); ++i) {
    auto bad = blob;
    bad[i] ^= 0x5a;
    std::string msg = errorOf([&] { deserializePlan(bad); });
    EXPECT_FALSE(msg.empty()) << "flipping byte " << i << " went unnoticed";
  }
  auto bad = blob;
  bad[40] ^= 1; // inside the payload
  EXPECT_NE(errorOf([&] { deserializePlan(bad); }).find("checksum mismatch"), std::string::npos);
}

// Contents that pass the checksum but break an invariant: the loader's
// validation names the problem.
TEST(PlanFormat, InvalidContentsAreNamed) {
  struct Case {
    const char *expect;
    std::function<void(Plan &)> mutate;
  };
  std::vector<Case> cases = {
      {"lie outside the arena", [](Plan &p) { p.storages[0].index = 64; }},
      {"not 64-byte aligned", [](Plan &p) { p.storages[0].index = 8; }},
      {"not a multiple of the alignment", [](Plan &p) { p.arenaBytes = 65; }},
      {"needs 24", [](Plan &p) { p.slots[1].bytes = 20; }},
      {"unknown dtype", [](Plan &p) { p.slots[1].dtype = static_cast<DType>(77); }},
      {"unknown kind", [](Plan &p) { p.storages[1].kind = static_cast<SlotKind>(9); }},
      {"names slot #9", [](Plan &p) { p.steps[0].args[0] = 9; }},
      {"names kernel #5", [](Plan &p) { p.steps[1].kernel = 5; }},
      {"read-only input", [](Plan &p) {
         p.steps[0].args = {0, 1};
         p.steps[0].reads = {0};
         p.steps[0].writes = {1};
       }},
      {"do not match its arguments", [](Plan &p) { p.steps[1].reads = {0, 2}; }},
      {"written by 0 steps", [](Plan &p) {
         p.steps.pop_back();
       }},
      {"input #0 does not exist", [](Plan &p) {
         p.inputSlots.clear();
       }},
      {"owned by two storages", [](Plan &p) {
         p.storages.push_back({SlotKind::Param, 0, 24});
       }},
      {"constant data has 3 bytes", [](Plan &p) { p.constants[0].data.resize(3); }},
      {"not a power of two", [](Plan &p) { p.alignment = 48; }},
      {"overlap", [](Plan &p) {
         p.arenaBytes = 128;
         p.storages[0].bytes = 128;
         p.storages.push_back({SlotKind::Arena, 64, 64});
       }},
  };
  for (const Case &c : cases) {
    Plan p = smallPlan();
    c.mutate(p);
    std::string direct = errorOf([&] { validatePlan(p); });
    EXPECT_NE(direct.find(c.expect), std::string::npos)
        << "expected '" << c.expect << "', got '" << direct << "'";
    std::string loaded = errorOf([&] { deserializePlan(serializePlan(p)); });
    EXPECT_EQ(loaded, direct);
    EXPECT_EQ(loaded.rfind("invalid plan: ", 0), 0u) << loaded;
  }
}
