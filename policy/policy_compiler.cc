// Policy → DecisionTable, with the validation that needs every rule at once.

#include <algorithm>
#include <map>
#include <set>

#include "policy/decision_table.h"

namespace regiongate {
namespace {

std::string where(const SourceMark& m) {
  return m.file + ':' + std::to_string(m.line) + ':' + std::to_string(m.column);
}

std::string rule_name(const Rule& r) { return "rule '" + r.id + "'"; }

std::string describe_answer(const Rule& r) {
  if (r.action == RuleAction::kDeny) return "denies (" + r.deny_reason + ")";
  return "allows " + r.allow_text;
}

}  // namespace

class PolicyCompiler {
 public:
  // (country, service, interval) cells: at 34 bytes each while compiling,
  // about 70 MB at most (and 4 MB once compiled).
  static constexpr std::size_t kMaxCells = 2'000'000;

  PolicyCompiler(const Policy& policy, const DataCenterMap& dcs, Diagnostics& diags)
      : policy_(policy), dcs_(dcs), diags_(diags) {}

  DecisionTable run() {
    t_.service_count_ = policy_.services.size();
    for (const Service& s : policy_.services) t_.service_consent_.push_back(s.consent);
    t_.dc_count_ = dcs_.size();
    collect_boundaries();
    build_geography();
    const std::size_t cells = country_count() * t_.service_count_ * t_.interval_count();
    if (cells > kMaxCells) {
      // Checked before anything is allocated: a policy with thousands of
      // dates must not take the gateway's memory down with it.
      diags_.error(SourceMark{policy_.file, 0, 0},
                   "the policy's " + std::to_string(t_.boundaries_.size()) + " distinct dates and " +
                       std::to_string(t_.service_count_) + " services make a decision table of " +
                       std::to_string(cells) + " cells, more than " + std::to_string(kMaxCells) +
                       ": use fewer dates (rules that change on the same day share one)");
      return DecisionTable();
    }
    cell_rule_.assign(cells, kNoRule);
    forbidden_.assign(cells, CountrySet());
    t_.rule_cells_.assign(policy_.rules.size(), 0);
    overlapping_.assign(policy_.rules.size(), false);
    fill_rules();
    check_never_conflicts();
    apply_never();
    build_outcomes();
    check_reachability();
    warn_gaps();
    return std::move(t_);
  }

 private:
  // Where a rule's data may go for one account country, to compare two rules.
  struct Answer {
    RuleAction action;
    CountrySet countries;
    DataCenterMask datacenters;
    std::string_view reason;
    bool operator==(const Answer&) const = default;
  };

  Answer answer(const Rule& r, CountryId c) const {
    Answer a{r.action, r.allow_countries, r.allow_datacenters, r.deny_reason};
    if (r.allow_in_country) a.countries.set(c);
    return a;
  }

  DataCenterMask datacenters_in(const CountrySet& set) const {
    DataCenterMask mask = 0;
    for (std::size_t i = 0; i < dcs_.size(); ++i) {
      if (dcs_.all[i].country != kNoCountry && set.test(dcs_.all[i].country)) mask |= dc_bit(i);
    }
    return mask;
  }

  // The intervals [first, last] that make up `w` (its ends are boundaries).
  std::pair<std::size_t, std::size_t> intervals(const TimeWindow& w) const {
    std::size_t first = w.from == kBeginningOfTime ? 0 : t_.interval_of(w.from);
    std::size_t last = w.until == kEndOfTime ? t_.interval_count() - 1 : t_.interval_of(w.until) - 1;
    return {first, last};
  }

  void collect_boundaries() {
    std::set<UnixSeconds> set;
    auto add = [&](const TimeWindow& w) {
      if (w.from != kBeginningOfTime) set.insert(w.from);
      if (w.until != kEndOfTime) set.insert(w.until);
    };
    for (const Rule& r : policy_.rules) add(r.window);
    for (const NeverRule& n : policy_.never) add(n.window);
    t_.boundaries_.assign(set.begin(), set.end());
  }

