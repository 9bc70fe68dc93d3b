// Fuzzes the readers of the configuration file's sections other than the
// policy (policy_parser_fuzzer.cc has that): datacenters, server, identity,
// directory.redis, tokens and requests, from arbitrary YAML text. Any crash,
// sanitizer report or exception escaping a reader is a bug: a malformed
// configuration must only ever produce diagnostics.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "maps/datacenter.h"
#include "maps/redis_config.h"
#include "policy/canonical_request.h"
#include "policy/identity.h"
#include "proxy/config/server_config.h"
#include "tokens/token_config.h"
#include "util/yaml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace regiongate;
  if (size > 64 * 1024) return 0;
  Diagnostics diags;
  auto root = load_yaml_text(std::string_view(reinterpret_cast<const char*>(data), size),
                             "fuzz.yaml", diags);
  if (!root || !root->IsMap()) return 0;
  YamlContext ctx("fuzz.yaml", diags);
  const YAML::Node& r = *root;
  static const std::vector<std::string_view> kServices = {"shop", "account", "cloud"};
  if (r["datacenters"]) read_datacenters(r["datacenters"], "datacenters", ctx);
  if (r["server"]) read_server_config(r["server"], ctx);
  if (r["identity"]) read_identity(r["identity"], "identity", ctx, kServices);
  if (r["directory"] && r["directory"].IsMap() && r["directory"]["redis"]) {
    read_redis_directory_config(r["directory"]["redis"], "directory.redis", ctx);
  }
  if (r["tokens"]) read_token_config(r["tokens"], "tokens", ctx);
  if (r["requests"]) read_target_options(r["requests"], "requests", ctx);
  return 0;
}
