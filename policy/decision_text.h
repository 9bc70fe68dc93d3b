#pragma once
// Decisions and country sets as people read them, for the tables of
// `check` (coverage) and `plan`: one wording for both.

#include <string>
#include <vector>

#include "policy/decision_table.h"

namespace regiongate {

// One (country, service, instant) outcome: the in-country data centres
// first, then the others allowed ("nearest of a/b/c": their order depends on
// where the client is); or the status and reason of a refusal.
std::string decision_text(const DataCenterMap& datacenters, CountryId account, const Decision& d);

// A set of account countries: a group's name when one matches ("rest-of-world
// (245)", "rest-of-world except SG,US (243)"), else the codes.
std::string country_set_label(const Policy& policy, const CountrySet& set);

// Lines of cells laid out in aligned columns, a rule under the first line.
// `separators[i]` goes before column i (separators[0] is unused).
std::string aligned_table(const std::vector<std::vector<std::string>>& lines,
                          const std::vector<std::string>& separators);

}  // namespace regiongate
