// YAML → Policy. Each section has its own reader; names are resolved here
// (countries, groups, services, data centres), so every later stage works on
// ids and masks only.

#include <algorithm>
#include <set>

#include "policy/canonical_request.h"
#include "policy/policy.h"
#include "policy/service_classifier.h"
#include "util/yaml_reader.h"

namespace regiongate {
namespace {

constexpr KeySpec kPolicyKeys[] = {
    {"version", YamlKind::kScalar, false}, {"groups", YamlKind::kMap, false},
    {"services", YamlKind::kMap, true},    {"rules", YamlKind::kSequence, true},
    {"never", YamlKind::kSequence, false},
};
constexpr KeySpec kGroupKeys[] = {{"all_except", YamlKind::kScalarOrSequence, true}};
constexpr KeySpec kServiceKeys[] = {{"match", YamlKind::kSequence, true},
                                    {"note", YamlKind::kScalar, false},
                                    {"consent", YamlKind::kScalar, false}};
constexpr KeySpec kMatchKeys[] = {{"host", YamlKind::kScalar, false},
                                  {"path", YamlKind::kScalar, false}};
constexpr KeySpec kRuleKeys[] = {
    {"id", YamlKind::kScalar, true},        {"note", YamlKind::kScalar, false},
    {"accounts", YamlKind::kScalarOrSequence, true},
    {"services", YamlKind::kScalarOrSequence, false},
    {"from", YamlKind::kScalar, false},     {"until", YamlKind::kScalar, false},
    {"allow", YamlKind::kScalarOrSequence, false}, {"deny", YamlKind::kScalar, false},
};
constexpr KeySpec kNeverKeys[] = {
    {"id", YamlKind::kScalar, true},       {"note", YamlKind::kScalar, false},
    {"accounts", YamlKind::kScalarOrSequence, true},
    {"services", YamlKind::kScalarOrSequence, false},
    {"from", YamlKind::kScalar, false},    {"until", YamlKind::kScalar, false},
    {"to", YamlKind::kScalarOrSequence, true},
};

constexpr std::string_view kInCountry = "in-country";
// Rule indexes are 16 bits in the compiled table; the table's own size is
// bounded by the compiler (its dates × services × countries).
constexpr std::size_t kMaxRules = 10000;

std::string join(const std::vector<YamlString>& items) {
  std::string out;
  for (const YamlString& s : items) out += (out.empty() ? "" : ", ") + s.value;
  return out;
}

class PolicyReader {
 public:
  PolicyReader(const DataCenterMap& dcs, YamlContext& ctx, Policy& policy)
      : dcs_(dcs), ctx_(ctx), policy_(policy) {}

  void read(const YAML::Node& root) {
    if (!check_map(root, kPolicyKeys, "", ctx_)) return;
    if (root["version"]) read_int(root["version"], "version", ctx_, 1, 1);
    if (root["groups"]) read_groups(root["groups"]);
    if (root["services"]) read_services(root["services"]);
    if (root["rules"]) read_rules(root["rules"]);
    if (root["never"]) read_never(root["never"]);
  }

 private:
  // A country code or a group name (groups defined above this point only).
  bool add_country_or_group(const YamlString& item, CountrySet& set) {
    if (auto c = country_from_code(item.value)) {
      set.set(*c);
      return true;
    }
    if (const CountryGroup* g = policy_.find_group(item.value)) {
      set |= g->countries;
      return true;
    }
    return false;
  }

  CountrySet read_countries(const YAML::Node& node, const std::string& path, std::string* text) {
    CountrySet set;
    auto items = read_string_list(node, path, ctx_);
    for (const YamlString& item : items) {
      if (!add_country_or_group(item, set)) {
        ctx_.error(item.node, path,
                   "'" + item.value +
                       "' is neither an ISO 3166-1 alpha-2 country code nor a group defined above");
      }
    }
    if (text) *text = join(items);
    return set;
  }