  void build_geography() {
    const std::size_t n = country_count();
    t_.in_country_.resize(n);
    for (std::size_t c = 0; c < n; ++c) t_.in_country_[c] = dcs_.in_country(static_cast<CountryId>(c));
    t_.nearest_.resize(n * dcs_.size());
    std::vector<std::pair<double, DataCenterIndex>> by_distance(dcs_.size());
    for (std::size_t c = 0; c < n; ++c) {
      const CountryInfo& from = country_info(static_cast<CountryId>(c));
      for (std::size_t i = 0; i < dcs_.size(); ++i) {
        const DataCenter& dc = dcs_.all[i];
        by_distance[i] = {great_circle_km(from.latitude, from.longitude, dc.latitude, dc.longitude),
                          static_cast<DataCenterIndex>(i)};
      }
      // Ties (two sites in one city) keep file order.
      std::stable_sort(by_distance.begin(), by_distance.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t i = 0; i < dcs_.size(); ++i) t_.nearest_[c * dcs_.size() + i] = by_distance[i].second;
    }
  }

  void fill_rules() {
    std::set<std::pair<std::size_t, std::size_t>> reported;
    for (std::size_t ri = 0; ri < policy_.rules.size(); ++ri) {
      const Rule& r = policy_.rules[ri];
      if (!r.complete) continue;
      auto [first, last] = intervals(r.window);
      for (std::size_t c = 0; c < country_count(); ++c) {
        if (!r.accounts.test(c)) continue;
        for (std::size_t s = 0; s < t_.service_count_; ++s) {
          if (!(r.services & (ServiceMask{1} << s))) continue;
          for (std::size_t k = first; k <= last; ++k) {
            std::int16_t& cell = cell_rule_[t_.cell_index(c, s, k)];
            if (cell == kNoRule) {
              cell = static_cast<std::int16_t>(ri);
              ++t_.rule_cells_[ri];
              continue;
            }
            const Rule& earlier = policy_.rules[cell];
            if (answer(earlier, c) == answer(r, c)) continue;
            overlapping_[ri] = true;
            if (reported.insert({static_cast<std::size_t>(cell), ri}).second) {
              report_overlap(earlier, r, static_cast<CountryId>(c), static_cast<ServiceId>(s), k);
            }
          }
        }
      }
    }
  }

  void report_overlap(const Rule& a, const Rule& b, CountryId c, ServiceId s, std::size_t k) {
    diags_.error(b.mark, rule_name(b) + " overlaps " + rule_name(a) + " (" + where(a.mark) +
                             ") with a different answer, e.g. for " +
                             std::string(country_code(c)) + " accounts, service " +
                             policy_.services[s].name + ", " + t_.interval_window(k).describe() +
                             ": '" + a.id + "' " + describe_answer(a) + ", '" + b.id + "' " +
                             describe_answer(b));
  }

  void check_never_conflicts() {
    for (const Rule& r : policy_.rules) {
      if (r.action != RuleAction::kAllow || !r.complete) continue;
      for (const NeverRule& n : policy_.never) {
        if (!n.complete) continue;
        CountrySet accounts = r.accounts & n.accounts;
        if (accounts.none() || !(r.services & n.services) || !r.window.overlaps(n.window)) continue;
        CountrySet bad = r.allow_countries & n.to;
        for (std::size_t i = 0; i < dcs_.size(); ++i) {
          const DataCenter& dc = dcs_.all[i];
          if ((r.allow_datacenters & dc_bit(i)) && dc.country != kNoCountry && n.to.test(dc.country)) {
            bad.set(dc.country);
          }
        }
        if (r.allow_in_country) bad |= accounts & n.to;
        if (bad.none()) continue;
        diags_.error(r.mark, rule_name(r) + " allows data of " + country_list(accounts) +
                                 " accounts to go to " + country_list(bad) + " (" +
                                 policy_.service_names(r.services & n.services) + ", " +
                                 r.window.intersect(n.window).describe() + "), which never '" +
                                 n.id + "' (" + where(n.mark) + ") forbids");
      }
    }
  }

  void apply_never() {
    for (const NeverRule& n : policy_.never) {
      // An unreadable `never` still forbids what it could be read to forbid.
      if (n.window.from >= n.window.until) continue;
      auto [first, last] = intervals(n.window);
      for (std::size_t c = 0; c < country_count(); ++c) {
        if (!n.accounts.test(c)) continue;
        for (std::size_t s = 0; s < t_.service_count_; ++s) {
          if (!(n.services & (ServiceMask{1} << s))) continue;
          for (std::size_t k = first; k <= last; ++k) forbidden_[t_.cell_index(c, s, k)] |= n.to;
        }
      }
    }
  }

