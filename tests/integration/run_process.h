#pragma once
// Runs a program to completion and captures what it prints, for tests that
// drive the real regiongate binary.

#include <string>
#include <vector>

namespace regiongate::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or the deadline
  std::string out;
  std::string err;
};

// argv[0] is the program path. Kills the process after `timeout_seconds`.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_seconds = 60);

}  // namespace regiongate::testing