  void read_groups(const YAML::Node& node) {
    if (!check_named_map(node, "groups", ctx_)) return;
    for (const auto& item : node) {
      if (!item.first.IsScalar()) continue;
      const std::string name = item.first.Scalar();
      const std::string path = key_path("groups", name);
      if (!is_valid_name(name) || name == kInCountry) {
        ctx_.error(item.first, path,
                   "group names are 1-64 characters of a-z, 0-9, '-' or '_' (and not 'in-country')");
      }
      if (dcs_.find(name)) {
        ctx_.error(item.first, path, "'" + name + "' is already a data centre id");
      }
      CountryGroup group{name, {}, ctx_.mark(item.first)};
      if (item.second.IsMap()) {
        check_map(item.second, kGroupKeys, path, ctx_);
        CountrySet except =
            read_countries(item.second["all_except"], key_path(path, "all_except"), nullptr);
        for (std::size_t c = 0; c < country_count(); ++c) group.countries.set(c, !except.test(c));
      } else {
        group.countries = read_countries(item.second, path, nullptr);
      }
      if (group.countries.none()) ctx_.error(item.first, path, "the group is empty");
      policy_.groups.push_back(std::move(group));
    }
  }

  void read_services(const YAML::Node& node) {
    if (!check_named_map(node, "services", ctx_)) return;
    for (const auto& item : node) {
      if (!item.first.IsScalar()) continue;
      const std::string name = item.first.Scalar();
      const std::string path = key_path("services", name);
      if (!is_valid_name(name)) {
        ctx_.error(item.first, path, "service names are 1-64 characters of a-z, 0-9, '-' or '_'");
      }
      if (policy_.services.size() == kMaxServices) {
        ctx_.error(item.first, path, "at most 32 services");
        continue;
      }
      Service service{name, {}, ctx_.mark(item.first)};
      if (check_map(item.second, kServiceKeys, path, ctx_) && item.second["match"] &&
          item.second["match"].IsSequence()) {
        const YAML::Node& matches = item.second["match"];
        if (matches.size() == 0) ctx_.error(matches, key_path(path, "match"), "needs a match");
        for (std::size_t i = 0; i < matches.size(); ++i) {
          read_match(matches[i], index_path(key_path(path, "match"), i), service);
        }
      }
      if (item.second.IsMap() && item.second["consent"]) {
        read_consent(item.second["consent"], key_path(path, "consent"), service);
      }
      policy_.services.push_back(std::move(service));
    }
  }

  void read_consent(const YAML::Node& node, const std::string& path, Service& service) {
    const std::string name = read_string(node, path, ctx_).value_or("");
    if (!is_valid_name(name)) {
      ctx_.error(node, path, "consent names are 1-64 characters of a-z, 0-9, '-' or '_'");
      return;
    }
    ConsentId id = policy_.find_consent(name);
    if (id == kNoConsent) {
      if (policy_.consents.size() == kMaxConsents) {
        ctx_.error(node, path, "at most 32 distinct consents");
        return;
      }
      id = static_cast<ConsentId>(policy_.consents.size());
      policy_.consents.push_back(name);
    }
    service.consent = id;
  }

  void read_match(const YAML::Node& node, const std::string& path, Service& service) {
    if (!check_map(node, kMatchKeys, path, ctx_)) return;
    ServiceMatch match{"", "/", ctx_.mark(node)};
    if (node["host"]) {
      std::string host = read_string(node["host"], key_path(path, "host"), ctx_).value_or("");
      for (char& c : host) c = ascii_lower(c);
      bool wildcard = host.rfind("*.", 0) == 0;
      std::string_view rest = wildcard ? std::string_view(host).substr(2) : host;
      // The name as a request's canonical host would spell it (no port, no
      // trailing dot, nothing but letters, digits, '-', '_' and dots).
      std::string storage;
      CanonicalAuthority canonical;
      bool ok = !rest.empty() &&
                normalize_authority(rest, "", storage, &canonical) == RequestFault::kNone &&
                canonical.authority == rest;
      if (!ok) {
        ctx_.error(node["host"], key_path(path, "host"),
                   "host must be a name ('api.example.com') or a wildcard ('*.example.com')");
      }
      match.host = host;
    }
    if (node["path"]) {
      match.path_prefix = read_string(node["path"], key_path(path, "path"), ctx_).value_or("/");
      check_path_prefix(node["path"], key_path(path, "path"), match.path_prefix);
      // "/shop/" and "/shop" name the same segment; keep one form.
      if (match.path_prefix.size() > 1 && match.path_prefix.back() == '/') {
        match.path_prefix.pop_back();
      }
    }
    if (!node["host"] && !node["path"]) {
      ctx_.error(node, path, "a match needs a host, a path or both");
    }
    service.matches.push_back(std::move(match));
  }

