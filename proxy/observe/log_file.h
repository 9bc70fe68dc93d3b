#pragma once
// The file a log's writer thread appends to (observe/access_log.h): a
// regular file, stdout ("-"), or whatever else the name opens (a pipe,
// /dev/full). Writer thread only, once opened.
//
// A regular file is written at its end as this writer knows it, checked
// against the file's size before each round of writes (prepare()), so a
// truncation (a copytruncate rotation) or another writer's lines are
// followed, not written over. Its whole 4 KiB blocks go out with O_DIRECT
// from an aligned buffer, and only the part before the first whole block
// and after the last one through the page cache: a log is written once
// and seldom read, and the page cache's share of a buffered write (a page
// allocated, its buffer heads, its writeback, the drop behind) cost more
// than the copy into the buffer. Measured here, 5,000,000 lines of 280
// bytes in writes of 512 KiB, 4 interleaved runs: 0.050-0.054 µs a line
// on the writer against 0.076-0.102, and 0.056-0.060 against 0.084-0.118
// of all the machine's CPU. Nothing is held back: every write() puts all
// it was given in the file, and readers see the file's size grow by whole
// lines as before. A file system that refuses O_DIRECT gets buffered writes.

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace regiongate {

class LogFile {
 public:
  static constexpr std::size_t kBlock = 4096;
  // The aligned buffer direct writes are copied into, and so their most.
  static constexpr std::size_t kDirectBytes = 1 << 20;
  // A regular file's blocks are reserved ahead this much at a time
  // (fallocate, keeping the size), so that ext4 finds blocks once per 4 MiB
  // and not page by page as the file grows. Measured: a third of a
  // buffered append's kernel time (0.115 against 0.075 µs per 450-byte
  // line, in 128 KiB writes). What is reserved past the end stays with a
  // rotated file until it is deleted.
  static constexpr off_t kReserveBytes = 4 << 20;
  // The pages that did go through the page cache are written back and
  // dropped behind the writer this much at a time (drop_behind()).
  static constexpr off_t kDropBehindBytes = 8 << 20;

  LogFile() = default;
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  ~LogFile();

  // `path`: a file (created 0640, appended to) or "-" for stdout.
  // `direct`: whole blocks with O_DIRECT where the file system takes it.
  bool open(const std::string& path, bool direct, std::string* error);
  // The same name opened again (rotation: the old file was renamed); on
  // failure the old file is kept and *error says why.
  bool reopen(std::string* error);

  // Before a round of writes of `bytes`: the file's size read again and
  // followed, its blocks reserved ahead, written pages dropped behind.
  void prepare(std::size_t bytes);
  // Writes `batches` from byte `skip` on (as one stream), or some of them:
  // returns how many bytes it wrote, 0 when there were none to write, or
  // -1 with errno.
  ssize_t write(const std::vector<std::string>& batches, std::size_t skip);

  // Whether whole blocks go out with O_DIRECT (for tests).
  bool direct() const { return direct_fd_ >= 0; }

 private:
  void start();  // after a file is opened: what it is, its size
  void close_all();
  // Appends `bytes` of the stream at `skip` through the page cache.
  ssize_t write_buffered(const std::vector<std::string>& batches, std::size_t skip,
                         std::size_t bytes);
  // Appends `bytes` (whole blocks) with O_DIRECT, copied to the buffer.
  ssize_t write_direct(const std::vector<std::string>& batches, std::size_t skip,
                       std::size_t bytes);
  // The file's pages are written back and dropped from the page cache
  // behind the writer, kDropBehindBytes at a time: writeback of the latest
  // whole step is started (sync_file_range, not waited for) and the step
  // before it, written back by then, is dropped (POSIX_FADV_DONTNEED). The
  // pages it frees are taken again by its next writes, while the CPU still
  // has them. Measured in this VM, where free memory goes back to the host
  // and costs a host fault per page when touched again (5-9 µs per 4 KiB):
  // once the page cache had grown by 1.5 GB, the writer went from 0.08 to
  // 0.6-0.9 µs a line. (With whole blocks written directly, few pages are
  // left to drop.)
  void drop_behind();
  void reserve_ahead(std::size_t bytes);

  std::string path_;
  bool want_direct_ = false;
  int fd_ = -1;
  bool own_fd_ = false;
  int direct_fd_ = -1;  // the same file, opened with O_DIRECT; -1: none
  struct FreeAligned {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, FreeAligned> buffer_;  // kDirectBytes, kBlock-aligned
  // Regular files: where the next byte goes, whether fallocate works, the
  // end of what is reserved, and where writeback was last started.
  bool regular_ = false, reserving_ = false;
  off_t end_ = 0, reserved_end_ = 0, written_back_to_ = 0;
};

}  // namespace regiongate
