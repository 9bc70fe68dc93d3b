#include "proxy/runtime/reload.h"

#include "policy/proof.h"

namespace regiongate {
namespace {

// Adds each line of `text` to `out`.
void add_lines(const std::string& text, std::vector<std::string>* out) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out->push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

ReloadOutcome rejected(ReloadOutcome out, const std::string& why) {
  out.messages.push_back("reload rejected: " + why + "; snapshot " + std::to_string(out.version) +
                         " keeps serving");
  return out;
}

}  // namespace

namespace {

// `version`: the version of the snapshot serving now; the new one is the next.
ReloadOutcome reload(Gateway& gateway, const std::string& config_file, std::uint64_t version) {
  ReloadOutcome out;
  out.version = version;
  Diagnostics diags;
  ServerConfig server;
  auto snapshot = load_snapshot(config_file, diags, [&](const YAML::Node& node, YamlContext& ctx) {
    server = read_server_config(node, ctx);
  });
  add_lines(diags.format_all(), &out.messages);  // the errors, or the warnings
  if (!snapshot) {
    return rejected(std::move(out),
                    std::to_string(diags.error_count()) + " error(s) in " + config_file);
  }
  // Certificate and key files are read again too: rotation needs no restart.
  std::string tls_error;
  const ListenerTls& running_tls = gateway.listener_tls();
  std::optional<ListenerTls> tls = reload_listener_tls(
      gateway.started_with().startup.listeners, running_tls, server.startup.listeners, &tls_error);
  if (!tls) {
    out.messages.push_back(tls_error);
    return rejected(std::move(out), "a listener's certificate or key does not load");
  }
  ProofResult proof = prove_policy(snapshot->policy, snapshot->datacenters, snapshot->table);
  if (!proof.holds) {
    add_lines(proof.summary(), &out.messages);
    return rejected(std::move(out), "the policy's proof fails");
  }
  for (const std::string& change : restart_changes(gateway.started_with(), server)) {
    out.messages.push_back("reload: " + change + " needs a restart; the running value stays");
  }
  std::size_t tls_loaded = 0;  // before publish() replaces running_tls
  for (std::size_t i = 0; i < tls->size(); ++i) tls_loaded += (*tls)[i] != running_tls[i];
  gateway.publish(snapshot, server.reloadable, *tls, version + 1);
  out.published = true;
  out.version = version + 1;
  std::string line = "reloaded " + config_file + ": snapshot " + std::to_string(out.version) +
                     ": " + std::to_string(snapshot->datacenters.size()) + " data centres, " +
                     std::to_string(snapshot->policy.services.size()) + " services, " +
                     std::to_string(snapshot->policy.rules.size()) + " rules; proof holds";
  if (tls_loaded > 0) {
    line += "; certificates of " + std::to_string(tls_loaded) + " TLS listener(s) loaded";
  }
  out.messages.push_back(std::move(line));
  return out;
}

}  // namespace

ReloadOutcome Reloader::reload() {
  std::lock_guard<std::mutex> lock(mutex_);
  ReloadOutcome out = regiongate::reload(gateway_, config_file_, gateway_.serving().version);
  if (out.published) {
    published_.fetch_add(1, std::memory_order_relaxed);
    last_published_at_.store(std::time(nullptr), std::memory_order_relaxed);
  } else {
    rejected_.fetch_add(1, std::memory_order_relaxed);
  }
  return out;
}

}  // namespace regiongate
