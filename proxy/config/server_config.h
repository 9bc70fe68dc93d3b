#pragma once
// The gateway's own settings: the `server:` section of the configuration
// (docs/operators.md), in two parts. StartupSettings are read once at start
// (listen sockets, the worker threads, the files opened once): a reload that
// changes them is reported as needing a restart (restart_changes), never
// silently ignored. ReloadableSettings may change on reload, with the
// snapshot they came with.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "util/yaml_reader.h"

namespace regiongate {

using Milliseconds = std::chrono::milliseconds;

struct TlsCertificateFiles {
  std::string cert_file;  // PEM, leaf first then chain
  std::string key_file;
};

struct ListenerConfig {
  std::string host;  // literal address: "127.0.0.1", "::"
  std::uint16_t port = 0;  // 0: the kernel picks (tests read it back)
  bool tls = false;
  // tls: the first is the default (no SNI match). Unlike the rest of the
  // listener, read again (names and contents) on every reload.
  std::vector<TlsCertificateFiles> certificates;
};

struct Http2Settings {
  std::uint32_t max_concurrent_streams = 128;
  std::uint32_t initial_window_size = 1 << 20;  // per stream, bytes
  std::uint32_t connection_window_size = 16 << 20;
  std::uint32_t max_header_list_size = 64 << 10;
  std::uint32_t max_frame_size = 16 << 10;
  // Streams thrown away: a client may reset this many streams at once, and
  // this many more a second (rapid reset, CVE-2023-44487), counting also the
  // streams the gateway resets for the client's error (header limits, HPACK
  // bombs, malformed requests); past that its connection is closed with
  // GOAWAY(ENHANCE_YOUR_CALM). A phone that cancels the image loads of a
  // feed it scrolls past stays far below.
  std::uint32_t reset_burst = 200;
  std::uint32_t reset_rate = 33;
  // Frames that cost the gateway work and carry nothing a request needs:
  // PING, SETTINGS, PRIORITY, DATA without payload or END_STREAM, and
  // WINDOW_UPDATE and PING beyond two per DATA frame the gateway sent. As many at
  // once, and more a second; past that, GOAWAY(ENHANCE_YOUR_CALM). A
  // browser's PRIORITY frames and a keep-alive PING stay far below.
  std::uint32_t control_burst = 1000;
  std::uint32_t control_rate = 100;
};

struct TimeoutSettings {
  Milliseconds connect{2000};            // origin TCP + TLS + HTTP/2 preface
  Milliseconds response_headers{30000};  // request sent -> origin's response headers
  Milliseconds handshake{10000};         // accept -> TLS handshake and the client preface done
  Milliseconds idle{120000};             // client connection with no stream
  Milliseconds origin_idle{60000};       // pooled origin connection with no stream
  Milliseconds drain{10000};             // on SIGTERM: in-flight requests get this long
  // A client connection the gateway ends (after its GOAWAY, or the HTTP/1
  // refusal) is closed gracefully: what the client still sends is read and
  // dropped for at most this long and this many bytes, until it closes
  // (0: at once, with a RST if anything is unread).
  Milliseconds linger{2000};
  std::uint32_t linger_bytes = 1 << 20;
  // A response whose body the client takes nothing of for this long (its
  // window stays shut while the gateway holds bytes for it) is reset on
  // both sides: a reader that stalls must not hold buffers for ever.
  Milliseconds stall{30000};
  // A request's header block (HEADERS and its CONTINUATIONs) must be
  // complete within this from its first byte: while it is open, nothing
  // else on the connection may move (slow-header attacks).
  Milliseconds request_headers{10000};
};

struct OriginSettings {
  std::string ca_file;  // "" = the system store
  std::uint32_t max_connections_per_endpoint = 8;
};

struct DnsSettings {
  std::vector<std::string> servers;  // "127.0.0.1:5353"; empty = /etc/resolv.conf
  Milliseconds timeout{2000};
  Milliseconds min_ttl{1000};
  Milliseconds max_ttl{300000};
};

// The admin listener (/metrics, /healthz, /readyz, /status, /explain,
// POST /reload): off unless the `admin` section is there; loopback unless
// its address says otherwise.
struct AdminSettings {
  bool enabled = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 9901;
};

// The access log: where, and how much of the request it keeps. Paths and
// account ids are personal data: by default the query is cut and the
// account left out.
struct AccessLogSettings {
  std::string file = "-";  // a path, "-" (stdout) or "off"
  // Both in the order of their names in the configuration (read_choice).
  enum class Path : std::uint8_t { kFull, kWithoutQuery, kOff };
  Path path = Path::kWithoutQuery;
  enum class Account : std::uint8_t { kOmit, kHash, kKeep };
  Account account = Account::kOmit;
  std::string hash_key_file;  // with kHash: a secret of at least 16 bytes
  std::string hash_key;       // its bytes (HMAC-SHA256 key)
};

// The audit log of decisions (observe/audit_chain.h): hash-chained JSON lines.
struct AuditLogSettings {
  std::string file = "off";  // a path, or "off"
  // Which decisions: every refusal and every request served outside the
  // account's own country, or all of them.
  enum class Records : std::uint8_t { kRefusalsAndAbroad, kAll };  // in name order
  Records records = Records::kRefusalsAndAbroad;
  // Client addresses are personal data: kept to this prefix.
  int client_prefix_v4 = 24;
  int client_prefix_v6 = 48;
  // Required: while the log cannot be written (a write fails, or a batch is
  // dropped), a request whose record it would have to keep is refused (503
  // audit-log-unavailable) before anything is forwarded, instead of served
  // unrecorded. Refusals, which move no data, still happen.
  bool required = false;
};

// Health of origin endpoints (origin/health_checker.h): an HTTP/2 GET of
// `path` every `interval`; `fall` failures in a row take an endpoint out of
// service (requests that fail count too), `rise` successes in a row bring it
// back. Off unless configured: every endpoint is then taken as up.
struct HealthSettings {
  bool enabled = false;
  std::string path = "/healthz";
  Milliseconds interval{2000};
  Milliseconds timeout{1000};
  int rise = 2;
  int fall = 2;
  // What "nearest" means among the allowed data centres (after the
  // in-country ones come first): distance to the client, or the round trip
  // the probes measure from this gateway, distance breaking ties between
  // round trips within `latency_tolerance` (policy/latency_order.h).
  enum class Nearest : std::uint8_t { kDistance, kLatency };  // in name order
  Nearest nearest = Nearest::kDistance;
  Milliseconds latency_tolerance{5};
};

struct StartupSettings {
  int workers = 0;  // 0 = one per core
  std::vector<ListenerConfig> listeners;
  AdminSettings admin;
  AccessLogSettings access_log;
  AuditLogSettings audit_log;
  HealthSettings health;
};

// Client connections the gateway keeps at once (runtime/connection_limits.h):
// past either cap a new connection is closed as soon as it is accepted.
// Per address: IPv4 whole, IPv6 by its /64. Behind carrier-grade NAT
// thousands of phones may share one IPv4 address: the default allows a
// large one, and an operator who knows its clients may lower it.
struct LimitSettings {
  std::uint32_t connections = 50000;
  std::uint32_t connections_per_address = 2000;
};

struct ReloadableSettings {
  Http2Settings http2;
  LimitSettings limits;
  TimeoutSettings timeouts;
  OriginSettings origin;
  DnsSettings dns;
};

struct ServerConfig {
  StartupSettings startup;
  ReloadableSettings reloadable;
};

// What differs between the settings running and those just loaded that
// only a restart can apply, one line each ("server.workers: 2 -> 4"); empty
// when nothing does. That is every StartupSettings field but the listeners'
// certificates (they reload: runtime/listener_tls.h), and, until they
// reload too, the DNS servers (each worker's resolver is built once) and
// the origin CA file (the origin TLS context is built at start).
std::vector<std::string> restart_changes(const ServerConfig& running, const ServerConfig& loaded);

// Whether two listeners are the same socket: address, port, TLS or not. Only
// a restart changes that; their certificate files may change on reload.
bool same_listen_address(const ListenerConfig& a, const ListenerConfig& b);
// "tls 127.0.0.1:8443", "cleartext [::1]:8080": for messages.
std::string describe_listener(const ListenerConfig& listener);

// Reads the `server:` section (a null node gives the defaults, with no
// listener). Relative paths are resolved against ctx.file().
ServerConfig read_server_config(const YAML::Node& node, YamlContext& ctx);


}  // namespace regiongate
