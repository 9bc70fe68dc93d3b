#include "proxy/observe/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace regiongate {

bool AccessLog::open(const std::string& path, std::string* error, Prepare prepare) {
  path_ = path;
  prepare_ = std::move(prepare);
  if (path == "off") return true;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      *error = "cannot open the log '" + path + "': " + std::strerror(errno);
      return false;
    }
    own_fd_ = true;
  }
  writer_ = std::thread([this] { run(); });
  return true;
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (own_fd_) close(fd_);
}

void AccessLog::submit(std::string& batch) {
  if (batch.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queued_bytes_ + batch.size() > kMaxQueuedBytes) {
      ++dropped_;
      dropped_lines_ += static_cast<std::uint64_t>(std::count(batch.begin(), batch.end(), '\n'));
      batch.clear();
      return;
    }
    queued_bytes_ += batch.size();
    queue_.push_back(std::move(batch));
  }
  batch.clear();
  wake_.notify_one();
}

void AccessLog::reopen() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reopen_ = true;
  }
  wake_.notify_one();
}

// Writer thread only. A file that cannot be opened again keeps the old one.
void AccessLog::reopen_now() {
  if (!own_fd_) return;
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return;
  ::close(fd_);
  fd_ = fd;
}

std::uint64_t AccessLog::dropped_batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::uint64_t AccessLog::dropped_lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_lines_;
}

void AccessLog::run() {
  for (;;) {
    std::string batch;
    bool reopen = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || reopen_ || !queue_.empty(); });
      reopen = reopen_;
      reopen_ = false;
      if (queue_.empty() && !reopen) return;  // stopping, and everything is written
      if (!queue_.empty()) {
        batch = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= batch.size();
      }
    }
    if (reopen) reopen_now();
    if (batch.empty()) continue;
    if (prepare_) prepare_(batch);
    std::size_t done = 0;
    while (done < batch.size()) {
      ssize_t n = ::write(fd_, batch.data() + done, batch.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // nothing useful to do about a broken log: drop the rest
      done += static_cast<std::size_t>(n);
    }
  }
}

}  // namespace regiongate
