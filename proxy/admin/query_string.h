#pragma once
// The query of an admin request (`/explain?account=a-1&service=backup`):
// application/x-www-form-urlencoded pairs, '+' a space and %XX a byte.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regiongate {

using QueryPairs = std::vector<std::pair<std::string, std::string>>;

// nullopt when an escape is malformed ('%' without two hex digits).
std::optional<QueryPairs> parse_query(std::string_view query);

}  // namespace regiongate
