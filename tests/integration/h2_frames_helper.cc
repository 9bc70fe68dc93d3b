#include "tests/integration/h2_frames.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <regex>

#include "tests/integration/run_process.h"

namespace regiongate::testing {
namespace {

const std::string kScript = REGIONGATE_SOURCE_DIR "/tests/integration/h2_frames.py";

std::vector<std::string> argv_for(const std::string& port, const std::filesystem::path& file,
                                  const std::vector<std::string>& tls) {
  std::vector<std::string> argv = {"/usr/bin/python3", kScript, port, file.string()};
  if (tls.size() == 2) argv.insert(argv.end(), {"--tls", tls[0], tls[1]});
  return argv;
}

std::filesystem::path write_script(const std::filesystem::path& dir, const nlohmann::json& steps,
                                   const std::string& read,
                                   const nlohmann::json& options = nlohmann::json::object()) {
  static int n = 0;
  std::filesystem::path file = dir / ("frames-" + std::to_string(++n) + ".json");
  nlohmann::json script = options;
  script["steps"] = steps;
  script["read"] = read;
  std::ofstream(file) << script.dump();
  return file;
}

}  // namespace

nlohmann::json last_json_line(const std::string& text) {
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line[0] == '{') return nlohmann::json::parse(line, nullptr, false);
    if (start == 0) break;
    end = start - 1;
  }
  return nlohmann::json();
}

nlohmann::json run_frames(const std::string& port, const nlohmann::json& steps,
                          const std::string& read, const std::filesystem::path& dir,
                          const std::vector<std::string>& tls, const nlohmann::json& options) {
  ProcessResult r = run_process(argv_for(port, write_script(dir, steps, read, options), tls), 30);
  EXPECT_EQ(r.exit_code, 0) << steps.dump() << "\n" << r.out << r.err;
  nlohmann::json out = last_json_line(r.out);
  if (r.exit_code != 0 || !out.is_object()) return nlohmann::json::object();
  return out;
}

std::unique_ptr<BackgroundProcess> start_frames(const std::string& port, const nlohmann::json& steps,
                                                const std::string& read,
                                                const std::filesystem::path& dir) {
  return std::make_unique<BackgroundProcess>(argv_for(port, write_script(dir, steps, read), {}));
}

nlohmann::json preface_steps() {
  return nlohmann::json::array({{{"preface", true}}, {{"settings", nlohmann::json::array()}}});
}

nlohmann::json header_list(const std::vector<std::pair<std::string, std::string>>& pairs) {
  nlohmann::json out = nlohmann::json::array();  // in order: never an object
  for (const auto& [n, v] : pairs) out.push_back(nlohmann::json::array({n, v}));
  return out;
}

nlohmann::json get_step(int stream, const std::string& path, bool end) {
  return {{"stream", stream},
          {"end_stream", end},
          {"headers", header_list({{":method", "GET"},
                                   {":scheme", "http"},
                                   {":authority", "api.example.com"},
                                   {":path", path},
                                   {"x-account-id", "in-asha"}})}};
}

nlohmann::json then(nlohmann::json steps, std::initializer_list<nlohmann::json> more) {
  for (const nlohmann::json& s : more) steps.push_back(s);
  return steps;
}

const nlohmann::json* find_frame(const nlohmann::json& result, const std::string& type, int stream) {
  if (!result.contains("frames")) return nullptr;
  for (const nlohmann::json& f : result["frames"]) {
    if (f["type"] == type && (stream < 0 || f["stream"] == stream)) return &f;
  }
  return nullptr;
}

Witness::Witness(const std::string& port, const std::filesystem::path& dir,
                 const std::vector<std::string>& tls) {
  nlohmann::json steps = then(preface_steps(), {get_step(1),
                                                {{"wait_for", {{"type", "HEADERS"}, {"stream", 1}}}},
                                                {{"pause", true}},
                                                get_step(3),
                                                {{"wait_for", {{"type", "HEADERS"}, {"stream", 3}}}}});
  process_ = std::make_unique<BackgroundProcess>(argv_for(port, write_script(dir, steps, "ping-ack"), tls));
}

bool Witness::started() { return process_->wait_for(std::regex("paused")).has_value(); }

void Witness::expect_still_served() {
  ASSERT_EQ(process_->stop(SIGUSR1), 0) << process_->output();
  nlohmann::json r = last_json_line(process_->output());
  ASSERT_TRUE(r.is_object()) << process_->output();
  const nlohmann::json* second = find_frame(r, "HEADERS", 3);
  ASSERT_TRUE(second) << r.dump();
  EXPECT_EQ((*second)["headers"][":status"], "200") << r.dump();
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump();
  EXPECT_FALSE(find_frame(r, "RST_STREAM")) << r.dump();
  EXPECT_EQ(r["end"], "ping-ack") << r.dump();
}

}  // namespace regiongate::testing
