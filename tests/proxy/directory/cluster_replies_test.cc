#include "proxy/directory/cluster_replies.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

TEST(ClusterReplies, Redirects) {
  const RedisNodeAddress from{"127.0.0.1", 7000};
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381", from);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to.authority(), "127.0.0.1:6381");
  auto ask = parse_redirect("ASK 16383 :7002", from);
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->to.authority(), "127.0.0.1:7002");
  EXPECT_FALSE(parse_redirect("MOVED 16384 127.0.0.1:1", from));
  EXPECT_FALSE(parse_redirect("MOVED 1 redis.internal:1", from));
  EXPECT_FALSE(parse_redirect("CLUSTERDOWN The cluster is down", from));
  EXPECT_FALSE(parse_redirect("ASK 12", from));
}

}  // namespace
}  // namespace regiongate
