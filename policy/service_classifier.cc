#include "policy/service_classifier.h"

#include <algorithm>

#include "policy/canonical_request.h"

namespace regiongate {
namespace {

bool host_matches(std::string_view pattern, bool wildcard, std::string_view host) {
  if (pattern.empty()) return true;
  if (!wildcard) return pattern == host;
  // pattern is ".example.com": host must end with it and have a label before it.
  return host.size() > pattern.size() && host.substr(host.size() - pattern.size()) == pattern;
}

// Whole segments only. A segment's parameters (";jsessionid=1", raw or
// escaped) do not make it another segment: servers that strip them would
// otherwise serve "/shop;x/cart" as "/shop/cart" while it was classified as
// something else.
bool path_matches(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = path.substr(prefix.size());
  return rest.empty() || rest[0] == '/' || rest[0] == ';' || rest.substr(0, 3) == "%3B";
}

}  // namespace

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

ServiceId ServiceClassifier::classify(std::string_view host, std::string_view path) const {
  path = path_without_query(path);
  for (const Entry& e : entries_) {
    if (!e.host.empty() && host.empty()) continue;
    if (host_matches(e.host, e.wildcard, host) && path_matches(e.prefix, path)) return e.service;
  }
  return kNoService;
}

}  // namespace regiongate
