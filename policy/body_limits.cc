#include "policy/body_limits.h"

#include <string>

namespace regiongate {

BodyLimits read_body_limits(const YAML::Node& node, std::string_view path, YamlContext& ctx,
                            const std::vector<std::string_view>& services) {
  BodyLimits limits;
  if (!node.IsMap()) return limits;  // read_target_options says what is wrong with it
  const auto bytes = [&](const YAML::Node& value, const std::string& at) {
    return read_int(value, at, ctx, 0, static_cast<std::int64_t>(BodyLimits::kMostBytes));
  };
  if (node["max_body"]) {
    if (auto v = bytes(node["max_body"], key_path(path, "max_body"))) limits.default_bytes = *v;
  }
  const YAML::Node& by = node["max_body_by_service"];
  if (!by) return limits;
  const std::string sub = key_path(path, "max_body_by_service");
  if (!by.IsMap()) {
    ctx.error(by, sub, "must be a map of service names to bytes");
    return limits;
  }
  limits.by_service.assign(services.size(), limits.default_bytes);
  for (const auto& item : by) {
    auto name = read_string(item.first, sub, ctx);
    if (!name) continue;
    std::size_t index = 0;
    while (index < services.size() && services[index] != *name) ++index;
    if (index == services.size()) {
      ctx.error(item.first, sub, "'" + *name + "' is not a service of the policy");
      continue;
    }
    if (auto v = bytes(item.second, key_path(sub, *name))) limits.by_service[index] = *v;
  }
  return limits;
}

}  // namespace regiongate
