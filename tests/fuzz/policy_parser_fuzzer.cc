// Fuzzes the policy reader, validation and compiler with arbitrary YAML text.
// Any crash, sanitizer report or exception escaping the configuration
// boundary is a bug: a malformed policy must only ever produce diagnostics.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/decision_table.h"
#include "policy/service_classifier.h"
#include "util/yaml_reader.h"

namespace {

constexpr std::string_view kDataCenters = R"(
beijing:   {country: CN, latitude: 39.9, longitude: 116.4, endpoints: ["127.0.0.1:1"]}
singapore: {country: SG, latitude: 1.35, longitude: 103.8, endpoints: ["127.0.0.1:2"]}
oregon:    {country: US, latitude: 45.6, longitude: -121.2, endpoints: ["127.0.0.1:3"]}
)";

const regiongate::DataCenterMap& datacenters() {
  static const regiongate::DataCenterMap dcs = [] {
    regiongate::Diagnostics diags;
    auto node = regiongate::load_yaml_text(kDataCenters, "dc.yaml", diags);
    regiongate::YamlContext ctx("dc.yaml", diags);
    return regiongate::read_datacenters(*node, "datacenters", ctx);
  }();
  return dcs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace regiongate;
  if (size > 64 * 1024) return 0;
  Diagnostics diags;
  auto root = load_yaml_text(std::string_view(reinterpret_cast<const char*>(data), size),
                             "fuzz.yaml", diags);
  if (!root) return 0;
  Policy policy = read_policy(*root, "fuzz.yaml", datacenters(), diags);
  ServiceClassifier classifier(policy, diags);
  DecisionTable table = DecisionTable::compile(policy, datacenters(), diags);
  if (!diags.has_errors() && !policy.services.empty()) {
    classifier.classify("api.example.com", "/shop");
    table.decide(0, 0, 0, 0, kNoCountry, ~DataCenterMask{0});
  }
  return 0;
}
