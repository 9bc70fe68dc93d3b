#pragma once
// A JSON value as text, its strings written by the one JSON string writer
// (util/json.h): valid JSON whatever bytes the strings hold. For explain's
// output (and the admin listener's, later); keys keep their order.

#include <nlohmann/json.hpp>

#include <string>

namespace regiongate {

std::string json_text(const nlohmann::ordered_json& value);

}  // namespace regiongate
