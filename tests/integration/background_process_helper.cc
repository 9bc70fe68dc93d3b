#include "tests/integration/background_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace regiongate::testing {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::vector<int>& inherit_fds) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    for (int fd : inherit_fds) fcntl(fd, F_SETFD, 0);  // only in this child: kept across exec
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  reader_ = std::thread([this] { read_output(); });
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

void BackgroundProcess::read_output() {
  for (;;) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
    std::lock_guard<std::mutex> lock(mutex_);
    drain_locked();
    if (eof_) return;
  }
}

// Reads what the pipe holds now, in order (the reader thread and output()
// both read only under the mutex).
void BackgroundProcess::drain_locked() const {
  char buf[8192];
  while (!eof_) {
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more now
    if (n == 0) {
      eof_ = true;
      return;
    }
    output_.append(buf, static_cast<std::size_t>(n));
  }
}

// Everything the program has written so far, including what the reader
// thread has not picked up yet: a test that saw a response can count the
// origin's log lines written before it.
std::string BackgroundProcess::output() const {
  std::lock_guard<std::mutex> lock(mutex_);
  drain_locked();
  return output_;
}

std::optional<std::string> BackgroundProcess::wait_for(const std::regex& pattern,
                                                       std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    bool eof;
    std::string text;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      drain_locked();
      text = output_;
      eof = eof_;
    }
    std::smatch m;
    if (std::regex_search(text, m, pattern)) return m.size() > 1 ? m[1].str() : m[0].str();
    if (eof || std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition, not a guess
  }
}

int BackgroundProcess::stop(int sig, std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (reader_.joinable()) reader_.join();
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

}  // namespace regiongate::testing
