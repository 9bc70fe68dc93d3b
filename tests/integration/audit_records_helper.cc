#include "tests/integration/audit_records.h"

#include <fstream>
#include <string>

namespace regiongate::testing {

std::vector<nlohmann::json> audit_records(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (!j.contains("seal")) out.push_back(std::move(j));
  }
  return out;
}

}  // namespace regiongate::testing
