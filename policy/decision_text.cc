#include "policy/decision_text.h"

#include <algorithm>

namespace regiongate {

std::string decision_text(const DataCenterMap& dcs, CountryId account, const Decision& d) {
  if (d.reason != DecisionReason::kAllowed && d.reason != DecisionReason::kAllDown) {
    return std::to_string(d.status()) + " " + std::string(reason_code(d.reason));
  }
  std::string home, abroad;
  int abroad_count = 0;
  for (std::size_t i = 0; i < dcs.size(); ++i) {  // by name, not by distance
    if (!(d.allowed & dc_bit(static_cast<DataCenterIndex>(i)))) continue;
    if (dcs.all[i].country == account) {
      home += (home.empty() ? "" : " ") + dcs.all[i].id;
    } else {
      abroad += (abroad.empty() ? "" : "/") + dcs.all[i].id;
      ++abroad_count;
    }
  }
  if (abroad_count > 1) abroad = "nearest of " + abroad;
  if (home.empty()) return abroad;
  if (abroad.empty()) return home;
  return home + ", then " + abroad;
}

std::string country_set_label(const Policy& policy, const CountrySet& set) {
  for (const CountryGroup& g : policy.groups) {
    if (g.countries == set) return g.name + " (" + std::to_string(set.count()) + ")";
  }
  // "rest-of-world except SG,US": the group that misses the fewest, if few.
  const CountryGroup* best = nullptr;
  std::size_t best_missing = 7;
  for (const CountryGroup& g : policy.groups) {
    std::size_t missing = (g.countries & ~set).count();
    if ((set & ~g.countries).none() && missing < best_missing && set.count() > 6) {
      best = &g;
      best_missing = missing;
    }
  }
  if (best) {
    return best->name + " except " + country_list(best->countries & ~set) + " (" +
           std::to_string(set.count()) + ")";
  }
  if (set.count() <= 6) return country_list(set);
  return country_list(set, 5);
}

std::string aligned_table(const std::vector<std::vector<std::string>>& lines,
                          const std::vector<std::string>& separators) {
  std::vector<std::size_t> width;
  for (const auto& line : lines) {
    if (width.size() < line.size()) width.resize(line.size(), 0);
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    for (std::size_t i = 0; i < lines[n].size(); ++i) {
      std::string cell = lines[n][i];
      if (i + 1 < lines[n].size()) cell.resize(width[i], ' ');
      out += (i == 0 ? "" : i < separators.size() ? separators[i] : "  ") + cell;
    }
    out += '\n';
    if (n == 0) {
      std::size_t total = 0;
      for (std::size_t w : width) total += w + 3;
      out += std::string(total, '-') + '\n';
    }
  }
  return out;
}

}  // namespace regiongate
