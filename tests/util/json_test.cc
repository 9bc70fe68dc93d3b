// The one JSON string writer: valid JSON (RFC 8259) whatever the bytes.

#include "util/json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace regiongate {
namespace {

TEST(JsonString, PlainTextIsCopiedQuoted) {
  EXPECT_EQ(json_string("in-ravi"), "\"in-ravi\"");
  EXPECT_EQ(json_string(""), "\"\"");
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("a\nb\rc\td"), R"("a\nb\rc\td")");
  EXPECT_EQ(json_string(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(json_string("\x01\x1f\x7f"), R"("\u0001\u001f\u007f")");
}

TEST(JsonString, KeepsWellFormedUtf8) {
  EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb1"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb1\"");
}

TEST(JsonString, ReplacesWhatIsNotUtf8) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(json_string("\x80"), "\"" + r + "\"");
  EXPECT_EQ(json_string("a\xc0\xaf" "b"), "\"a" + r + r + "b\"");   // overlong '/'
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"" + r + r + r + "\"");  // a surrogate
  EXPECT_EQ(json_string("\xe2\x82"), "\"" + r + r + "\"");          // truncated
  EXPECT_EQ(json_string("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // past U+10FFFF
  EXPECT_EQ(json_string("\xff"), "\"" + r + "\"");
}

// Every byte value, alone and in runs, parses with a strict JSON parser.
TEST(JsonString, AnyBytesParse) {
  std::string all;
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b));
    EXPECT_NO_THROW(nlohmann::json::parse(json_string(one))) << b;
    all += one;
  }
  EXPECT_NO_THROW(nlohmann::json::parse(json_string(all + all)));
  // Text that was valid comes back as it was.
  EXPECT_EQ(nlohmann::json::parse(json_string("a\"\\\n\x01\xc3\xa9")).get<std::string>(),
            "a\"\\\n\x01\xc3\xa9");
}

}  // namespace
}  // namespace regiongate

namespace regiongate {
namespace {

// The plain-text check reads eight (SWAR) or sixteen (SSE2) bytes at a
// time, the last block overlapping: every byte value, at every position of
// strings shorter than, equal to and between those widths, must be escaped
// exactly as it is alone.
TEST(JsonString, EveryByteAtEveryPositionIsSeenByTheWideCheck) {
  for (std::size_t length : {3, 8, 15, 16, 17, 21, 32, 47}) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(length, 'a');
        s[at] = static_cast<char>(b);
        const std::string alone = json_string(std::string(1, static_cast<char>(b)));
        std::string want = "\"";
        want.append(at, 'a');
        want.append(alone, 1, alone.size() - 2);
        want.append(length - at - 1, 'a');
        want += '"';
        ASSERT_EQ(json_string(s), want) << "byte " << b << " at " << at << " of " << length;
      }
    }
  }
}

}  // namespace
}  // namespace regiongate
