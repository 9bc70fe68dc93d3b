#include "proxy/observe/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace regiongate {
namespace {

int open_log(const std::string& path, int flags) {
  return ::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0640);
}

// Up to `bytes` of `batches`, read as one stream from `skip` on, as at
// most IOV_MAX pieces; returns how many.
int gather(const std::vector<std::string>& batches, std::size_t skip, std::size_t bytes,
           iovec (&iov)[IOV_MAX]) {
  int count = 0;
  for (const std::string& batch : batches) {
    if (bytes == 0 || count == IOV_MAX) break;
    if (skip >= batch.size()) {
      skip -= batch.size();
      continue;
    }
    const std::size_t take = std::min(batch.size() - skip, bytes);
    iov[count].iov_base = const_cast<char*>(batch.data() + skip);
    iov[count].iov_len = take;
    ++count;
    bytes -= take;
    skip = 0;
  }
  return count;
}

}  // namespace

void LogFile::FreeAligned::operator()(char* p) const { std::free(p); }

LogFile::~LogFile() { close_all(); }

void LogFile::close_all() {
  if (direct_fd_ >= 0) ::close(direct_fd_);
  direct_fd_ = -1;
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  own_fd_ = false;
}

bool LogFile::open(const std::string& path, bool direct, std::string* error) {
  path_ = path;
  want_direct_ = direct;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    // Not O_APPEND: a regular file is written where this writer puts it
    // (pwrite ignores the offset under O_APPEND), at the end prepare() reads.
    fd_ = open_log(path, O_CREAT);
    if (fd_ < 0) {
      *error = "cannot open the log '" + path + "': " + std::strerror(errno);
      return false;
    }
    own_fd_ = true;
  }
  start();
  return true;
}

bool LogFile::reopen(std::string* error) {
  if (!own_fd_) return true;  // stdout is whatever it is
  const int fd = open_log(path_, O_CREAT);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  close_all();
  fd_ = fd;
  own_fd_ = true;
  start();
  return true;
}

void LogFile::start() {
  struct stat st;
  regular_ = reserving_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  end_ = regular_ ? st.st_size : 0;
  reserved_end_ = 0;
  // What the file held already is left to the kernel.
  written_back_to_ = regular_ ? st.st_size / kDropBehindBytes * kDropBehindBytes : 0;
  // Stdout, even when it is a regular file, may be shared (2>&1): only a
  // file of its own is written at its own offsets, and so directly.
  if (!regular_ || !own_fd_ || !want_direct_) return;
  const int direct = open_log(path_, O_DIRECT);
  struct stat ds;
  // The same file, not one renamed in between (and a file system that takes O_DIRECT).
  if (direct >= 0 && fstat(direct, &ds) == 0 && ds.st_dev == st.st_dev && ds.st_ino == st.st_ino) {
    direct_fd_ = direct;
  } else if (direct >= 0) {
    ::close(direct);
  }
  if (direct_fd_ >= 0 && !buffer_) {
    void* p = nullptr;
    if (posix_memalign(&p, kBlock, kDirectBytes) == 0) {
      buffer_.reset(static_cast<char*>(p));
    } else {
      ::close(direct_fd_);
      direct_fd_ = -1;
    }
  }
}

void LogFile::prepare(std::size_t bytes) {
  if (!regular_) return;
  struct stat st;
  if (fstat(fd_, &st) != 0) return;
  // Smaller than after the last write: truncated (a copytruncate
  // rotation), and its reservation went with it.
  if (st.st_size < end_) reserved_end_ = written_back_to_ = 0;
  // Writes go on from the file's end, whoever moved it.
  end_ = st.st_size;
  drop_behind();
  reserve_ahead(bytes);
}

ssize_t LogFile::write(const std::vector<std::string>& batches, std::size_t skip) {
  std::size_t bytes = 0;
  for (const std::string& batch : batches) bytes += batch.size();
  if (skip >= bytes) return 0;
  bytes -= skip;
  if (direct_fd_ < 0) return write_buffered(batches, skip, bytes);
  // Through the page cache: up to the first whole block, or the last part
  // of one; the whole blocks between, directly.
  if (const auto into_block = static_cast<std::size_t>(end_ % static_cast<off_t>(kBlock))) {
    return write_buffered(batches, skip, std::min(bytes, kBlock - into_block));
  }
  if (bytes < kBlock) return write_buffered(batches, skip, bytes);
  const ssize_t n = write_direct(batches, skip, std::min(bytes / kBlock * kBlock, kDirectBytes));
  if (n < 0 && errno == EINVAL) {
    // The file system opened it so but refuses the write (an alignment it
    // wants larger): the page cache for this file from now on.
    ::close(direct_fd_);
    direct_fd_ = -1;
    return write_buffered(batches, skip, bytes);
  }
  return n;
}

ssize_t LogFile::write_buffered(const std::vector<std::string>& batches, std::size_t skip,
                                std::size_t bytes) {
  iovec iov[IOV_MAX];
  const int count = gather(batches, skip, bytes, iov);
  const ssize_t n = regular_ && own_fd_ ? ::pwritev(fd_, iov, count, end_) : ::writev(fd_, iov, count);
  if (n > 0) end_ += n;
  return n;
}

ssize_t LogFile::write_direct(const std::vector<std::string>& batches, std::size_t skip,
                              std::size_t bytes) {
  char* to = buffer_.get();
  std::size_t left = bytes;
  for (const std::string& batch : batches) {
    if (left == 0) break;
    if (skip >= batch.size()) {
      skip -= batch.size();
      continue;
    }
    const std::size_t take = std::min(batch.size() - skip, left);
    std::memcpy(to, batch.data() + skip, take);
    to += take;
    left -= take;
    skip = 0;
  }
  // A short write (not a whole number of blocks, even) is fine: the next
  // one starts with the page cache up to a block's end again.
  const ssize_t n = ::pwrite(direct_fd_, buffer_.get(), bytes, end_);
  if (n > 0) end_ += n;
  return n;
}

void LogFile::drop_behind() {
  // Best effort: a page still being written back, or a failed call, leaves
  // pages to the kernel's own reclaim.
  while (end_ - written_back_to_ >= kDropBehindBytes) {
    sync_file_range(fd_, written_back_to_, kDropBehindBytes, SYNC_FILE_RANGE_WRITE);
    if (written_back_to_ >= kDropBehindBytes) {
      posix_fadvise(fd_, written_back_to_ - kDropBehindBytes, kDropBehindBytes, POSIX_FADV_DONTNEED);
    }
    written_back_to_ += kDropBehindBytes;
  }
}

void LogFile::reserve_ahead(std::size_t bytes) {
  if (!reserving_) return;
  const off_t want = end_ + static_cast<off_t>(bytes);
  if (want <= reserved_end_) return;
  const off_t length = std::max<off_t>(kReserveBytes, want - end_);
  if (fallocate(fd_, FALLOC_FL_KEEP_SIZE, end_, length) == 0) {
    reserved_end_ = end_ + length;
  } else if (errno == EOPNOTSUPP || errno == ENODEV || errno == ESPIPE) {
    reserving_ = false;  // a file system without it: plain appends
  }
  // Anything else (ENOSPC, ...): the write itself says so; tried again next time.
}

}  // namespace regiongate
