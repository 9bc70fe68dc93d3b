#pragma once
// A program started by a test and left running (a gateway, an origin, a DNS
// server): its stderr is collected so the test can wait for a line such as
// "listening on ...", and it is stopped by PID when the object goes.

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace regiongate::testing {

class BackgroundProcess {
 public:
  // `inherit_fds`: descriptors of the test (opened close-on-exec) that the
  // program gets at the same numbers, such as a listening socket the test
  // holds and hands to each server it starts on that port.
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::vector<int>& inherit_fds = {});
  ~BackgroundProcess();  // SIGKILL if still running
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until stderr (or stdout) matches `pattern`; returns the first
  // capture group (or the whole match), nullopt at the deadline or exit.
  std::optional<std::string> wait_for(const std::regex& pattern,
                                      std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Sends `sig` and waits for the exit; returns the exit code (-1: signalled or timed out).
  int stop(int sig, std::chrono::milliseconds deadline = std::chrono::seconds(10));
  std::string output() const;

 private:
  // A thread reads the output all the time: a program whose pipe fills up
  // would block (and a gateway that blocks on its log is a failed test).
  void read_output();
  void drain_locked() const;

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  mutable std::string output_;  // stdout and stderr, interleaved
  mutable bool eof_ = false;
};

}  // namespace regiongate::testing
