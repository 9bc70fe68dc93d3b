#pragma once
// The records of an audit log, as JSON, without its seals (the lines the
// log's writer adds after each batch; `regiongate audit verify` checks them).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace regiongate::testing {

std::vector<nlohmann::json> audit_records(const std::filesystem::path& file);

}  // namespace regiongate::testing
