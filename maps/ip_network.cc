#include "maps/ip_network.h"

#include <arpa/inet.h>

#include <charconv>
#include <algorithm>
#include <cstring>

namespace regiongate {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    std::memcpy(a.bytes.data(), kMappedPrefix, 12);
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  IpAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), kMappedPrefix, 12);
    std::memcpy(a.bytes.data() + 12, &in->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

bool IpAddress::is_v4() const { return std::memcmp(bytes.data(), kMappedPrefix, 12) == 0; }

std::size_t IpAddress::format_into(char (&out)[kMaxText]) const {
  static_assert(kMaxText >= INET6_ADDRSTRLEN);
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, out, kMaxText);
  } else {
    inet_ntop(AF_INET6, bytes.data(), out, kMaxText);
  }
  return std::strlen(out);
}

std::string IpAddress::to_string() const {
  char buf[kMaxText];
  return std::string(buf, format_into(buf));
}

socklen_t IpAddress::to_sockaddr(sockaddr_storage* out, std::uint16_t port) const {
  std::memset(out, 0, sizeof *out);
  if (is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, bytes.data() + 12, 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  std::memcpy(&in6->sin6_addr, bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpNetwork net{*address, 128};
  if (slash == std::string_view::npos) return net;
  std::string_view bits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (ec != std::errc() || end != bits.data() + bits.size()) return std::nullopt;
  int max = address->is_v4() ? 32 : 128;
  if (prefix < 0 || prefix > max) return std::nullopt;
  net.prefix = address->is_v4() ? prefix + 96 : prefix;
  // Clear host bits so contains() can compare whole bytes.
  for (int i = 0; i < 16; ++i) {
    int keep = std::max(0, std::min(8, net.prefix - i * 8));
    net.base.bytes[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  return net;
}

bool IpNetwork::contains(const IpAddress& address) const {
  int full = prefix / 8;
  if (std::memcmp(address.bytes.data(), base.bytes.data(), full) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address.bytes[full] & mask) == base.bytes[full];
}

}  // namespace regiongate
