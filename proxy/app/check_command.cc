// `regiongate check`: validate everything, prove the policy, show coverage.

#include <iostream>

#include "policy/coverage.h"
#include "policy/proof.h"
#include "policy/snapshot.h"
#include "proxy/app/commands.h"
#include "proxy/config/server_config.h"

namespace regiongate {

int run_check(const CheckOptions& options) {
  Diagnostics diags;
  ServerConfig server;
  auto snap = load_snapshot(options.config, diags, [&](const YAML::Node& node, YamlContext& ctx) {
    server = read_server_config(node, ctx);
  });
  std::cerr << diags.format_all();
  if (!snap) {
    std::cerr << options.config << ": invalid: " << diags.error_count() << " error(s), "
              << diags.warning_count() << " warning(s)\n";
    return 1;
  }
  std::cout << options.config << ": valid: " << snap->datacenters.size() << " data centres, "
            << snap->policy.services.size() << " services, " << snap->policy.rules.size()
            << " rules, " << snap->policy.never.size() << " never entries, "
            << snap->table.interval_count() << " time intervals, " << diags.warning_count()
            << " warning(s)\n";
  if (options.proof) {
    ProofResult proof = prove_policy(snap->policy, snap->datacenters, snap->table);
    std::cout << proof.summary() << '\n';
    if (!proof.holds) return 1;
  }
  if (options.coverage) {
    std::cout << "\nCoverage: where each account country's data goes, phase by phase\n"
                 "(in-country data centres first, then the others allowed, nearest to the client "
                 "first)\n\n"
              << coverage_table(snap->policy, snap->datacenters, snap->table);
  }
  return 0;
}

}  // namespace regiongate
