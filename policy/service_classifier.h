#pragma once
// Classifies a request into a service by host and path prefix. Built once per
// snapshot from the policy's services; classify() is on the hot path:
// no allocation, a scan over a short list sorted most specific first.
//
// Specificity: an exact host beats a wildcard ("*.example.com", longer suffix
// first), which beats "any host"; within the same host, the longer path prefix
// wins. Path prefixes match whole segments: "/shop" matches "/shop",
// "/shop/cart" and "/shop?q", not "/shopping".

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

  // `authority` is the :authority (or Host) as received: any case, maybe with
  // ":port" or a trailing dot. `path` is the :path, maybe with a query.
  ServiceId classify(std::string_view authority, std::string_view path) const;

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

// Lower-cased host of an authority, without port or trailing dot, into `out`
// (capacity `cap`); returns the length, or 0 when it does not fit or is empty.
std::size_t normalize_host(std::string_view authority, char* out, std::size_t cap);

}  // namespace regiongate
