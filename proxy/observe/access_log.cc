#include "proxy/observe/access_log.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "util/count_lines.h"
#include "util/thread_name.h"

namespace regiongate {

bool AccessLog::open(const std::string& path, std::string* error, Prepare prepare, Report report,
                     bool direct) {
  path_ = path;
  prepare_ = std::move(prepare);
  report_ = std::move(report);
  if (path == "off") return true;
  if (!file_.open(path, direct, error)) return false;
  direct_ = file_.direct();
  enabled_ = true;
  writer_ = std::thread([this] {
    name_this_thread(thread_name_);
    // Below the workers: a worker preempted by a write waits in its clients' latency.
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
    run();
  });
  return true;
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void AccessLog::submit(std::string& batch) {
  if (batch.empty()) return;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queued_bytes_ + batch.size() > max_queued_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      writable_.store(false, std::memory_order_release);
      dropped_lines_.fetch_add(static_cast<std::uint64_t>(count_lines(batch)),
                               std::memory_order_relaxed);
      batch.clear();
      return;
    }
    const bool was_below = queued_bytes_ < kWakeBytes;
    queued_bytes_ += batch.size();
    queue_.push_back(std::move(batch));
    if (!spare_.empty()) {
      batch = std::move(spare_.back());
      spare_.pop_back();
    }
    // The writer comes by every kWriteInterval anyway: woken only when a
    // lot is waiting (a wake-up is a context switch on a busy core).
    wake = was_below && queued_bytes_ >= kWakeBytes;
  }
  batch.clear();
  if (wake) wake_.notify_one();
}

void AccessLog::reopen() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reopen_ = true;
  }
  wake_.notify_one();
}

void AccessLog::report(const std::string& line) const {
  if (report_) report_(line);
}

// Writer thread only. A file that cannot be opened again keeps the old one.
void AccessLog::reopen_now() {
  std::string error;
  if (!file_.reopen(&error)) report("cannot open '" + path_ + "' again: " + error + "; writing to the old file");
}

bool AccessLog::write_pending() {
  const std::uint64_t drops_before = dropped_.load(std::memory_order_relaxed);
  std::size_t bytes = 0;
  for (const std::string& batch : pending_) bytes += batch.size();
  file_.prepare(bytes - pending_done_);
  while (pending_done_ < bytes) {
    const ssize_t n = file_.write(pending_, pending_done_);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;  // 0 bytes of a non-empty write: nothing moves
      failed_writes_.fetch_add(1, std::memory_order_relaxed);
      if (writable_.exchange(false, std::memory_order_acq_rel)) {
        report("cannot write '" + path_ + "': " + std::strerror(error) + "; retrying");
      }
      return false;
    }
    pending_done_ += static_cast<std::size_t>(n);
  }
  recycle_pending();
  // A batch dropped meanwhile keeps it unwritable until the next one is written.
  if (dropped_.load(std::memory_order_relaxed) == drops_before &&
      !writable_.exchange(true, std::memory_order_acq_rel)) {
    report("writing '" + path_ + "' again (" + std::to_string(failed_writes()) +
           " failed write(s), " + std::to_string(dropped_batches()) + " dropped batch(es) so far)");
  }
  return true;
}

void AccessLog::recycle_pending() {
  pending_done_ = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::string& batch : pending_) {
      if (spare_.size() == kMaxSpareBuffers) break;
      if (batch.capacity() > kMaxSpareCapacity) continue;
      batch.clear();
      spare_.push_back(std::move(batch));
    }
  }
  pending_.clear();
}

void AccessLog::drop_everything_left() {
  std::uint64_t n = pending_.size();
  pending_.clear();
  pending_done_ = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    n += queue_.size();
    queue_.clear();
    queued_bytes_ = 0;
  }
  dropped_.fetch_add(n, std::memory_order_relaxed);
  writable_.store(false, std::memory_order_release);
  report("stopping: " + std::to_string(n) + " batch(es) could not be written to '" + path_ + "'");
}

void AccessLog::run() {
  std::uint64_t drops_seen = 0;
  for (;;) {
    std::vector<std::string> batches;
    bool reopen = false, stopping = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (pending_.empty()) {
        // Every kWriteInterval, or sooner when much is waiting: all that
        // is queued goes in one write.
        wake_.wait_for(lock, kWriteInterval,
                       [this] { return stopping_ || reopen_ || queued_bytes_ >= kWakeBytes; });
      } else {
        // The file refused the last write: again after a pause, or at once
        // when it is reopened or the log stops.
        wake_.wait_for(lock, kRetryInterval, [this] { return stopping_ || reopen_; });
      }
      reopen = std::exchange(reopen_, false);
      stopping = stopping_;
      if (pending_.empty()) {
        batches.swap(queue_);
        queued_bytes_ = 0;
        if (batches.empty() && !reopen) {
          if (stopping) return;  // everything is written
          continue;
        }
      }
    }
    if (const std::uint64_t drops = dropped_batches(); drops != drops_seen) {
      report(std::to_string(drops - drops_seen) + " batch(es) dropped: the queue to '" + path_ +
             "' is full");
      drops_seen = drops;
    }
    if (reopen) reopen_now();
    for (std::string& batch : batches) {
      if (prepare_) prepare_(batch);  // in submission order: the chain
      pending_.push_back(std::move(batch));
    }
    if (pending_.empty()) continue;
    if (!write_pending() && stopping) {
      drop_everything_left();
      return;
    }
  }
}

}  // namespace regiongate
