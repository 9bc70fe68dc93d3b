// The C boundary: callbacks that C libraries call never let an exception
// unwind through them.

#include "util/c_boundary.h"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

namespace regiongate {
namespace {

TEST(CBoundary, AnExceptionBecomesTheLibrarysErrorCode) {
  EXPECT_EQ(or_on_exception(-902, [] { return 0; }), 0);
  EXPECT_EQ(or_on_exception(-902, []() -> int { throw std::bad_alloc(); }), -902);
  EXPECT_EQ(or_on_exception(-902, []() -> int { throw 42; }), -902);
  static_assert(noexcept(or_on_exception(-1, [] { return 0; })));
}

TEST(CBoundary, AnExceptionWithNothingToReturnStopsTheProcessSayingWhere) {
  int ran = 0;
  fail_stop("a test", [&] { ++ran; });
  EXPECT_EQ(ran, 1);
  static_assert(noexcept(fail_stop("x", [] {})));
  EXPECT_DEATH(fail_stop("a timer", [] { throw std::runtime_error("boom"); }),
               "regiongate: fatal: exception in a timer: boom");
}

}  // namespace
}  // namespace regiongate
