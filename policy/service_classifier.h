#pragma once
// Classifies a request into a service by host and path prefix. Built once per
// snapshot from the policy's services; classify() is on the hot path:
// no allocation, a scan over a short list sorted most specific first.
//
// Specificity: an exact host beats a wildcard ("*.example.com", longer suffix
// first), which beats "any host"; within the same host, the longer path prefix
// wins. Path prefixes match whole segments: "/shop" matches "/shop",
// "/shop/cart", "/shop;p" and "/shop?q", not "/shopping". The query never
// takes part.
//
// Both inputs are canonical (policy/canonical_request.h): the request is
// classified exactly as it is forwarded.

#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace regiongate {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

class ServiceClassifier {
 public:
  ServiceClassifier() = default;
  // Two matches with the same host and prefix in different services are an error.
  ServiceClassifier(const Policy& policy, Diagnostics& diags);

  // `host`: the canonical host (lower case, no port, no trailing dot; empty
  // when the request names none). `path`: the canonical :path, maybe with a
  // query.
  ServiceId classify(std::string_view host, std::string_view path) const;

 private:
  struct Entry {
    std::string host;  // "" any; "*.x" stored as suffix ".x" with wildcard = true
    bool wildcard = false;
    std::string prefix;
    ServiceId service = kNoService;
  };
  static int specificity_rank(const Entry& e);
  std::vector<Entry> entries_;  // most specific first
};

}  // namespace regiongate
