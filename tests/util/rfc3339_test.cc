#include "util/rfc3339.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

TEST(Rfc3339, ParsesUtcOffsetsAndDates) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2014-10-31T00:00:00Z"), 1414713600);
  EXPECT_EQ(parse_rfc3339("2014-10-31"), 1414713600);
  EXPECT_EQ(parse_rfc3339("2014-10-31T05:30:00+05:30"), 1414713600);
  EXPECT_EQ(parse_rfc3339("2014-10-30T20:00:00-04:00"), 1414713600);
  EXPECT_EQ(parse_rfc3339("2014-10-31t00:00:00z"), 1414713600);
  EXPECT_EQ(parse_rfc3339("2014-10-31 00:00:00Z"), 1414713600);
  EXPECT_EQ(parse_rfc3339("2014-10-31T00:00:00.999Z"), 1414713600);
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), -1);
}

TEST(Rfc3339, RejectsWhatIsNotRfc3339) {
  for (const char* bad : {"", "2014", "2014-10-31T00:00:00", "2014-13-01", "2014-02-30",
                          "2014-10-31T24:00:00Z", "2014-1-31", "2014-10-31T00:00:00+0530",
                          "2014-10-31T00:00:00 +05:30", "2014-10-31T00:00Z", "yesterday",
                          "2014-10-31Tjunk", "2014-10-31T00:00:00Zjunk", "2014-10-31x"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339, Formats) {
  EXPECT_EQ(format_rfc3339(1414713600), "2014-10-31T00:00:00Z");
  EXPECT_EQ(format_rfc3339_short(1414713600), "2014-10-31");
  char buf[32];
  std::size_t n = format_rfc3339_into(1414713601, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n), "2014-10-31T00:00:01Z");
  EXPECT_EQ(format_rfc3339_into(1414713601, buf, 20), 0u);
  EXPECT_EQ(format_rfc3339_short(1414713601), "2014-10-31T00:00:01Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(-86400 * 365)), -86400 * 365);
}

}  // namespace
}  // namespace regiongate