  // Requests are classified on their canonical path (canonical_request.h),
  // so a prefix must be canonical too, or it could never match.
  void check_path_prefix(const YAML::Node& node, const std::string& path, const std::string& prefix) {
    if (prefix.empty() || prefix[0] != '/' || prefix.find_first_of("?#") != std::string::npos) {
      ctx_.error(node, path, "path must start with '/' and hold no query or fragment");
      return;
    }
    std::string storage;
    std::string_view canonical;
    RequestFault fault = normalize_path(prefix, false, TargetOptions{}, storage, &canonical);
    if (fault != RequestFault::kNone) {
      ctx_.error(node, path,
                 "'" + prefix + "' can never match a request: " + std::string(fault_reason(fault)));
    } else if (canonical != prefix) {
      ctx_.error(node, path,
                 "'" + prefix + "' is not canonical: requests are matched after normalisation "
                 "(docs/policy.md), so write '" + std::string(canonical) + "'");
    }
  }

  ServiceMask read_service_list(const YAML::Node& node, const std::string& path) {
    if (!node) return policy_.all_services();
    ServiceMask mask = 0;
    for (const YamlString& item : read_string_list(node, path, ctx_)) {
      ServiceId id = policy_.find_service(item.value);
      if (id == kNoService) {
        ctx_.error(item.node, path, "unknown service '" + item.value + "'");
      } else {
        mask |= ServiceMask{1} << id;
      }
    }
    return mask;
  }

  TimeWindow read_window(const YAML::Node& node, const std::string& path) {
    TimeWindow w;
    if (node["from"]) w.from = read_instant(node["from"], key_path(path, "from"), ctx_).value_or(w.from);
    if (node["until"]) {
      w.until = read_instant(node["until"], key_path(path, "until"), ctx_).value_or(w.until);
    }
    if (w.from >= w.until) {
      ctx_.error(node["until"], key_path(path, "until"),
                 "empty window: 'until' must be later than 'from'");
    }
    return w;
  }

  void read_allow(const YAML::Node& node, const std::string& path, Rule& rule) {
    auto items = read_string_list(node, path, ctx_);
    rule.allow_text = join(items);
    if (items.empty()) ctx_.error(node, path, "an empty allow list forbids everything: use deny");
    for (const YamlString& item : items) {
      if (item.value == kInCountry) {
        rule.allow_in_country = true;
      } else if (auto dc = dcs_.find(item.value)) {
        rule.allow_datacenters |= dc_bit(*dc);
      } else if (!add_country_or_group(item, rule.allow_countries)) {
        ctx_.error(item.node, path,
                   "'" + item.value +
                       "' is not 'in-country', a country code, a group or a data centre id");
      }
    }
  }

  void read_rules(const YAML::Node& node) {
    read_entries(node, "rules", "rule", kRuleKeys, policy_.rules,
                 [this](const YAML::Node& r, const std::string& path, Rule& rule) {
                   if (r["allow"] && r["deny"]) {
                     ctx_.error(r, path, "a rule has either allow or deny, not both");
                   } else if (r["deny"]) {
                     rule.action = RuleAction::kDeny;
                     rule.deny_reason =
                         read_string(r["deny"], key_path(path, "deny"), ctx_).value_or("");
                     if (rule.deny_reason.empty()) {
                       ctx_.error(r["deny"], key_path(path, "deny"), "give a reason");
                     }
                   } else if (r["allow"]) {
                     read_allow(r["allow"], key_path(path, "allow"), rule);
                   } else {
                     ctx_.error(r, path,
                                "a rule needs allow (where the data may go) or deny (a reason)");
                   }
                 });
  }

  void read_never(const YAML::Node& node) {
    read_entries(node, "never", "never", kNeverKeys, policy_.never,
                 [this](const YAML::Node& n, const std::string& path, NeverRule& never) {
                   never.to = read_countries(n["to"], key_path(path, "to"), &never.to_text);
                 });
  }

