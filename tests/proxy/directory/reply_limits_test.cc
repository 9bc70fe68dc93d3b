// What a Redis server's reply may make the reader allocate: an aggregate
// past kMaxReplyElements fails the reader as soon as its header is read,
// before any element (hiredis 0.14 would allocate it all at once).

#include "proxy/directory/reply_limits.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>

namespace regiongate {
namespace {

struct Read {
  int status;
  int error;  // the reader's, REDIS_ERR_OOM for a refused aggregate
  redisReply* reply;
};

Read read_bounded(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  bound_reply_sizes(reader);
  EXPECT_EQ(redisReaderFeed(reader, resp.data(), resp.size()), REDIS_OK);
  void* reply = nullptr;
  const int status = redisReaderGetReply(reader, &reply);
  const int error = reader->err;
  redisReaderFree(reader);
  return {status, error, static_cast<redisReply*>(reply)};
}

// RESP's header of an aggregate of `count` elements. (Appended piece by
// piece: GCC 12 warns falsely about "*" + std::to_string(n).)
std::string aggregate(int count) {
  std::string resp = "*";
  resp += std::to_string(count);
  resp += "\r\n";
  return resp;
}

std::string integers(int count) {
  std::string resp = aggregate(count);
  for (int i = 0; i < count; ++i) {
    resp += ':';
    resp += std::to_string(i);
    resp += "\r\n";
  }
  return resp;
}

TEST(ReplyLimits, AnAggregateDeclaredPastTheBoundFailsOnItsHeaderAlone) {
  // Found by the fuzzer: 11 GB asked for by these 13 bytes.
  const Read r = read_bounded("*1466890123\r\n");
  EXPECT_EQ(r.status, REDIS_ERR);
  EXPECT_EQ(r.error, REDIS_ERR_OOM);
  EXPECT_EQ(r.reply, nullptr);
  EXPECT_EQ(read_bounded(aggregate(kMaxReplyElements + 1)).status, REDIS_ERR);
}

TEST(ReplyLimits, NestedAndNegativeCountsAreBoundedToo) {
  EXPECT_EQ(read_bounded("*2\r\n:1\r\n*1000000\r\n").status, REDIS_ERR);
  EXPECT_EQ(read_bounded("*-5\r\n").status, REDIS_ERR);
  // -1 is RESP's null array, not a count.
  const Read null_array = read_bounded("*-1\r\n");
  ASSERT_EQ(null_array.status, REDIS_OK);
  ASSERT_NE(null_array.reply, nullptr);
  EXPECT_EQ(null_array.reply->type, REDIS_REPLY_NIL);
  freeReplyObject(null_array.reply);
}

TEST(ReplyLimits, RepliesUpToTheBoundAreReadWhole) {
  const Read r = read_bounded(integers(kMaxReplyElements));
  ASSERT_EQ(r.status, REDIS_OK);
  ASSERT_NE(r.reply, nullptr);
  ASSERT_EQ(r.reply->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(r.reply->elements, static_cast<std::size_t>(kMaxReplyElements));
  EXPECT_EQ(r.reply->element[kMaxReplyElements - 1]->integer, kMaxReplyElements - 1);
  freeReplyObject(r.reply);

  const Read text = read_bounded("$5\r\nhello\r\n");
  ASSERT_EQ(text.status, REDIS_OK);
  EXPECT_EQ(std::string(text.reply->str, text.reply->len), "hello");
  freeReplyObject(text.reply);
}

}  // namespace
}  // namespace regiongate
