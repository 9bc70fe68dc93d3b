#include "policy/by_service.h"

namespace regiongate {

void read_by_service(const YAML::Node& map, const std::string& path, YamlContext& ctx,
                     const std::vector<std::string_view>& services, const ReadServiceValue& read) {
  for (const auto& item : map) {
    auto name = read_string(item.first, path, ctx);
    if (!name) continue;
    std::size_t index = 0;
    while (index < services.size() && services[index] != *name) ++index;
    if (index == services.size()) {
      ctx.error(item.first, path, "'" + *name + "' is not a service of the policy");
      continue;
    }
    read(index, item.second, key_path(path, *name));
  }
}

}  // namespace regiongate