  void build_outcomes() {
    std::map<std::tuple<int, int, DataCenterMask>, std::uint16_t> interned;
    t_.cells_.resize(cell_rule_.size());
    for (std::size_t c = 0; c < country_count(); ++c) {
      for (std::size_t s = 0; s < t_.service_count_; ++s) {
        for (std::size_t k = 0; k < t_.interval_count(); ++k) {
          std::size_t i = t_.cell_index(c, s, k);
          DecisionTable::Outcome o = outcome_for(static_cast<CountryId>(c), i);
          auto key = std::make_tuple(static_cast<int>(o.reason), static_cast<int>(o.rule), o.allowed);
          if (t_.outcomes_.size() > 0xffff && !interned.count(key)) {
            diags_.error(SourceMark{policy_.file, 0, 0},
                         "the policy has more than 65,536 distinct decisions (rule × where its "
                         "data may go); split fewer rules by country");
            return;
          }
          auto [it, added] = interned.try_emplace(key, static_cast<std::uint16_t>(t_.outcomes_.size()));
          if (added) t_.outcomes_.push_back(o);
          t_.cells_[i] = it->second;
        }
      }
    }
  }

  DecisionTable::Outcome outcome_for(CountryId c, std::size_t cell) const {
    DecisionTable::Outcome o;
    o.rule = cell_rule_[cell];
    if (o.rule == kNoRule) return o;  // kNoRule
    const Rule& r = policy_.rules[o.rule];
    if (r.action == RuleAction::kDeny) {
      o.reason = DecisionReason::kDeniedByRule;
      return o;
    }
    Answer a = answer(r, c);
    // `never` wins even over a rule validation let through: defence in depth.
    o.allowed = (datacenters_in(a.countries) | a.datacenters) & ~datacenters_in(forbidden_[cell]);
    o.reason = o.allowed ? DecisionReason::kAllowed : DecisionReason::kNoDataCenter;
    return o;
  }

  void check_reachability() {
    for (std::size_t ri = 0; ri < policy_.rules.size(); ++ri) {
      const Rule& r = policy_.rules[ri];
      // An overlap already reported says more than "unreachable" would.
      if (t_.rule_cells_[ri] > 0 || !r.complete || overlapping_[ri]) continue;
      std::string why;
      if (r.accounts.none()) {
        why = "it names no account country";
      } else if (r.services == 0) {
        why = "it names no service";
      } else {
        why = "every request it covers is already decided the same way by rules above it";
      }
      diags_.error(r.mark, rule_name(r) + " can never apply: " + why);
    }
  }

  // One warning per (reason, rule, interval run) listing the countries left
  // with no data centre, so a policy with gaps reads as a short list.
  void warn_gaps() {
    struct Gap {
      CountrySet countries;
      ServiceMask services = 0;
    };
    std::map<std::tuple<int, int, std::size_t>, Gap> gaps;
    for (std::size_t c = 0; c < country_count(); ++c) {
      for (std::size_t s = 0; s < t_.service_count_; ++s) {
        for (std::size_t k = 0; k < t_.interval_count(); ++k) {
          const auto& o = t_.outcome(static_cast<CountryId>(c), static_cast<ServiceId>(s), k);
          if (o.reason != DecisionReason::kNoRule && o.reason != DecisionReason::kNoDataCenter) continue;
          Gap& g = gaps[{static_cast<int>(o.reason), o.rule, k}];
          g.countries.set(c);
          g.services |= ServiceMask{1} << s;
        }
      }
    }
    for (const auto& [key, gap] : gaps) {
      auto [reason, rule, k] = key;
      std::string what = country_list(gap.countries) + " (" + policy_.service_names(gap.services) +
                         ", " + t_.interval_window(k).describe() + ")";
      if (reason == static_cast<int>(DecisionReason::kNoRule)) {
        diags_.warning({policy_.file, 0, 0},
                       "no rule covers accounts of " + what + ": they are refused with 451");
      } else {
        const Rule& r = policy_.rules[rule];
        diags_.warning(r.mark, rule_name(r) + " leaves accounts of " + what +
                                   " with no data centre (it allows " + r.allow_text +
                                   "): they are refused with 451");
      }
    }
  }

  const Policy& policy_;
  const DataCenterMap& dcs_;
  Diagnostics& diags_;
  DecisionTable t_;
  std::vector<std::int16_t> cell_rule_;
  std::vector<CountrySet> forbidden_;
  std::vector<bool> overlapping_;  // rules reported as overlapping an earlier one
};

DecisionTable DecisionTable::compile(const Policy& policy, const DataCenterMap& datacenters,
                                     Diagnostics& diags) {
  return PolicyCompiler(policy, datacenters, diags).run();
}

}  // namespace regiongate
