#pragma once
// What the origin side needs of the worker it runs in, and nothing more: its
// loop, the server settings, its resolver and the TLS context for origins.
// Built by the worker, which outlives its pool and sessions.

#include "proxy/config/server_config.h"
#include "proxy/dns/dns_resolver.h"

struct ev_loop;

namespace regiongate {

class ClientTlsContext;

// The resolver settings of the `server.dns` section.
inline DnsResolverOptions dns_options(const DnsSettings& dns) {
  using std::chrono::ceil;
  using std::chrono::seconds;
  DnsResolverOptions o;
  o.servers = dns.servers;
  o.timeout = dns.timeout;
  o.min_ttl = ceil<seconds>(dns.min_ttl);
  o.max_ttl = ceil<seconds>(dns.max_ttl);
  return o;
}

struct OriginContext {
  struct ev_loop* loop = nullptr;
  const ServerConfig* config = nullptr;
  DnsResolver* dns = nullptr;
  const ClientTlsContext* tls = nullptr;  // null: no TLS endpoints configured
};

}  // namespace regiongate
