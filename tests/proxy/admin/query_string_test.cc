#include "proxy/admin/query_string.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

TEST(QueryString, DecodesPairsAsFormsEncodeThem) {
  auto q = parse_query("account=in-ravi&path=%2Fshop%2Fcart+now&&flag&empty=");
  ASSERT_TRUE(q);
  QueryPairs want = {{"account", "in-ravi"}, {"path", "/shop/cart now"}, {"flag", ""}, {"empty", ""}};
  EXPECT_EQ(*q, want);
  EXPECT_EQ(parse_query("")->size(), 0u);
  EXPECT_EQ((*parse_query("a=%41%62"))[0].second, "Ab");
}

TEST(QueryString, AMalformedEscapeIsRefused) {
  EXPECT_FALSE(parse_query("a=%"));
  EXPECT_FALSE(parse_query("a=%4"));
  EXPECT_FALSE(parse_query("a=%zz"));
  EXPECT_FALSE(parse_query("%g1=b"));
}

}  // namespace
}  // namespace regiongate
