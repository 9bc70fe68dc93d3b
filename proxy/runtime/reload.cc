#include "proxy/runtime/reload.h"

#include "policy/proof.h"

namespace regiongate {

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
  auto keep_lines = [&](const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) out.messages.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  };
  if (!snapshot) {
    keep_lines(diags.format_all());
    out.messages.push_back("reload rejected: " + std::to_string(diags.error_count()) +
                           " error(s) in " + config_file +
                           "; snapshot " + std::to_string(version) + " keeps serving");
    return out;
  }
  keep_lines(diags.format_all());  // warnings
  ProofResult proof = prove_policy(snapshot->policy, snapshot->datacenters, snapshot->table);
  if (!proof.holds) {
    keep_lines(proof.summary());
    out.messages.push_back("reload rejected: the policy's proof fails; snapshot " +
                           std::to_string(version) + " keeps serving");
    return out;
  }
  for (const std::string& change : restart_changes(gateway.started_with(), server)) {
    out.messages.push_back("reload: " + change + " needs a restart; the running value stays");
  }
  gateway.publish(snapshot, server.reloadable, version + 1);
  out.published = true;
  out.version = version + 1;
  out.messages.push_back("reloaded " + config_file + ": snapshot " + std::to_string(out.version) +
                         ": " + std::to_string(snapshot->datacenters.size()) + " data centres, " +
                         std::to_string(snapshot->policy.services.size()) + " services, " +
                         std::to_string(snapshot->policy.rules.size()) + " rules; proof holds");
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
