#pragma once
// The python3-h2 peers of the integration tests: normalising_origin.py (a
// data centre that reads paths as lenient servers do and reports what it
// received) and h2_client.py (a client that sends header blocks exactly as
// given, with bodies, trailers and resets). Started and stopped by PID like
// every other peer (BackgroundProcess, run_process).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/background_process.h"

namespace regiongate::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request for h2_client.py.
struct Request {
  Request(Headers h, Headers t = {}) : headers(std::move(h)), trailers(std::move(t)) {}
  Headers headers, trailers;
  std::string body;   // sent as DATA
  std::string reset;  // "", "at-once" or "after-response-headers"
};

// GET `path` on `authority` (none when empty) for `account` (none when empty).
Headers get_request(const std::string& path, const std::string& account = "in-ravi",
                    const std::string& authority = "api.example.com");

// Runs h2_client.py against 127.0.0.1:`port` (scratch files in `dir`), its
// exit status checked; one result per request (see h2_client.py).
// `flag`: "", "--one-at-a-time" or "--close-after-headers".
nlohmann::json send_requests(const std::string& port, const std::vector<Request>& requests,
                             const std::filesystem::path& dir, const std::string& flag = "");

// A normalising origin named `name` on a port it chose; *port set to it.
// `extra`: "--silent" for one that never speaks HTTP/2.
std::unique_ptr<BackgroundProcess> start_python_origin(const std::string& name, std::string* port,
                                                       const std::string& extra = "");

// The "request" lines an origin printed, parsed.
std::vector<nlohmann::json> origin_requests(const std::string& output);

}  // namespace regiongate::testing
