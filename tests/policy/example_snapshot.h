#pragma once
// The example story's snapshot (examples/regiongate.yaml), loaded once per
// test binary, for tests that decide on it.

#include <gtest/gtest.h>

#include <memory>

#include "policy/snapshot.h"

namespace regiongate {

inline const Snapshot& example_snapshot() {
  static std::shared_ptr<const Snapshot> snap = [] {
    Diagnostics diags;
    auto s = load_snapshot(REGIONGATE_SOURCE_DIR "/examples/regiongate.yaml", diags);
    EXPECT_TRUE(s) << diags.format_all();
    return s;
  }();
  return *snap;
}

}  // namespace regiongate
