#pragma once
// A config map keyed by the policy's service names ({cloud: ..., shop: ...}),
// read the one way every such setting is: each key must name a service (an
// error with file:line:col otherwise), and its value goes to `read` with
// the service's index.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/yaml_reader.h"

namespace regiongate {

using ReadServiceValue = std::function<void(std::size_t service, const YAML::Node& value,
                                            const std::string& value_path)>;

void read_by_service(const YAML::Node& map, const std::string& path, YamlContext& ctx,
                     const std::vector<std::string_view>& services, const ReadServiceValue& read);

}  // namespace regiongate
