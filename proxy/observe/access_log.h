#pragma once
// A log's writer (the access log, the audit log): workers format lines into
// their own buffers and hand whole batches over; one writer thread does the
// (possibly blocking) writes, so a slow disk or a full pipe never stalls a
// worker. The queue is bounded: past it, batches are dropped and counted,
// never waited for.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace regiongate {

class AccessLog {
 public:
  // Runs on the writer thread, in submission order, just before a batch is
  // written: the audit log links its records into a hash chain here.
  using Prepare = std::function<void(std::string& batch)>;

  // `path`: a file (appended to), "-" for stdout, or "off".
  bool open(const std::string& path, std::string* error, Prepare prepare = {});
  ~AccessLog();

  bool enabled() const { return fd_ >= 0; }
  // Thread-safe. Takes the batch (the caller's buffer is left empty).
  void submit(std::string& batch);
  // Thread-safe: the file is closed and opened again by name before the
  // next batch (rotation: the old one was renamed). Nothing is lost.
  void reopen();
  std::uint64_t dropped_batches() const;
  std::uint64_t dropped_lines() const;  // the lines (records) in those batches

 private:
  void run();
  void reopen_now();

  static constexpr std::size_t kMaxQueuedBytes = 16 << 20;

  std::string path_;
  Prepare prepare_;
  int fd_ = -1;
  bool own_fd_ = false;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_lines_ = 0;
  bool stopping_ = false;
  bool reopen_ = false;
  std::thread writer_;
};

}  // namespace regiongate
