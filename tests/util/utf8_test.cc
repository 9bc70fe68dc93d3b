// Well-formed UTF-8 as Unicode's Table 3-7 defines it: what the
// configuration reader refuses and the JSON writer replaces.

#include "util/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace regiongate {
namespace {

constexpr std::size_t kValid = std::string_view::npos;

TEST(Utf8, WellFormedTextIsValid) {
  EXPECT_EQ(find_invalid_utf8(""), kValid);
  EXPECT_EQ(find_invalid_utf8("plain ASCII, even \x7f and \x01"), kValid);
  EXPECT_EQ(find_invalid_utf8(std::string("a\0b", 3)), kValid);
  EXPECT_EQ(find_invalid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb1 S\xc3\xa3o Paulo"),
            kValid);
  EXPECT_EQ(find_invalid_utf8("\xed\x9f\xbf"), kValid);      // U+D7FF, before the surrogates
  EXPECT_EQ(find_invalid_utf8("\xee\x80\x80"), kValid);      // U+E000, after them
  EXPECT_EQ(find_invalid_utf8("\xf4\x8f\xbf\xbf"), kValid);  // U+10FFFF, the last
}

TEST(Utf8, TheFirstBadByteIsFound) {
  EXPECT_EQ(find_invalid_utf8("caf\xe9"), 3u);           // Latin-1
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);            // a lone continuation byte
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xc1\xbf"), 0u);          // overlong
  EXPECT_EQ(find_invalid_utf8("\xe0\x80\xaf"), 0u);      // overlong, three bytes
  EXPECT_EQ(find_invalid_utf8("\xf0\x80\x80\xaf"), 0u);  // overlong, four bytes
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);     // a surrogate (U+D800)
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xf5\x80\x80\x80"), 0u);
  EXPECT_EQ(find_invalid_utf8("ok \xe2\x82"), 3u);  // truncated at the end
  EXPECT_EQ(find_invalid_utf8("\xe2\x82z"), 0u);    // cut short by ASCII
  EXPECT_EQ(find_invalid_utf8("\xff"), 0u);
  EXPECT_EQ(find_invalid_utf8("\xc3\xa9\xfe"), 2u);  // after a good sequence
}

TEST(Utf8, SequenceLengths) {
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9", 0), 2u);
  EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac", 0), 3u);
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x93\xb1", 0), 4u);
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x93", 0), 0u);
  EXPECT_EQ(utf8_sequence_length("\x80", 0), 0u);
}

}  // namespace
}  // namespace regiongate
