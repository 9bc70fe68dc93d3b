#pragma once
// Builds a compiled policy from YAML text, for tests of the decision core.

#include <string>
#include <string_view>

#include "policy/decision_table.h"
#include "policy/service_classifier.h"
#include "util/yaml_reader.h"

namespace regiongate::testing {

// Six data centres, one or two per country, spread over the globe.
inline constexpr std::string_view kWorldDataCenters = R"(
beijing:    {country: CN, latitude: 39.9042, longitude: 116.4074, endpoints: ["127.0.0.1:1"]}
singapore:  {country: SG, latitude: 1.3521, longitude: 103.8198, endpoints: ["127.0.0.1:2"]}
oregon:     {country: US, latitude: 45.5946, longitude: -121.1787, endpoints: ["127.0.0.1:3"]}
virginia:   {country: US, latitude: 38.9586, longitude: -77.3570, endpoints: ["127.0.0.1:4"]}
mumbai:     {country: IN, latitude: 19.0760, longitude: 72.8777, endpoints: ["127.0.0.1:5"]}
frankfurt:  {country: DE, latitude: 50.1109, longitude: 8.6821, endpoints: ["127.0.0.1:6"]}
)";

inline constexpr std::string_view kTwoServices = R"(
services:
  shop: {match: [{host: shop.example.com}]}
  cloud: {match: [{host: cloud.example.com}]}
)";

struct Compiled {
  DataCenterMap dcs;
  Policy policy;
  DecisionTable table;
  Diagnostics diags;

  CountryId c(std::string_view code) const { return *country_from_code(code); }
  ServiceId s(std::string_view name) const { return policy.find_service(name); }
  DataCenterIndex dc(std::string_view id) const { return *dcs.find(id); }

  // With every consent (the rules' own answer); decide_with() chooses.
  Decision decide(std::string_view account, std::string_view service, std::string_view at,
                  std::string_view location = "", DataCenterMask healthy = ~DataCenterMask{0}) const {
    return decide_with(kEveryConsent, account, service, at, location, healthy);
  }
  Decision decide_with(ConsentMask granted, std::string_view account, std::string_view service,
                       std::string_view at, std::string_view location = "",
                       DataCenterMask healthy = ~DataCenterMask{0}) const {
    return table.decide(c(account), s(service), granted, *parse_rfc3339(at),
                        location.empty() ? kNoCountry : c(location), healthy);
  }
  // "singapore oregon virginia"
  std::string candidates(const Decision& d) const {
    std::string out;
    for (std::uint8_t i = 0; i < d.candidate_count; ++i) {
      out += (i ? " " : "") + dcs.all[d.candidates[i]].id;
    }
    return out;
  }
  std::string errors() const { return diags.format_all(); }
};

// `policy_yaml` is a whole policy document; data centres default to kWorldDataCenters.
inline Compiled compile_policy(std::string_view policy_yaml,
                               std::string_view dc_yaml = kWorldDataCenters) {
  Compiled out;
  auto dcs = load_yaml_text(dc_yaml, "datacenters.yaml", out.diags);
  if (dcs) {
    YamlContext ctx("datacenters.yaml", out.diags);
    out.dcs = read_datacenters(*dcs, "datacenters", ctx);
  }
  auto root = load_yaml_text(policy_yaml, "policy.yaml", out.diags);
  if (!root) return out;
  out.policy = read_policy(*root, "policy.yaml", out.dcs, out.diags);
  ServiceClassifier classifier(out.policy, out.diags);
  out.table = DecisionTable::compile(out.policy, out.dcs, out.diags);
  return out;
}

// True when some diagnostic contains `text` and starts with `place` ("policy.yaml:6:5").
inline bool has_error(const Compiled& p, std::string_view place, std::string_view text) {
  for (const Diagnostic& d : p.diags.all()) {
    std::string line = d.format();
    if (d.severity == Severity::kError && line.rfind(place, 0) == 0 &&
        line.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

#define EXPECT_ERROR(p, place, text) \
  EXPECT_TRUE(has_error(p, place, text)) << "want " << place << " ... " << text << "\ngot:\n" \
                                         << (p).errors()

}  // namespace regiongate::testing
