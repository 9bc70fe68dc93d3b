#include "util/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace regiongate {
namespace {

std::string errno_message(std::string_view what, const FileKind& kind, int error_number) {
  return std::string(what) + " the " + std::string(kind.name) + ": " +
         std::error_code(error_number, std::generic_category()).message();
}

// Empty when `st` is a regular file of at most the bound; why not otherwise.
std::string refusal(const struct stat& st, const FileKind& kind) {
  const std::string the = "the " + std::string(kind.name);
  if (S_ISDIR(st.st_mode)) return the + " is a directory";
  if (!S_ISREG(st.st_mode)) {
    const char* what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "of an unknown type";
    return the + " is not a regular file (" + what + ")";
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > kind.max_bytes) {
    return the + " is " + std::to_string(size) + " bytes, more than the " +
           format_byte_count(kind.max_bytes) + " allowed";
  }
  return {};
}

// stat() of `path` as refusal() sees it: empty when it may be opened.
std::string check_path(const std::string& path, const FileKind& kind) {
  // A path from YAML may hold "\0": the kernel would see only its start.
  if (path.find('\0') != std::string::npos) {
    return "the " + std::string(kind.name) + "'s path holds a NUL byte";
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_message("cannot open", kind, errno);
  return refusal(st, kind);
}

}  // namespace

std::string format_byte_count(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024, kMiB = kKiB << 10, kGiB = kMiB << 10;
  if (bytes >= kGiB && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + " GiB";
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

std::optional<RegularFile> RegularFile::open(const std::string& path, const FileKind& kind,
                                             std::string* error) {
  if (std::string why = check_path(path, kind); !why.empty()) {
    *error = std::move(why);
    return std::nullopt;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    *error = errno_message("cannot open", kind, errno);
    return std::nullopt;
  }
  RegularFile file(fd, 0, kind);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = errno_message("cannot read", kind, errno);
    return std::nullopt;
  }
  if (std::string why = refusal(st, kind); !why.empty()) {  // swapped since stat()
    *error = std::move(why);
    return std::nullopt;
  }
  file.size_ = static_cast<std::uint64_t>(st.st_size);
  return file;
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), kind_(other.kind_) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    kind_ = other.kind_;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::size_t> RegularFile::read(char* buffer, std::size_t capacity,
                                             std::string* error) {
  std::size_t total = 0;
  while (total < capacity) {
    // At most 1 GiB a call: Linux reads at most about 2 GiB in one.
    const ssize_t n = ::read(fd_, buffer + total, std::min<std::size_t>(capacity - total, 1 << 30));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = errno_message("cannot read", kind_, errno);
      return std::nullopt;
    }
    total += static_cast<std::size_t>(n);
  }
  return total;
}

std::string RegularFile::grew_message() const {
  return "the " + std::string(kind_.name) + " grew past the " + format_byte_count(kind_.max_bytes) +
         " allowed while it was read";
}

bool read_regular_file(const std::string& path, const FileKind& kind, std::string* out,
                       std::string* error) {
  std::optional<RegularFile> file = RegularFile::open(path, kind, error);
  if (!file) return false;
  // One byte more than the file holds (and than the bound allows), so that
  // a file that grew since it was opened is seen to.
  const std::uint64_t limit = kind.max_bytes + 1;
  std::string text(static_cast<std::size_t>(file->size() + 1), '\0');
  std::size_t size = 0;
  for (;;) {
    std::optional<std::size_t> n = file->read(text.data() + size, text.size() - size, error);
    if (!n) return false;
    size += *n;
    if (size < text.size()) break;  // the end of the file
    if (text.size() >= limit) {
      *error = file->grew_message();
      return false;
    }
    const std::uint64_t grown = std::max<std::uint64_t>(text.size() * 2, 4096);
    text.resize(static_cast<std::size_t>(std::min(limit, grown)));
  }
  text.resize(size);
  *out = std::move(text);
  return true;
}

bool check_regular_file(const std::string& path, const FileKind& kind, std::string* error) {
  std::string why = check_path(path, kind);
  if (why.empty()) return true;
  *error = std::move(why);
  return false;
}

}  // namespace regiongate
