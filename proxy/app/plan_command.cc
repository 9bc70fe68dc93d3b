// `regiongate plan`: the policy's changes between two instants, as a table
// or as JSON (keys in docs/policy.md).

#include <iostream>

#include <nlohmann/json.hpp>

#include "policy/decision_text.h"
#include "policy/plan.h"
#include "policy/snapshot.h"
#include "proxy/app/commands.h"
#include "proxy/observe/json_text.h"

namespace regiongate {
namespace {

nlohmann::ordered_json where(const Snapshot& snap, const Decision& d, const std::string& text) {
  nlohmann::ordered_json j;
  j["text"] = text;
  j["status"] = d.status();
  nlohmann::ordered_json allowed = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < snap.datacenters.size(); ++i) {
    if (d.allowed & dc_bit(static_cast<DataCenterIndex>(i))) allowed.push_back(snap.datacenters.all[i].id);
  }
  j["datacenters"] = allowed;
  if (d.rule != kNoRule) {
    j["rule"] = snap.policy.rules[d.rule].id;
  } else {
    j["rule"] = nullptr;
  }
  j["reason_code"] = std::string(reason_code(d.reason));
  return j;
}

}  // namespace

int run_plan(const PlanOptions& o) {
  auto from = parse_rfc3339(o.from);
  auto to = parse_rfc3339(o.to);
  if (!from || !to) {
    std::cerr << "plan: --from/--to: not an RFC 3339 date-time: '" << (from ? o.to : o.from)
              << "'\n";
    return 2;
  }
  if (*to < *from) {
    std::cerr << "plan: --to is before --from\n";
    return 2;
  }
  Diagnostics diags;
  auto snap = load_snapshot(o.config, diags);
  if (!snap) {
    std::cerr << diags.format_all();
    return 1;
  }
  std::vector<PlanChange> changes =
      plan_changes(snap->policy, snap->datacenters, snap->table, *from, *to);
  if (o.json) {
    nlohmann::ordered_json j;
    j["from"] = format_rfc3339(*from);
    j["to"] = format_rfc3339(*to);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const PlanChange& c : changes) {
      nlohmann::ordered_json one;
      one["at"] = format_rfc3339(c.at);
      nlohmann::ordered_json accounts = nlohmann::ordered_json::array();
      for (std::size_t i = 0; i < country_count(); ++i) {
        if (c.accounts.test(i)) accounts.push_back(std::string(country_code(static_cast<CountryId>(i))));
      }
      one["accounts"] = accounts;
      one["accounts_label"] = country_set_label(snap->policy, c.accounts);
      nlohmann::ordered_json services = nlohmann::ordered_json::array();
      for (std::size_t s = 0; s < snap->policy.services.size(); ++s) {
        if (c.services & (ServiceMask{1} << s)) services.push_back(snap->policy.services[s].name);
      }
      one["services"] = services;
      one["before"] = where(*snap, c.before_decision, c.before);
      one["after"] = where(*snap, c.after_decision, c.after);
      list.push_back(one);
    }
    j["changes"] = list;
    std::cout << json_text(j) << '\n';
    return 0;
  }
  std::cout << "Changes from " << format_rfc3339(*from) << " to " << format_rfc3339(*to) << " ("
            << o.config << ")\n\n";
  if (changes.empty()) {
    std::cout << "no change: every account country's data stays where it is\n";
    return 0;
  }
  std::cout << plan_table(snap->policy, changes);
  return 0;
}

}  // namespace regiongate
