#pragma once
// IP networks in CIDR notation ("10.0.0.0/8", "::1/128"), for lists such as
// the trusted proxies whose x-forwarded-for may be believed.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace regiongate {

// An address as 16 bytes: IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d, so
// one comparison serves both families.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<IpAddress> parse(std::string_view text);
  static std::optional<IpAddress> from_sockaddr(const sockaddr* sa);
  bool is_v4() const;
  // "127.0.0.1", "::1".
  std::string to_string() const;
  // The same into `out`, without allocating; returns its length.
  static constexpr std::size_t kMaxText = 46;  // INET6_ADDRSTRLEN
  std::size_t format_into(char (&out)[kMaxText]) const;
  // Fills `out` with a sockaddr_in (v4) or sockaddr_in6 with this port.
  socklen_t to_sockaddr(sockaddr_storage* out, std::uint16_t port = 0) const;

  bool operator==(const IpAddress&) const = default;
};

struct IpNetwork {
  IpAddress base;
  int prefix = 0;  // in bits of the 128-bit form

  // "127.0.0.0/8", "::1/128", or an address alone (a single host).
  static std::optional<IpNetwork> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
};

}  // namespace regiongate
