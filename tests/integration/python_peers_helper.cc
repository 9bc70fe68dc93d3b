#include "tests/integration/python_peers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/run_process.h"

namespace regiongate::testing {
namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kHere = REGIONGATE_SOURCE_DIR "/tests/integration/";

nlohmann::json pairs(const Headers& headers) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [n, v] : headers) out.push_back(nlohmann::json::array({n, v}));
  return out;
}

}  // namespace

Headers get_request(const std::string& path, const std::string& account,
                    const std::string& authority) {
  Headers h = {{":method", "GET"}, {":scheme", "http"}, {":path", path}};
  if (!authority.empty()) h.push_back({":authority", authority});
  if (!account.empty()) h.push_back({"x-account-id", account});
  return h;
}

nlohmann::json send_requests(const std::string& port, const std::vector<Request>& requests,
                             const std::filesystem::path& dir, const std::string& flag) {
  nlohmann::json list = nlohmann::json::array();
  for (const Request& r : requests) {
    if (r.trailers.empty() && r.body.empty() && r.reset.empty()) {
      list.push_back(pairs(r.headers));
      continue;
    }
    nlohmann::json one = {{"headers", pairs(r.headers)}};
    if (!r.trailers.empty()) one["trailers"] = pairs(r.trailers);
    if (!r.body.empty()) one["body"] = r.body;
    if (!r.reset.empty()) one["reset"] = r.reset;
    list.push_back(one);
  }
  const std::string file = (dir / "requests.json").string();
  // Bytes >= 0x80 travel as latin-1 code points (h2_client.py encodes them back).
  std::ofstream(file) << list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::vector<std::string> argv = {kPython, kHere + "h2_client.py", port, file};
  if (!flag.empty()) argv.push_back(flag);
  ProcessResult r = run_process(argv, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  auto results = nlohmann::json::parse(r.out.empty() ? "[]" : r.out);
  EXPECT_EQ(results.size(), requests.size()) << r.out;
  return results;
}

std::unique_ptr<BackgroundProcess> start_python_origin(const std::string& name, std::string* port,
                                                       const std::string& extra) {
  std::vector<std::string> argv = {kPython, kHere + "normalising_origin.py", name};
  if (!extra.empty()) argv.push_back(extra);
  auto origin = std::make_unique<BackgroundProcess>(argv);
  auto p = origin->wait_for(std::regex(R"(listening on (\d+))"));
  EXPECT_TRUE(p) << origin->output();
  *port = p.value_or("");
  return origin;
}

std::vector<nlohmann::json> origin_requests(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("request ", 0) == 0) out.push_back(nlohmann::json::parse(line.substr(8)));
  }
  return out;
}

}  // namespace regiongate::testing
