#include "policy/service_classifier.h"

#include <algorithm>

namespace regiongate {
namespace {

constexpr std::size_t kMaxHost = 255;

bool host_matches(std::string_view pattern, bool wildcard, std::string_view host) {
  if (pattern.empty()) return true;
  if (!wildcard) return pattern == host;
  // pattern is ".example.com": host must end with it and have a label before it.
  return host.size() > pattern.size() && host.substr(host.size() - pattern.size()) == pattern;
}

bool path_matches(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  if (path.size() == prefix.size()) return true;
  char next = path[prefix.size()];
  return next == '/' || next == '?' || next == '#';
}

}  // namespace

std::size_t normalize_host(std::string_view authority, char* out, std::size_t cap) {
  // Drop userinfo (not valid in :authority for http, but never let it steer us).
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    host = close == std::string_view::npos ? std::string_view() : host.substr(0, close + 1);
  } else if (auto colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > cap) return 0;
  for (std::size_t i = 0; i < host.size(); ++i) out[i] = ascii_lower(host[i]);
  return host.size();
}

int ServiceClassifier::specificity_rank(const Entry& e) {
  if (e.host.empty()) return 0;
  return e.wildcard ? 1 : 2;
}

ServiceClassifier::ServiceClassifier(const Policy& policy, Diagnostics& diags) {
  for (std::size_t s = 0; s < policy.services.size(); ++s) {
    for (const ServiceMatch& m : policy.services[s].matches) {
      Entry e;
      e.wildcard = m.host.rfind("*.", 0) == 0;
      e.host = e.wildcard ? m.host.substr(1) : m.host;
      e.prefix = m.path_prefix;
      e.service = static_cast<ServiceId>(s);
      for (const Entry& other : entries_) {
        if (other.host == e.host && other.wildcard == e.wildcard && other.prefix == e.prefix) {
          diags.error(m.mark, "services." + policy.services[s].name +
                                  ": the same host and path is already matched by service '" +
                                  policy.services[other.service].name + "'");
        }
      }
      entries_.push_back(std::move(e));
    }
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    int ra = specificity_rank(a), rb = specificity_rank(b);
    if (ra != rb) return ra > rb;
    if (a.host.size() != b.host.size()) return a.host.size() > b.host.size();
    return a.prefix.size() > b.prefix.size();
  });
}

ServiceId ServiceClassifier::classify(std::string_view authority, std::string_view path) const {
  char buf[kMaxHost];
  std::size_t n = normalize_host(authority, buf, sizeof buf);
  std::string_view host(buf, n);
  for (const Entry& e : entries_) {
    if (!e.host.empty() && n == 0) continue;
    if (host_matches(e.host, e.wildcard, host) && path_matches(e.prefix, path)) return e.service;
  }
  return kNoService;
}

}  // namespace regiongate
