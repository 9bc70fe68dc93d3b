#pragma once
// Opening the files a configuration names (the configuration itself, the
// policy, data centres, account directory, GeoIP database, key and
// certificate files): only regular files, and only up to a bound of their
// kind, checked before a byte is read. A FIFO, a device (/dev/zero), a
// directory or a socket is refused with a message that says which, so a
// mistaken path can neither block the reading thread (a FIFO with no
// writer), nor read without end (/dev/zero), nor pass for something else (a
// directory read as an empty file).
//
// The path is stat()ed before it is opened, so a device is never opened at
// all (opening some has effects), and the open descriptor is fstat()ed
// again (O_NONBLOCK: a FIFO swapped in between cannot block the open), so
// what is read is what was checked. Reading stops one byte past the bound:
// a file that grows while it is read is refused too.
//
// Messages name the kind, not the path ("the YAML file is a directory");
// callers put them where their diagnostics name the path.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace regiongate {

// A kind of file and the most it may hold.
struct FileKind {
  std::string_view name;  // "YAML file", "GeoIP database": for messages
  std::uint64_t max_bytes;
};

// "4 MiB", "1 GiB", "100 bytes": a bound as the documentation writes it.
std::string format_byte_count(std::uint64_t bytes);

// An open regular file of at most its kind's bound (closed when destroyed).
class RegularFile {
 public:
  // nullopt with *error ("the YAML file is not a regular file (a FIFO)",
  // "cannot open the key file: No such file or directory", ...).
  static std::optional<RegularFile> open(const std::string& path, const FileKind& kind,
                                         std::string* error);

  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  // The size when it was opened (a file of /proc says 0 and holds more).
  std::uint64_t size() const { return size_; }

  // Reads from where the last read stopped until `capacity` bytes are in
  // `buffer` or the file ends; the count read, or nullopt with *error.
  std::optional<std::size_t> read(char* buffer, std::size_t capacity, std::string* error);

  // The message for a file that holds more than its bound after all (it
  // grew after it was opened).
  std::string grew_message() const;

 private:
  RegularFile(int fd, std::uint64_t size, const FileKind& kind)
      : fd_(fd), size_(size), kind_(kind) {}
  int fd_ = -1;
  std::uint64_t size_ = 0;
  FileKind kind_;
};

// The whole of a regular file of at most kind.max_bytes, into *out; false
// with *error otherwise.
bool read_regular_file(const std::string& path, const FileKind& kind, std::string* out,
                       std::string* error);

// For a file a library opens by its name (libmaxminddb, OpenSSL): whether it
// is a regular file of at most kind.max_bytes now. The library's own open
// comes later: a file swapped between the two is the library's to handle.
bool check_regular_file(const std::string& path, const FileKind& kind, std::string* error);

}  // namespace regiongate
