#include "proxy/observe/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "util/thread_name.h"

namespace regiongate {
namespace {

int open_for_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

}  // namespace

bool AccessLog::open(const std::string& path, std::string* error, Prepare prepare, Report report) {
  path_ = path;
  prepare_ = std::move(prepare);
  report_ = std::move(report);
  if (path == "off") return true;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = open_for_append(path);
    if (fd_ < 0) {
      *error = "cannot open the log '" + path + "': " + std::strerror(errno);
      return false;
    }
    own_fd_ = true;
  }
  enabled_ = true;
  start_reserving();
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
  if (own_fd_) close(fd_);
}

void AccessLog::submit(std::string& batch, std::size_t lines) {
  if (batch.empty()) return;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queued_bytes_ + batch.size() > max_queued_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      writable_.store(false, std::memory_order_release);
      dropped_lines_.fetch_add(static_cast<std::uint64_t>(lines), std::memory_order_relaxed);
      batch.clear();
      return;
    }
    const bool was_below = queued_bytes_ < kWakeBytes;
    queued_bytes_ += batch.size();
    queue_.push_back(Batch{std::move(batch), lines});
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
  if (!own_fd_) return;
  int fd = open_for_append(path_);
  if (fd < 0) {
    report("cannot open '" + path_ + "' again: " + std::strerror(errno) +
           "; writing to the old file");
    return;
  }
  ::close(fd_);
  fd_ = fd;
  start_reserving();
}

void AccessLog::start_reserving() {
  struct stat st;
  regular_ = reserving_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  reserved_end_ = size_seen_ = 0;
  // What the file held already is left to the kernel.
  written_back_to_ = regular_ ? st.st_size / kDropBehindBytes * kDropBehindBytes : 0;
}

void AccessLog::before_append(std::size_t bytes) {
  if (!regular_) return;
  struct stat st;
  if (fstat(fd_, &st) != 0) return;
  // Smaller than after the last write: truncated (a copytruncate rotation).
  if (st.st_size < size_seen_) reserved_end_ = written_back_to_ = 0;
  size_seen_ = st.st_size + static_cast<off_t>(bytes);
  drop_behind(st.st_size);
  reserve_ahead(st.st_size, bytes);
}

void AccessLog::drop_behind(off_t size) {
  // Best effort: a page still being written back, or a failed call, leaves
  // pages to the kernel's own reclaim, as before.
  while (size - written_back_to_ >= kDropBehindBytes) {
    sync_file_range(fd_, written_back_to_, kDropBehindBytes, SYNC_FILE_RANGE_WRITE);
    if (written_back_to_ >= kDropBehindBytes) {
      posix_fadvise(fd_, written_back_to_ - kDropBehindBytes, kDropBehindBytes, POSIX_FADV_DONTNEED);
    }
    written_back_to_ += kDropBehindBytes;
  }
}

void AccessLog::reserve_ahead(off_t size, std::size_t bytes) {
  if (!reserving_) return;
  const off_t want = size + static_cast<off_t>(bytes);
  if (want <= reserved_end_) return;
  const off_t length = std::max<off_t>(kReserveBytes, want - size);
  if (fallocate(fd_, FALLOC_FL_KEEP_SIZE, size, length) == 0) {
    reserved_end_ = size + length;
  } else if (errno == EOPNOTSUPP || errno == ENODEV || errno == ESPIPE) {
    reserving_ = false;  // a file system without it: plain appends
  }
  // Anything else (ENOSPC, ...): the write itself says so; tried again next time.
}

bool AccessLog::write_pending() {
  const std::uint64_t drops_before = dropped_.load(std::memory_order_relaxed);
  std::size_t bytes = 0;
  for (const std::string& batch : pending_) bytes += batch.size();
  before_append(bytes - pending_done_);
  for (;;) {
    // The batches from pending_done_ on, up to IOV_MAX of them at a time.
    iovec iov[IOV_MAX];
    int count = 0;
    std::size_t skip = pending_done_;
    for (const std::string& batch : pending_) {
      if (skip >= batch.size()) {
        skip -= batch.size();
        continue;
      }
      iov[count].iov_base = const_cast<char*>(batch.data() + skip);
      iov[count].iov_len = batch.size() - skip;
      skip = 0;
      if (++count == IOV_MAX) break;
    }
    if (count == 0) break;
    ssize_t n = ::writev(fd_, iov, count);
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
    std::vector<Batch> batches;
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
    if (prepare_ && !batches.empty()) prepare_(batches);
    for (Batch& batch : batches) pending_.push_back(std::move(batch.text));
    if (pending_.empty()) continue;
    if (!write_pending() && stopping) {
      drop_everything_left();
      return;
    }
  }
}

}  // namespace regiongate
