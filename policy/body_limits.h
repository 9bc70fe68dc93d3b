#pragma once
// How large a request body each service takes (the config's
// `requests.max_body`, and `requests.max_body_by_service` for the services
// that take more or less): past it the gateway answers 413 and stops
// reading. A phone's photo backup and a shop's cart are not alike, so the
// limit is the service's; the default keeps a client from streaming
// without end into a service that expects a form.

#include <cstdint>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "util/yaml_reader.h"

namespace regiongate {

struct BodyLimits {
  static constexpr std::uint64_t kDefaultBytes = 1ull << 30;  // 1 GiB
  static constexpr std::uint64_t kMostBytes = 1ull << 50;     // what a setting may say
  std::uint64_t default_bytes = kDefaultBytes;
  std::vector<std::uint64_t> by_service;  // by ServiceId; empty: the default for every one

  std::uint64_t of(ServiceId service) const {
    return service < by_service.size() ? by_service[service] : default_bytes;
  }
};

// From the `requests` section (`node`, at `path`), for the policy's
// `services` (a name not among them is an error).
BodyLimits read_body_limits(const YAML::Node& node, std::string_view path, YamlContext& ctx,
                            const std::vector<std::string_view>& services);

}  // namespace regiongate
