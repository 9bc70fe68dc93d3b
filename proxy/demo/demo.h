#pragma once
// `regiongate demo`: the embedded default. Starts one small data centre per
// site of the configuration on loopback and the gateway in front of them,
// sends the story's requests at each phase and shows where each lands.
// Outside the serving library: nothing that serves depends on it.

#include <optional>
#include <string>

namespace regiongate {

struct DemoOptions {
  std::string config;
  std::optional<std::string> now;
  bool exit_after_tour = false;
};
// The process exit code: 0 after the tour (or Ctrl-C), 1 on a configuration
// or start error, 2 on a bad --now.
int run_demo(const DemoOptions& options);

// The examples/regiongate.yaml of the source tree this binary was built from.
std::string default_example_config();

}  // namespace regiongate
