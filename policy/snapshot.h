#pragma once
// A snapshot: one immutable, validated set of configuration, policy and maps,
// shared by every worker as std::shared_ptr<const Snapshot> and replaced whole
// on reload. A request keeps the snapshot it started with.
//
// The top-level configuration file (docs/operators.md) names the parts:
//   policy: policy.yaml          # or the policy inline
//   datacenters: datacenters.yaml  # or inline
//   geoip: {database: ..., country_paths: [...]}
//   directory: {file: accounts.csv}  # or {redis: {nodes: [...], ...}}
//   identity: {order: [token, directory, geoip], ...}
//   tokens: {keys: [...], issuers: [...], ...}  # verified bearer tokens
//   requests: {doubled_slashes: merge, ...}  # how request targets are normalised
//   server: {...}                # the gateway's own settings (proxy/)
// Relative paths are relative to the file that names them.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "maps/account_directory.h"
#include "maps/datacenter.h"
#include "maps/geoip.h"
#include "maps/redis_config.h"
#include "policy/body_limits.h"
#include "policy/canonical_request.h"
#include "policy/decision_table.h"
#include "policy/identity.h"
#include "policy/policy.h"
#include "policy/service_classifier.h"
#include "tokens/token_verifier.h"

namespace regiongate {

struct Snapshot {
  std::string config_file;
  DataCenterMap datacenters;
  Policy policy;
  DecisionTable table;
  ServiceClassifier classifier;
  IdentityConfig identity;
  TargetOptions requests;  // how a request target is made canonical before classification
  BodyLimits body_limits;  // how large a body each service takes
  std::shared_ptr<const GeoipDatabase> geoip;          // null when not configured
  std::shared_ptr<const AccountDirectory> directory;   // the file directory; null when not configured
  // The Redis directory's settings: each worker keeps its own connections
  // and cache (proxy/directory). At most one of this and `directory`.
  std::optional<RedisDirectoryConfig> redis_directory;
  std::shared_ptr<const TokenVerifier> tokens;          // null when not configured
  YAML::Node server;  // the `server` section, read by proxy/ (null when absent)
};

// Reads the `server` section: proxy/ knows its keys; policy/ only carries it.
using ServerSectionReader = std::function<void(const YAML::Node& server, YamlContext& ctx)>;

// Reads and validates everything (the `server` section too, with
// `read_server`, so one run reports every error). Returns nullptr when any
// error was found; every error and warning is in `diags`.
std::shared_ptr<const Snapshot> load_snapshot(const std::string& config_file, Diagnostics& diags,
                                              const ServerSectionReader& read_server = {});

}  // namespace regiongate
