#include "maps/country.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

TEST(Country, EveryIso3166CodeAndKosovo) {
  EXPECT_EQ(country_count(), 250u);  // 249 ISO 3166-1 alpha-2 codes + XK
  for (const char* code : {"IN", "CN", "BR", "US", "SG", "BV", "HM", "AQ", "XK", "ZW"}) {
    auto id = country_from_code(code);
    ASSERT_TRUE(id) << code;
    EXPECT_EQ(country_code(*id), code);
  }
  EXPECT_EQ(country_info(*country_from_code("IN")).name, "India");
}

TEST(Country, RejectsWhatIsNotACode) {
  for (const char* bad : {"", "I", "IND", "ZZ", "EU", "in", "1N", "I\n"}) {
    EXPECT_FALSE(country_from_code(bad)) << bad;
  }
  EXPECT_EQ(country_from_code_any_case("in"), country_from_code("IN"));
  EXPECT_EQ(country_from_code_any_case("Sg"), country_from_code("SG"));
  EXPECT_FALSE(country_from_code_any_case("zz"));
}

TEST(Country, GreatCircleDistances) {
  // London - Paris is about 344 km; Singapore - Mumbai about 3,900 km.
  EXPECT_NEAR(great_circle_km(51.5074, -0.1278, 48.8566, 2.3522), 344, 5);
  EXPECT_NEAR(great_circle_km(1.3521, 103.8198, 19.0760, 72.8777), 3910, 40);
  EXPECT_DOUBLE_EQ(great_circle_km(10, 20, 10, 20), 0);
  // Antipodes: half the circumference.
  EXPECT_NEAR(great_circle_km(0, 0, 0, 180), 20015, 5);
  CountryId in = *country_from_code("IN"), sg = *country_from_code("SG"),
            us = *country_from_code("US");
  EXPECT_LT(country_distance_km(in, sg), country_distance_km(in, us));
  EXPECT_DOUBLE_EQ(country_distance_km(in, sg), country_distance_km(sg, in));
}

TEST(Country, RepresentativePointsAreOnTheGlobe) {
  for (std::size_t i = 0; i < country_count(); ++i) {
    const CountryInfo& c = country_info(static_cast<CountryId>(i));
    EXPECT_GE(c.latitude, -90);
    EXPECT_LE(c.latitude, 90);
    EXPECT_GE(c.longitude, -180);
    EXPECT_LE(c.longitude, 180);
    EXPECT_FALSE(c.name.empty()) << c.code;
  }
}

}  // namespace
}  // namespace regiongate
