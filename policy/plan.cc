#include "policy/plan.h"

#include <algorithm>
#include <map>
#include <utility>

#include "policy/decision_text.h"

namespace regiongate {
namespace {

// A country's changes at one instant: (before, after) -> the services that move so.
using Moves = std::map<std::pair<std::string, std::string>, ServiceMask>;

}  // namespace

std::vector<PlanChange> plan_changes(const Policy& policy, const DataCenterMap& dcs,
                                     const DecisionTable& table, UnixSeconds from,
                                     UnixSeconds to) {
  std::vector<PlanChange> out;
  const std::size_t services = policy.services.size();
  const DataCenterMask all_up = ~DataCenterMask{0};
  for (UnixSeconds at : table.boundaries()) {
    if (at <= from || at > to) continue;
    // Countries with the same moves at this instant share them.
    std::map<Moves, CountrySet> by_moves;
    std::vector<Moves> order;
    std::map<Moves, std::pair<Decision, Decision>> examples;  // per group, per first (before, after)
    for (std::size_t c = 0; c < country_count(); ++c) {
      const auto country = static_cast<CountryId>(c);
      Moves moves;
      for (std::size_t s = 0; s < services; ++s) {
        const auto service = static_cast<ServiceId>(s);
        Decision before = table.decide(country, service, kEveryConsent, at - 1, kNoCountry, all_up);
        Decision after = table.decide(country, service, kEveryConsent, at, kNoCountry, all_up);
        std::string b = decision_text(dcs, country, before), a = decision_text(dcs, country, after);
        if (b != a) moves[{b, a}] |= ServiceMask{1} << s;
      }
      if (moves.empty()) continue;
      auto [it, added] = by_moves.try_emplace(moves, CountrySet());
      it->second.set(c);
      if (added) order.push_back(moves);
    }
    std::stable_sort(order.begin(), order.end(), [&](const Moves& a, const Moves& b) {
      return by_moves[a].count() > by_moves[b].count();
    });
    for (const Moves& moves : order) {
      const CountrySet& accounts = by_moves[moves];
      std::size_t first = 0;
      while (!accounts.test(first)) ++first;
      for (const auto& [texts, mask] : moves) {
        PlanChange change;
        change.at = at;
        change.accounts = accounts;
        change.services = mask;
        change.before = texts.first;
        change.after = texts.second;
        ServiceId s = 0;
        while (!(mask & (ServiceMask{1} << s))) ++s;
        change.before_decision =
            table.decide(static_cast<CountryId>(first), s, kEveryConsent, at - 1, kNoCountry, all_up);
        change.after_decision =
            table.decide(static_cast<CountryId>(first), s, kEveryConsent, at, kNoCountry, all_up);
        out.push_back(std::move(change));
      }
    }
  }
  return out;
}

std::string plan_table(const Policy& policy, const std::vector<PlanChange>& changes) {
  std::vector<std::vector<std::string>> lines = {{"when", "accounts", "services", "from", "to"}};
  UnixSeconds last = 0;
  for (const PlanChange& c : changes) {
    lines.push_back({c.at == last && lines.size() > 1 ? "" : format_rfc3339(c.at),
                     country_set_label(policy, c.accounts), policy.service_names(c.services),
                     c.before, c.after});
    last = c.at;
  }
  return aligned_table(lines, {"", "  ", "  ", " | ", " -> "});
}

}  // namespace regiongate
