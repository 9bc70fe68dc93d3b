#include "policy/body_limits.h"

#include <string>

#include "policy/by_service.h"

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
  read_by_service(by, sub, ctx, services,
                  [&](std::size_t service, const YAML::Node& value, const std::string& at) {
                    if (auto v = bytes(value, at)) limits.by_service[service] = *v;
                  });
  return limits;
}

}  // namespace regiongate
