#pragma once
// The residency policy as policy authors write it (docs/policy.md), after
// reading and name resolution: groups of countries, services, rules and
// `never` entries. Validation across rules (overlaps, conflicts with `never`,
// unreachable rules) and compilation happen in policy/compiler.h.

#include <bitset>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "maps/country.h"
#include "maps/datacenter.h"
#include "util/diagnostics.h"
#include "util/rfc3339.h"

namespace regiongate {

inline constexpr std::size_t kMaxCountries = 256;
using CountrySet = std::bitset<kMaxCountries>;

using ServiceId = std::uint8_t;
using ServiceMask = std::uint32_t;
inline constexpr std::size_t kMaxServices = 32;
inline constexpr ServiceId kNoService = 0xFF;

// Consents a service may need (`consent:` of a service): the distinct names
// the policy uses, as bits. A request carries the ones its verified token
// grants; a service that needs one the request lacks gets nothing, anywhere.
using ConsentId = std::uint8_t;
using ConsentMask = std::uint32_t;
inline constexpr std::size_t kMaxConsents = 32;
inline constexpr ConsentId kNoConsent = 0xFF;
// Every consent granted: what `plan` and coverage describe (the policy's
// routes once the user has opted in). Never what a request is given.
inline constexpr ConsentMask kEveryConsent = ~ConsentMask{0};
inline constexpr ConsentMask consent_bit(ConsentId c) { return ConsentMask{1} << c; }

inline constexpr UnixSeconds kBeginningOfTime = std::numeric_limits<UnixSeconds>::min();
inline constexpr UnixSeconds kEndOfTime = std::numeric_limits<UnixSeconds>::max();

// A half-open interval of time [from, until).
struct TimeWindow {
  UnixSeconds from = kBeginningOfTime;
  UnixSeconds until = kEndOfTime;

  bool contains(UnixSeconds t) const { return from <= t && t < until; }
  bool overlaps(const TimeWindow& o) const { return from < o.until && o.from < until; }
  TimeWindow intersect(const TimeWindow& o) const {
    return {std::max(from, o.from), std::min(until, o.until)};
  }
  // "always", "from 2014-10-31", "until 2015-06-01", "2014-10-31 .. 2015-06-01".
  std::string describe() const;
};

struct CountryGroup {
  std::string name;
  CountrySet countries;
  SourceMark mark;
};

// One way a request is recognised as belonging to a service.
struct ServiceMatch {
  std::string host;         // lower case; "" = any host; "*.example.com" = any subdomain
  std::string path_prefix;  // starts with '/'; matches whole path segments
  SourceMark mark;
};

struct Service {
  std::string name;
  std::vector<ServiceMatch> matches;
  SourceMark mark;
  // The consent its requests need (an index into Policy::consents), or
  // kNoConsent: opt-in services (cloud backup, messaging) name one.
  ConsentId consent = kNoConsent;
};

enum class RuleAction : std::uint8_t { kAllow, kDeny };

// What rules and `never` entries share: whose data, which services, when.
struct PolicyEntry {
  std::string id;
  SourceMark mark;
  std::string note;
  CountrySet accounts;
  std::string accounts_text;  // as written, for messages: "IN", "rest-of-world"
  ServiceMask services = 0;   // every service when the entry names none
  TimeWindow window;
  // False when reading it found an error: cross-rule checks skip it rather
  // than pile follow-on errors on the one already reported.
  bool complete = true;
};

struct Rule : PolicyEntry {
  RuleAction action = RuleAction::kAllow;
  // kAllow: where the data may go.
  bool allow_in_country = false;  // the account's own country
  CountrySet allow_countries;     // countries and groups
  DataCenterMask allow_datacenters = 0;
  std::string allow_text;  // as written: "SG, US", "in-country"
  // kDeny: why (shown in the 451 response and by explain).
  std::string deny_reason;
};

// A border no rule, failover or fallback may cross.
struct NeverRule : PolicyEntry {
  CountrySet to;
  std::string to_text;
};

struct Policy {
  std::string file;
  std::vector<CountryGroup> groups;
  std::vector<Service> services;
  std::vector<Rule> rules;
  std::vector<NeverRule> never;
  std::vector<std::string> consents;  // distinct `consent:` names, in first-use order

  ServiceMask all_services() const {
    return services.size() >= 32 ? ~ServiceMask{0}
                                 : (ServiceMask{1} << services.size()) - 1;
  }
  ServiceId find_service(std::string_view name) const;
  ConsentId find_consent(std::string_view name) const;
  const CountryGroup* find_group(std::string_view name) const;
  // "shop", "account,cloud", "all services".
  std::string service_names(ServiceMask mask) const;
};

// Reads a policy file (see docs/policy.md). Data centre ids in `allow` lists
// are resolved against `datacenters`. Every problem goes to `diags`.
Policy read_policy_file(const std::string& path, const DataCenterMap& datacenters,
                        Diagnostics& diags);
// The same for a parsed document (used by the config loader and the fuzzer).
Policy read_policy(const YAML::Node& root, const std::string& file,
                   const DataCenterMap& datacenters, Diagnostics& diags);

// Codes of the countries in `set`, in code order: "BR,CN,IN".
std::string country_list(const CountrySet& set, std::size_t limit = 12);

}  // namespace regiongate
