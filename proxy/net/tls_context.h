#pragma once
// TLS for both sides, on OpenSSL. An SSL_CTX is set up once (a listener's
// again on each reload: runtime/listener_tls.h) and then shared read-only by
// every worker thread (OpenSSL allows that); each connection gets its own
// SSL object, which holds a reference to its SSL_CTX.
//
// Client side (listeners): TLS 1.2 and 1.3, ALPN "h2" only. A client that
// offers ALPN without h2 is refused in the handshake (no_application_protocol
// alert). A client that sends no ALPN completes the handshake and is then
// answered, readably, that HTTP/2 is required (ClientSession's preface check).
// Several certificates: the one whose names match the SNI server name is
// used (RFC 6125 wildcards), else the first.
//
// Origin side: TLS 1.2+, ALPN "h2", the peer verified against a CA file (or
// the system store), its name (or IP address) checked per connection.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/config/server_config.h"

namespace regiongate {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

class ServerTlsContext {
 public:
  // nullptr and *error (naming the file) when a certificate or key does not
  // load or the key does not match its certificate.
  static std::unique_ptr<ServerTlsContext> create(const std::vector<TlsCertificateFiles>& certs,
                                                  std::string* error);
  // A new SSL for an accepted socket (owned by the caller's Transport).
  // Its SNI callback points at this object: keep it alive until the
  // handshake is done (Transport's `accepted_by`).
  SSL* new_connection(int fd) const;

 private:
  static int on_server_name(SSL* ssl, int* alert, void* arg) noexcept;
  std::vector<SslCtxPtr> contexts_;  // [0] is the default
};

class ClientTlsContext {
 public:
  // `ca_file` "" = the system's default verify paths. `verify` false is for
  // tests only.
  static std::unique_ptr<ClientTlsContext> create(const std::string& ca_file, bool verify,
                                                  std::string* error);
  // A new SSL for a connecting socket, with SNI `server_name` (when not
  // empty) and the peer checked against `host` (a name or an IP literal).
  SSL* new_connection(int fd, const std::string& host, const std::string& server_name) const;

 private:
  SslCtxPtr context_;
  bool verify_ = true;
};

// True when the handshake chose h2 (for logs and tests).
bool negotiated_h2(SSL* ssl);

}  // namespace regiongate
