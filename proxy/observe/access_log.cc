#include "proxy/observe/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace regiongate {

bool AccessLog::open(const std::string& path, std::string* error) {
  if (path == "off") return true;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      *error = "cannot open access log '" + path + "': " + std::strerror(errno);
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
      batch.clear();
      return;
    }
    queued_bytes_ += batch.size();
    queue_.push_back(std::move(batch));
  }
  batch.clear();
  wake_.notify_one();
}

std::uint64_t AccessLog::dropped_batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

void AccessLog::run() {
  for (;;) {
    std::string batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      batch = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= batch.size();
    }
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
