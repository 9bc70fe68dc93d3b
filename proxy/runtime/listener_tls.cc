#include "proxy/runtime/listener_tls.h"

namespace regiongate {
namespace {

std::shared_ptr<const ServerTlsContext> load_one(std::size_t index, const ListenerConfig& listener,
                                                 std::string* error) {
  std::string why;
  std::shared_ptr<const ServerTlsContext> context =
      ServerTlsContext::create(listener.certificates, &why);
  if (!context) {
    *error = "server.listen[" + std::to_string(index) + "] (" + describe_listener(listener) +
             "): " + why;
  }
  return context;
}

}  // namespace

std::optional<ListenerTls> load_listener_tls(const std::vector<ListenerConfig>& listeners,
                                             std::string* error) {
  ListenerTls out(listeners.size());
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    if (!listeners[i].tls) continue;
    if (!(out[i] = load_one(i, listeners[i], error))) return std::nullopt;
  }
  return out;
}

std::optional<ListenerTls> reload_listener_tls(const std::vector<ListenerConfig>& running,
                                               const ListenerTls& current,
                                               const std::vector<ListenerConfig>& loaded,
                                               std::string* error) {
  ListenerTls out = current;
  for (std::size_t i = 0; i < running.size() && i < out.size(); ++i) {
    if (!running[i].tls || i >= loaded.size() || !same_listen_address(running[i], loaded[i])) {
      continue;
    }
    if (!(out[i] = load_one(i, loaded[i], error))) return std::nullopt;
  }
  return out;
}

}  // namespace regiongate
