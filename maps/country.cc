#include "maps/country.h"
#include <algorithm>

#include <array>
#include <cmath>

namespace regiongate {
namespace {

constexpr CountryInfo kCountries[] = {
#include "maps/country_table.inc"
};
constexpr std::size_t kCount = sizeof(kCountries) / sizeof(kCountries[0]);
static_assert(kCount < kNoCountry);

constexpr int slot(char a, char b) { return (a - 'A') * 26 + (b - 'A'); }

// 26×26 letters → id, built once at compile time.
constexpr std::array<CountryId, 26 * 26> build_index() {
  std::array<CountryId, 26 * 26> index{};
  for (auto& id : index) id = kNoCountry;
  for (std::size_t i = 0; i < kCount; ++i) {
    index[slot(kCountries[i].code[0], kCountries[i].code[1])] = static_cast<CountryId>(i);
  }
  return index;
}
constexpr std::array<CountryId, 26 * 26> kIndex = build_index();

constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius
constexpr double kPi = 3.14159265358979323846;

}  // namespace

std::size_t country_count() { return kCount; }

std::optional<CountryId> country_from_code(std::string_view code) {
  if (code.size() != 2) return std::nullopt;
  char a = code[0], b = code[1];
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return std::nullopt;
  CountryId id = kIndex[slot(a, b)];
  if (id == kNoCountry) return std::nullopt;
  return id;
}

std::optional<CountryId> country_from_code_any_case(std::string_view code) {
  if (code.size() != 2) return std::nullopt;
  auto upper = [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; };
  char buf[2] = {upper(code[0]), upper(code[1])};
  return country_from_code(std::string_view(buf, 2));
}

const CountryInfo& country_info(CountryId id) { return kCountries[id]; }

double great_circle_km(double lat1, double lon1, double lat2, double lon2) {
  // Haversine: well-conditioned for small distances, accurate enough for ranking.
  auto rad = [](double deg) { return deg * kPi / 180.0; };
  double dlat = rad(lat2 - lat1);
  double dlon = rad(lon2 - lon1);
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(rad(lat1)) * std::cos(rad(lat2)) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

double country_distance_km(CountryId a, CountryId b) {
  const CountryInfo& x = kCountries[a];
  const CountryInfo& y = kCountries[b];
  return great_circle_km(x.latitude, x.longitude, y.latitude, y.longitude);
}

}  // namespace regiongate
