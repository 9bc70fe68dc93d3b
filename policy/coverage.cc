#include "policy/coverage.h"

#include <algorithm>
#include <map>

#include "policy/decision_text.h"

namespace regiongate {
std::string coverage_table(const Policy& policy, const DataCenterMap& dcs,
                           const DecisionTable& table) {
  const std::size_t services = policy.services.size();
  // cells[c][s][k] for every interval.
  std::vector<std::vector<std::vector<std::string>>> cells(country_count());
  for (std::size_t c = 0; c < country_count(); ++c) {
    cells[c].resize(services);
    for (std::size_t s = 0; s < services; ++s) {
      for (std::size_t k = 0; k < table.interval_count(); ++k) {
        Decision d = table.decide(static_cast<CountryId>(c), static_cast<ServiceId>(s), kEveryConsent,
                                  table.interval_window(k).from, kNoCountry, ~DataCenterMask{0});
        cells[c][s].push_back(decision_text(dcs, static_cast<CountryId>(c), d));
      }
    }
  }
  // Phases: merge an interval into the previous one when no cell changes.
  std::vector<TimeWindow> phases;
  std::vector<std::size_t> phase_start;
  for (std::size_t k = 0; k < table.interval_count(); ++k) {
    bool same = k > 0;
    for (std::size_t c = 0; same && c < country_count(); ++c) {
      for (std::size_t s = 0; same && s < services; ++s) same = cells[c][s][k] == cells[c][s][k - 1];
    }
    if (same) {
      phases.back().until = table.interval_window(k).until;
    } else {
      phases.push_back(table.interval_window(k));
      phase_start.push_back(k);
    }
  }
  // Rows: per country, services with the same cells share a row; countries
  // with the same set of rows share them.
  using Rows = std::vector<std::pair<std::string, std::vector<std::string>>>;  // services, cells
  std::map<Rows, CountrySet> by_rows;
  std::vector<Rows> order;
  for (std::size_t c = 0; c < country_count(); ++c) {
    std::map<std::vector<std::string>, ServiceMask> by_cells;
    for (std::size_t s = 0; s < services; ++s) {
      std::vector<std::string> row;
      for (std::size_t k : phase_start) row.push_back(cells[c][s][k]);
      by_cells[row] |= ServiceMask{1} << s;
    }
    Rows rows;
    for (const auto& [row, mask] : by_cells) rows.push_back({policy.service_names(mask), row});
    std::sort(rows.begin(), rows.end());
    auto [it, added] = by_rows.try_emplace(rows, CountrySet());
    it->second.set(c);
    if (added) order.push_back(rows);
  }
  // Lay out: label columns, then one column per phase.
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header = {"accounts", "services"};
  for (const TimeWindow& w : phases) header.push_back(w.describe());
  lines.push_back(header);
  // Countries that some rule serves first, then the rest; within, by size.
  std::stable_sort(order.begin(), order.end(), [&](const Rows& a, const Rows& b) {
    return by_rows[a].count() < by_rows[b].count();
  });
  for (const Rows& rows : order) {
    std::string label = country_set_label(policy, by_rows[rows]);
    for (const auto& [svc, row] : rows) {
      std::vector<std::string> line = {label, svc};
      line.insert(line.end(), row.begin(), row.end());
      lines.push_back(line);
      label = "";
    }
  }
  return aligned_table(lines, {"", "  ", " | "});
}

}  // namespace regiongate
