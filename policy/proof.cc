#include "policy/proof.h"

namespace regiongate {
namespace {

constexpr std::size_t kMaxViolations = 10;

std::string describe_instant(UnixSeconds t) {
  // Interval ends may be the limits of time, which no calendar prints.
  constexpr UnixSeconds kYear1 = -62135596800, kYear9999 = 253402300799;
  if (t < kYear1) return "the distant past";
  if (t > kYear9999) return "the distant future";
  return format_rfc3339(t);
}

// The policy read directly: the first rule (in file order) that covers the
// request, and the union of every `never` in force. Deliberately simple and
// separate from the compiler, so the two check each other.
struct DirectReading {
  const Rule* rule = nullptr;
  CountrySet forbidden;
};

DirectReading read_directly(const Policy& policy, CountryId c, ServiceId s, UnixSeconds t) {
  DirectReading out;
  const ServiceMask bit = ServiceMask{1} << s;
  for (const Rule& r : policy.rules) {
    if (r.accounts.test(c) && (r.services & bit) && r.window.contains(t)) {
      out.rule = &r;
      break;
    }
  }
  for (const NeverRule& n : policy.never) {
    if (n.accounts.test(c) && (n.services & bit) && n.window.contains(t)) out.forbidden |= n.to;
  }
  return out;
}

bool rule_allows(const Rule& r, CountryId account, DataCenterIndex i, const DataCenter& dc) {
  return r.allow_countries.test(dc.country) || (r.allow_datacenters & dc_bit(i)) ||
         (r.allow_in_country && dc.country == account);
}

class Prover {
 public:
  Prover(const Policy& p, const DataCenterMap& d, const DecisionTable& t)
      : policy_(p), dcs_(d), table_(t) {}

  ProofResult run() {
    result_.countries = country_count();
    result_.services = policy_.services.size();
    result_.intervals = table_.interval_count();
    result_.locations = country_count() + 1;
    for (const Service& s : policy_.services) {
      if (s.consent == kNoConsent) continue;
      if (!result_.opt_in_services.empty()) result_.opt_in_services += ", ";
      result_.opt_in_services += s.name + " (" + policy_.consents[s.consent] + ")";
    }
    for (std::size_t c = 0; c < country_count(); ++c) {
      for (std::size_t s = 0; s < policy_.services.size(); ++s) {
        for (std::size_t k = 0; k < table_.interval_count(); ++k) {
          TimeWindow w = table_.interval_window(k);
          check_instant(static_cast<CountryId>(c), static_cast<ServiceId>(s), w.from);
          if (w.until - 1 != w.from) {
            check_instant(static_cast<CountryId>(c), static_cast<ServiceId>(s), w.until - 1);
          }
        }
      }
    }
    return result_;
  }

 private:
  void check_instant(CountryId c, ServiceId s, UnixSeconds t) {
    DirectReading direct = read_directly(policy_, c, s, t);
    // What the direct reading says may receive the data.
    DataCenterMask expected = 0;
    if (direct.rule && direct.rule->action == RuleAction::kAllow) {
      for (std::size_t i = 0; i < dcs_.size(); ++i) {
        const DataCenter& dc = dcs_.all[i];
        if (rule_allows(*direct.rule, c, static_cast<DataCenterIndex>(i), dc) &&
            !direct.forbidden.test(dc.country)) {
          expected |= dc_bit(i);
        }
      }
    }
    check_location(c, s, t, kNoCountry, direct, expected);
    for (std::size_t loc = 0; loc < country_count(); ++loc) {
      check_location(c, s, t, static_cast<CountryId>(loc), direct, expected);
    }
  }

