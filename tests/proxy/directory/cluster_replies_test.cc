#include "proxy/directory/cluster_replies.h"

#include <gtest/gtest.h>
#include <hiredis/read.h>

#include <string>

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

// A reply as hiredis reads it off the wire.
redisReply* read_reply(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  EXPECT_EQ(redisReaderFeed(reader, resp.data(), resp.size()), REDIS_OK);
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  return static_cast<redisReply*>(reply);
}

std::string range(int first, int last, const std::string& host, int port) {
  return "*3\r\n:" + std::to_string(first) + "\r\n:" + std::to_string(last) + "\r\n*2\r\n$" +
         std::to_string(host.size()) + "\r\n" + host + "\r\n:" + std::to_string(port) + "\r\n";
}

// Found by tests/fuzz/redis_reply_fuzzer.cc: a master's "address" was taken
// as it came, a NUL byte or a hostname included, and a name would have been
// resolved by a blocking getaddrinfo() on the worker's thread.
TEST(ClusterReplies, OnlyIpLiteralMastersAreKept) {
  const RedisNodeAddress asked{"127.0.0.1", 7000};
  redisReply* reply = read_reply("*5\r\n" + range(0, 99, "127.0.0.1", 7001) +
                                 range(100, 199, "redis-2.internal", 7002) + range(200, 299, "?", 7003) +
                                 range(300, 399, std::string("12\0\0\0\0" "0.1", 8), 7004) +
                                 range(400, 16383, "", 7005));
  ASSERT_NE(reply, nullptr);
  auto ranges = parse_cluster_slots(*reply, asked);
  freeReplyObject(reply);
  ASSERT_TRUE(ranges);
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ((*ranges)[0].master.authority(), "127.0.0.1:7001");
  EXPECT_EQ((*ranges)[1].first, 400);
  EXPECT_EQ((*ranges)[1].master.authority(), "127.0.0.1:7005");  // empty: the node asked
}

}  // namespace
}  // namespace regiongate
