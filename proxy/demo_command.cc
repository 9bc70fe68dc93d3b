// `regiongate demo`: the embedded default. Loads examples/ and walks through
// the story: where accounts of several countries are routed, phase by phase.

#include <chrono>
#include <iomanip>
#include <iostream>

#include "policy/proof.h"
#include "proxy/commands.h"
#include "proxy/explain_json.h"

namespace regiongate {
namespace {

struct TourStop {
  const char* who;
  const char* account;
  const char* ip;  // where the phone is (demo GeoIP maps 127.N.0.0/16 to countries)
  const char* service;
};

constexpr TourStop kTour[] = {
    {"Asha (India), at home", "in-asha", nullptr, "shop"},
    {"Asha (India), at home", "in-asha", nullptr, "cloud"},
    {"Ravi (India), roaming in the US", "in-ravi", "127.4.0.10", "cloud"},
    {"Li (China)", "cn-li", nullptr, "messaging"},
    {"Joao (Brazil)", "br-joao", nullptr, "account"},
    {"Anna (Germany)", "de-anna", nullptr, "cloud"},
    {"unknown account, phone in Japan", "nobody", "127.7.0.10", "shop"},
};

constexpr const char* kInstants[] = {"2014-10-01T00:00:00Z", "2014-11-15T00:00:00Z",
                                     "2015-01-15T00:00:00Z", "2015-07-01T00:00:00Z"};

}  // namespace

std::string default_example_config() { return REGIONGATE_SOURCE_DIR "/examples/regiongate.yaml"; }

int run_demo(const DemoOptions& options) {
  Diagnostics diags;
  auto snap = load_snapshot(options.config, diags);
  if (!snap) {
    std::cerr << diags.format_all();
    return 1;
  }
  std::cout << "regiongate demo: " << options.config << "\n"
            << prove_policy(snap->policy, snap->datacenters, snap->table).summary() << "\n\n";
  std::vector<std::string> instants(std::begin(kInstants), std::end(kInstants));
  if (options.now) instants = {*options.now};
  for (const std::string& at : instants) {
    auto t = parse_rfc3339(at);
    if (!t) {
      std::cerr << "demo: --now: not an RFC 3339 date-time: '" << at << "'\n";
      return 2;
    }
    std::cout << "== " << at << "\n";
    for (const TourStop& stop : kTour) {
      ExplainQuery q;
      q.account = stop.account;
      if (stop.ip) q.ip = stop.ip;
      q.service = stop.service;
      q.at = *t;
      std::string error;
      auto j = explain_request(*snap, q, &error);
      if (!j) {
        std::cerr << "demo: " << error << '\n';
        return 1;
      }
      std::string where = (*j)["datacenter"].is_null()
                              ? std::to_string((*j)["status"].get<int>()) + " " +
                                    (*j)["reason_code"].get<std::string>()
                              : (*j)["datacenter"].get<std::string>() + " (" +
                                    (*j)["datacenter_country"].get<std::string>() + ")";
      std::cout << "  " << std::left << std::setw(36) << stop.who << std::setw(10) << stop.service
                << " -> " << where << '\n';
    }
  }
  std::cout << "\nAny one decision, in full:\n  regiongate explain --config " << options.config
            << " --account in-ravi --ip 127.4.0.10 --service cloud --at 2015-01-15T00:00:00Z\n"
            << "The whole policy, proved, phase by phase:\n  regiongate check --config "
            << options.config << "\n";
  return 0;
}

}  // namespace regiongate