  // Takes the data centres down one at a time in the order the gateway would
  // fail over, checking each decision on the way to the final 503.
  void check_location(CountryId c, ServiceId s, UnixSeconds t, CountryId loc,
                      const DirectReading& direct, DataCenterMask expected) {
    DataCenterMask healthy = ~DataCenterMask{0};
    Decision first = table_.decide(c, s, kEveryConsent, t, loc, healthy);
    ++result_.decisions;
    check_consent(c, s, t, loc, first);
    if (!first.routed()) {
      if (expected != 0) fail(c, s, t, loc, "refused although the rule allows " + dcs_.names(expected));
      return;
    }
    for (std::uint8_t i = 0; i < first.candidate_count; ++i) {
      DataCenterIndex dc = first.candidates[i];
      const DataCenter& site = dcs_.all[dc];
      if (direct.forbidden.test(site.country)) {
        fail(c, s, t, loc, "candidate " + site.id + " is in " + std::string(country_code(site.country)) +
                               ", which a never entry forbids");
      }
      if (!direct.rule || !rule_allows(*direct.rule, c, dc, site)) {
        fail(c, s, t, loc, "candidate " + site.id + " is not allowed by the rule in force");
      }
    }
    if (first.allowed != expected) {
      fail(c, s, t, loc, "candidates " + dcs_.names(first.allowed) + " differ from the rule's " +
                             dcs_.names(expected));
    }
    for (std::uint8_t step = 0;; ++step) {
      Decision d = step == 0 ? first : table_.decide(c, s, kEveryConsent, t, loc, healthy);
      if (step > 0) ++result_.decisions;
      if (step == first.candidate_count) {
        if (d.reason != DecisionReason::kAllDown) fail(c, s, t, loc, "no 503 with every candidate down");
        return;
      }
      if (d.chosen != first.candidates[step]) {
        fail(c, s, t, loc, "failover step " + std::to_string(step) + " left the candidate order");
        return;
      }
      healthy &= ~dc_bit(d.chosen);
    }
  }

  // Without the consent an opt-in service needs (none granted, or every
  // other one), the request reaches no data centre at all; a service that
  // needs none is decided the same whatever the request was granted.
  void check_consent(CountryId c, ServiceId s, UnixSeconds t, CountryId loc, const Decision& granted) {
    const ConsentId needed = policy_.services[s].consent;
    const ConsentMask lacking[] = {0, needed == kNoConsent ? 0 : ~consent_bit(needed)};
    for (ConsentMask mask : lacking) {
      Decision d = table_.decide(c, s, mask, t, loc, ~DataCenterMask{0});
      ++result_.decisions;
      ++result_.consent_decisions;
      if (needed == kNoConsent) {
        if (d.reason != granted.reason || d.allowed != granted.allowed || d.chosen != granted.chosen) {
          fail(c, s, t, loc, "decided differently without consents it does not need");
        }
      } else if (d.reason != DecisionReason::kNoConsent || d.candidate_count != 0 ||
                 d.chosen != kNoDataCenterIndex || d.allowed != 0) {
        fail(c, s, t, loc, "reaches a data centre without the consent '" +
                               policy_.consents[needed] + "'");
      }
    }
  }

  void fail(CountryId c, ServiceId s, UnixSeconds t, CountryId loc, const std::string& what) {
    result_.holds = false;
    if (result_.violations.size() >= kMaxViolations) return;
    result_.violations.push_back(
        std::string(country_code(c)) + " accounts, " + policy_.services[s].name + ", at " +
        describe_instant(t) + ", client in " +
        (loc == kNoCountry ? std::string("unknown place") : std::string(country_code(loc))) +
        ": " + what);
  }

  const Policy& policy_;
  const DataCenterMap& dcs_;
  const DecisionTable& table_;
  ProofResult result_;
};

std::string with_commas(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string ProofResult::summary() const {
  std::string domain = std::to_string(countries) + " account countries × " +
                       std::to_string(services) + " services × " + std::to_string(intervals) +
                       " time intervals (both ends) × " + std::to_string(locations) +
                       " client locations × every failover step";
  if (holds) {
    std::string out = "proof: holds. " + with_commas(decisions) + " decisions checked over " + domain +
                      ": no decision reaches a destination a `never` entry forbids, every candidate is "
                      "allowed by the rule in force, and failover ends in 503, never elsewhere.";
    if (!opt_in_services.empty()) {
      out += " Without its consent, no request for " + opt_in_services +
             " reaches any data centre, in any country.";
    }
    return out;
  }
  std::string out = "proof: FAILS over " + domain + ":\n";
  for (const std::string& v : violations) out += "  " + v + '\n';
  return out;
}

ProofResult prove_policy(const Policy& policy, const DataCenterMap& datacenters,
                         const DecisionTable& table) {
  return Prover(policy, datacenters, table).run();
}

}  // namespace regiongate
