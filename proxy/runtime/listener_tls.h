#pragma once
// The TLS contexts of a gateway's listeners, loaded from their certificate
// files at start and again on every reload: certificates rotate without a
// restart (an operator renames new certificate and key files over the old
// ones, or names other files, and sends SIGHUP). The listen sockets
// themselves stay: only a restart changes an address.
//
// Lifetime: a context is immutable and shared. The gateway holds the set in
// force, each worker's listeners theirs (published with the snapshot), and
// every accepted connection the one it was accepted with until its handshake
// is done (OpenSSL's SNI callback points at it; see Transport). A context
// replaced by a reload dies with the last of these.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/config/server_config.h"
#include "proxy/net/tls_context.h"

namespace regiongate {

// One per listener, in the configuration's order; null for a cleartext one.
using ListenerTls = std::vector<std::shared_ptr<const ServerTlsContext>>;

// Loads every TLS listener's certificates. nullopt and *error (naming the
// listener and the file) when one does not load or a key does not match.
std::optional<ListenerTls> load_listener_tls(const std::vector<ListenerConfig>& listeners,
                                             std::string* error);

// For a reload: the contexts of the `running` listeners (whose contexts are
// `current`). Each TLS listener that `loaded` still has at its position, at
// the same address, is loaded again from `loaded`'s certificate files, so
// both new names and new contents take effect; one that `loaded` changed or
// dropped (a restart's business, reported by restart_changes) keeps its
// current context. nullopt and *error as load_listener_tls.
std::optional<ListenerTls> reload_listener_tls(const std::vector<ListenerConfig>& running,
                                               const ListenerTls& current,
                                               const std::vector<ListenerConfig>& loaded,
                                               std::string* error);

}  // namespace regiongate
