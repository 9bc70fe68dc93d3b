#pragma once
// The server section of a YAML text, read as the gateway reads it, with
// its diagnostics: for the server-configuration tests.

#include <string_view>

#include "proxy/config/server_config.h"

namespace regiongate::testing {

struct Read {
  ServerConfig config;
  Diagnostics diags;
};

inline Read read(std::string_view yaml) {
  Read r;
  auto node = load_yaml_text(yaml, "/etc/regiongate/regiongate.yaml", r.diags);
  YamlContext ctx("/etc/regiongate/regiongate.yaml", r.diags);
  r.config = read_server_config((*node)["server"], ctx);
  return r;
}

}  // namespace regiongate::testing
