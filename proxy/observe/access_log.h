#pragma once
// A log's writer (the access log, the audit log): workers format lines into
// their own buffers and hand whole batches over; one writer thread does the
// (possibly blocking) writes, so a slow disk or a full pipe never stalls a
// worker. It comes by every kWriteInterval (or when kWakeBytes wait) and
// writes everything queued at once, so that a busy worker is not preempted
// by a wake-up per batch; it runs at a lower priority (nice 5), so that on
// a core it shares with a worker it writes while the worker waits. The queue is bounded: past it, batches are
// dropped and counted, never waited for.
//
// A batch the file refuses (ENOSPC, EIO, ...) is kept and written again
// from where it stopped, every kRetryInterval and at once after reopen(),
// so a failure loses nothing until the queue behind it is full. While the
// writer is stuck like that, or once a batch has been dropped, the log is
// not writable(); it is again as soon as a batch is written in full. A
// required audit log (server.audit_log.required) refuses what it would
// have to record meanwhile: workers read writable() without a lock.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace regiongate {

class AccessLog {
 public:
  // One worker's lines, as submit() took them, and how many.
  struct Batch {
    std::string text;
    std::size_t lines = 0;
  };
  // Runs on the writer thread just before the batches of one write are
  // written (in submission order; never none): the audit log seals their
  // records into its hash chain here, with one seal after the last.
  using Prepare = std::function<void(std::span<Batch> batches)>;
  // Runs on the writer thread when the log stops or starts being writable,
  // with one line saying so (for the error log).
  using Report = std::function<void(std::string_view line)>;

  static constexpr std::size_t kMaxQueuedBytes = 16 << 20;
  static constexpr std::chrono::milliseconds kRetryInterval{1000};
  // The writer writes what is queued this often, in one write, or as soon
  // as kWakeBytes are waiting: at most a few dozen wake-ups a second at a
  // worker's full rate, each write short enough (about 100 µs) not to hold
  // up a worker sharing its core for long. Measured at 100k lines a second
  // (bench/log_cost.sh, 5 interleaved rounds): 512 KiB against 128 KiB
  // took the writer from 0.17 to 0.09 µs a request. A fifth of its time
  // had been the context switches of its wake-ups (perf: futex wait and
  // finish_task_switch), and one write of 512 KiB costs less a line than
  // four of 128 (0.058 against 0.066 µs); 1 MiB, in writes of 256 KiB,
  // was no better (0.10).
  static constexpr std::chrono::milliseconds kWriteInterval{100};
  static constexpr std::size_t kWakeBytes = 512 << 10;
  // A regular file's pages are dropped from the page cache behind the
  // writer this much at a time (drop_behind()).
  static constexpr off_t kDropBehindBytes = 8 << 20;

  // `thread_name`: the writer thread's ("rg-log-access"), for top and ps.
  explicit AccessLog(std::size_t max_queued_bytes = kMaxQueuedBytes, std::string thread_name = "rg-log")
      : max_queued_bytes_(max_queued_bytes), thread_name_(std::move(thread_name)) {}
  // `path`: a file (appended to), "-" for stdout, or "off".
  bool open(const std::string& path, std::string* error, Prepare prepare = {}, Report report = {});
  // Writes what is queued (one more try for a batch the file refused; what
  // still cannot be written is counted as dropped), then stops the writer.
  ~AccessLog();

  bool enabled() const { return enabled_; }
  // Thread-safe. Takes the batch of `lines` lines; the caller's buffer is
  // left empty (a written batch's buffer, when there is one to reuse).
  // The caller counts its lines as it writes them, so that neither a
  // dropped batch's count nor the audit log's seal reads them again.
  void submit(std::string& batch, std::size_t lines);
  // Spare buffers kept for reuse, and the largest kept.
  static constexpr std::size_t kMaxSpareBuffers = 32;
  static constexpr std::size_t kMaxSpareCapacity = 1 << 20;
  std::size_t spare_buffers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spare_.size();
  }
  // Thread-safe: the file is closed and opened again by name before the
  // next batch (rotation: the old one was renamed). Nothing is lost.
  void reopen();

  // Lock-free, from any thread (metrics, the workers).
  // False from a failed write or a dropped batch until a batch is written in full.
  bool writable() const { return writable_.load(std::memory_order_acquire); }
  std::uint64_t failed_writes() const { return failed_writes_.load(std::memory_order_relaxed); }
  std::uint64_t dropped_batches() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t dropped_lines() const { return dropped_lines_.load(std::memory_order_relaxed); }  // in those batches

 private:
  void run();
  void reopen_now();
  // Writes pending_ from pending_done_ on; false when the file refuses it.
  bool write_pending();
  // Before `bytes` more are appended to a regular file: drop_behind() what
  // is written, and reserve_ahead() room for them.
  void before_append(std::size_t bytes);
  // Its blocks are reserved ahead, kReserveBytes at a time (fallocate,
  // keeping the size), so that ext4 finds blocks once per 4 MiB and not
  // page by page as the file grows. Measured: a third of a buffered
  // append's kernel time (0.115 against 0.075 µs per 450-byte line, in
  // 128 KiB writes). What is reserved past the end stays with a rotated
  // file until it is deleted.
  void reserve_ahead(off_t size, std::size_t bytes);
  // The file's pages are written back and dropped from the page cache
  // behind the writer, kDropBehindBytes at a time: writeback of the latest
  // whole step is started (sync_file_range, not waited for) and the step
  // before it, written back by then, is dropped (POSIX_FADV_DONTNEED). A
  // log is written once and seldom read, so it should not fill the page
  // cache; and the pages it frees are taken again by its next writes, while
  // the CPU still has them. Measured in this VM, where free memory goes
  // back to the host and costs a host fault per page when touched again
  // (5-9 µs per 4 KiB): once the page cache had grown by 1.5 GB, the
  // writer went from 0.08 to 0.6-0.9 µs a line.
  void drop_behind(off_t size);
  void start_reserving();
  // Empties pending_ into spare_.
  void recycle_pending();
  void drop_everything_left();
  void report(const std::string& line) const;

  const std::size_t max_queued_bytes_;
  const std::string thread_name_;
  std::string path_;
  Prepare prepare_;
  Report report_;
  bool enabled_ = false;
  int fd_ = -1;  // writer thread only once it runs
  bool own_fd_ = false;
  static constexpr off_t kReserveBytes = 4 << 20;
  // Writer thread only (before_append): whether fd_ is a regular file,
  // whether it takes fallocate, the end of what is reserved, where
  // writeback was last started, and the size after the last write (a
  // smaller one: the file was truncated, and its reservation went with it).
  bool regular_ = false, reserving_ = false;
  off_t reserved_end_ = 0, written_back_to_ = 0, size_seen_ = 0;
  // Writer thread only: prepared batches not yet written in full, written
  // together with writev (not joined into one string: that copy and the
  // pages of a string grown to megabytes cost more than the write), and
  // how much of them is written.
  std::vector<std::string> pending_;
  std::size_t pending_done_ = 0;
  std::atomic<bool> writable_{true};
  std::atomic<std::uint64_t> failed_writes_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> dropped_lines_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Batch> queue_;
  std::size_t queued_bytes_ = 0;
  // Written batches, emptied with their capacity kept, handed back to the
  // workers by submit(): a worker's batch buffer is reused, never freshly
  // allocated and faulted in, and never freed on another thread.
  std::vector<std::string> spare_;
  bool stopping_ = false;
  bool reopen_ = false;
  std::thread writer_;
};

}  // namespace regiongate