  // Reads a list of rules or never entries: the shared parts here, the rest
  // by `read_rest`. An entry with any error is kept but marked incomplete.
  template <typename Entry, typename ReadRest>
  void read_entries(const YAML::Node& node, std::string_view list, std::string_view kind,
                    std::span<const KeySpec> keys, std::vector<Entry>& out, ReadRest read_rest) {
    if (!node.IsSequence()) return;  // check_map has reported it
    if (node.size() > kMaxRules) {
      ctx_.error(node, list, "at most " + std::to_string(kMaxRules) + " entries");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node& n = node[i];
      std::string path = item_path(list, kind, n, i);
      const int errors_before = ctx_.diagnostics().error_count();
      if (!check_map(n, keys, path, ctx_)) continue;
      Entry entry;
      entry.mark = ctx_.mark(n);
      if (n["id"]) entry.id = read_id(n["id"], key_path(path, "id"));
      if (n["note"]) entry.note = read_string(n["note"], key_path(path, "note"), ctx_).value_or("");
      entry.accounts =
          read_countries(n["accounts"], key_path(path, "accounts"), &entry.accounts_text);
      entry.services = read_service_list(n["services"], key_path(path, "services"));
      entry.window = read_window(n, path);
      read_rest(n, path, entry);
      entry.complete = ctx_.diagnostics().error_count() == errors_before;
      out.push_back(std::move(entry));
    }
  }

  // "rule 'india-shop'" when the entry has a usable id, else "rules[3]".
  static std::string item_path(std::string_view list, std::string_view kind, const YAML::Node& n,
                               std::size_t i) {
    if (n.IsMap() && n["id"] && n["id"].IsScalar() && is_valid_name(n["id"].Scalar())) {
      return std::string(kind) + " '" + n["id"].Scalar() + "'";
    }
    return index_path(list, i);
  }

  // Rule and never ids share one namespace, so a message naming one is unambiguous.
  std::string read_id(const YAML::Node& node, const std::string& path) {
    std::string id = read_string(node, path, ctx_).value_or("");
    if (id.empty()) return id;
    if (!is_valid_name(id)) {
      ctx_.error(node, path, "ids are 1-64 characters of a-z, 0-9, '-' or '_'");
    } else if (!ids_.insert(id).second) {
      ctx_.error(node, path, "duplicate id '" + id + "'");
    }
    return id;
  }

  const DataCenterMap& dcs_;
  YamlContext& ctx_;
  Policy& policy_;
  std::set<std::string> ids_;
};

}  // namespace

std::string TimeWindow::describe() const {
  if (from == kBeginningOfTime && until == kEndOfTime) return "always";
  if (from == kBeginningOfTime) return "until " + format_rfc3339_short(until);
  if (until == kEndOfTime) return "from " + format_rfc3339_short(from);
  return format_rfc3339_short(from) + " .. " + format_rfc3339_short(until);
}

ServiceId Policy::find_service(std::string_view name) const {
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (services[i].name == name) return static_cast<ServiceId>(i);
  }
  return kNoService;
}

ConsentId Policy::find_consent(std::string_view name) const {
  for (std::size_t i = 0; i < consents.size(); ++i) {
    if (consents[i] == name) return static_cast<ConsentId>(i);
  }
  return kNoConsent;
}

const CountryGroup* Policy::find_group(std::string_view name) const {
  for (const CountryGroup& g : groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

std::string Policy::service_names(ServiceMask mask) const {
  if (mask == all_services()) return "all services";
  std::string out;
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (mask & (ServiceMask{1} << i)) out += (out.empty() ? "" : ",") + services[i].name;
  }
  return out;
}

std::string country_list(const CountrySet& set, std::size_t limit) {
  std::string out;
  std::size_t shown = 0;
  for (std::size_t c = 0; c < country_count(); ++c) {
    if (!set.test(c)) continue;
    if (shown == limit) {
      out += ",... (" + std::to_string(set.count()) + " in all)";
      break;
    }
    if (!out.empty()) out += ',';
    out += country_code(static_cast<CountryId>(c));
    ++shown;
  }
  return out;
}

Policy read_policy(const YAML::Node& root, const std::string& file,
                   const DataCenterMap& datacenters, Diagnostics& diags) {
  Policy policy;
  policy.file = file;
  YamlContext ctx(file, diags);
  PolicyReader(datacenters, ctx, policy).read(root);
  return policy;
}

Policy read_policy_file(const std::string& path, const DataCenterMap& datacenters,
                        Diagnostics& diags) {
  auto root = load_yaml_file(path, diags);
  if (!root) {
    Policy empty;
    empty.file = path;
    return empty;
  }
  return read_policy(*root, path, datacenters, diags);
}

}  // namespace regiongate
