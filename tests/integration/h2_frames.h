#pragma once
// Raw HTTP/2 frames from a test (h2_frames.py): scripts of frames no client
// library would send, what the server answered to them, and a witness
// connection that shows another client was not disturbed meanwhile.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/background_process.h"

namespace regiongate::testing {

// Runs h2_frames.py against 127.0.0.1:`port` with `steps` (a list of its
// steps), then reading as `read` says ("close": until the server closes;
// "ping-ack": until a PING is answered), over TLS when `tls` is {CA file,
// server name}, with `options` (the script's other keys: "rcvbuf",
// "send_while_reading"). Its exit status is checked (a test failure and {}
// when it is not 0). Returns its {"frames": [...], "end": ...}.
nlohmann::json run_frames(const std::string& port, const nlohmann::json& steps,
                          const std::string& read, const std::filesystem::path& dir,
                          const std::vector<std::string>& tls = {},
                          const nlohmann::json& options = nlohmann::json::object());

// The same in the background, for a script that holds its connection (its
// last step {"pause": true}): running once it prints "paused"; stop it with
// SIGUSR1 (it then reads as `read` says) or any other signal.
std::unique_ptr<BackgroundProcess> start_frames(const std::string& port, const nlohmann::json& steps,
                                                const std::string& read,
                                                const std::filesystem::path& dir);
// The last line of `text` that is a JSON object (a run's result, from a
// background script's output); null when none.
nlohmann::json last_json_line(const std::string& text);

// The client preface and an empty SETTINGS frame.
nlohmann::json preface_steps();
// Header fields in this order, as h2_frames.py takes them ([[name, value], ...]).
nlohmann::json header_list(const std::vector<std::pair<std::string, std::string>>& pairs);
// A GET of `path` for in-asha on `stream`, ending it (END_STREAM) unless `end` is false.
nlohmann::json get_step(int stream, const std::string& path = "/shop/cart", bool end = true);
// `steps` with `more` appended, each element one step (a list, not a json:
// nlohmann::json{one} would copy `one` rather than make a list of it).
nlohmann::json then(nlohmann::json steps, std::initializer_list<nlohmann::json> more);

// The first frame of `type` (on `stream`, when >= 0) in a run's result; null when none.
const nlohmann::json* find_frame(const nlohmann::json& result, const std::string& type,
                                 int stream = -1);

// A client that behaves, connected across a test: one request answered
// before the test's frames (started()), another on the same connection
// after them (expect_still_served()).
class Witness {
 public:
  Witness(const std::string& port, const std::filesystem::path& dir,
          const std::vector<std::string>& tls = {});
  // True once the first response has come.
  bool started();
  // Sends the second request: its response must come (200), with no
  // GOAWAY or reset on the connection, which must still answer a PING.
  void expect_still_served();
  std::string output() const { return process_ ? process_->output() : ""; }

 private:
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace regiongate::testing
