#include "maps/file_directory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <optional>

#include "maps/directory_line.h"

namespace regiongate {
namespace {

constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << 40) - 1;
constexpr int kLengthShift = 40;
constexpr std::uint64_t kTagMask = ~std::uint64_t{0} << 48;
// What must equal before the key bytes are compared: length and tag.
constexpr std::uint64_t kMatchMask = ~kOffsetMask;
constexpr std::size_t kMinCapacity = 16;
constexpr std::size_t kHugePageSize = 2 << 20;
// A file that says it is empty (as files of /proc do) may hold more.
constexpr std::size_t kMinReadBuffer = 1 << 16;
static_assert(FileAccountDirectory::kMaxIdLength <= 0xff, "the length has 8 bits in a slot");

// --- After wyhash (final version 4, Wang Yi, public domain), for short keys.
// Ids are mostly 8..24 bytes; this does one or two 64x64->128 multiplies for
// those, several times faster than FNV-1a's byte loop, with good avalanche so
// that sequential ids ("acct-1", "acct-2", ...) spread over the table.

constexpr std::uint64_t kSecret0 = 0xa0761d6478bd642full;
constexpr std::uint64_t kSecret1 = 0xe7037ed1a0b428dbull;

inline void mum(std::uint64_t& a, std::uint64_t& b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  a = static_cast<std::uint64_t>(r);
  b = static_cast<std::uint64_t>(r >> 64);
}
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  mum(a, b);
  return a ^ b;
}
inline std::uint64_t read8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint64_t read4(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Every byte of a 1..16-byte string, as two words made of overlapping reads
// (never outside the string). For a given length, equal words <=> equal bytes.
inline void short_words(const char* p, std::size_t n, std::uint64_t& a, std::uint64_t& b) {
  if (n >= 4) {
    const std::size_t step = (n >> 3) << 2;
    a = (read4(p) << 32) | read4(p + step);
    b = (read4(p + n - 4) << 32) | read4(p + n - 4 - step);
  } else {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    a = (std::uint64_t{u[0]} << 16) | (std::uint64_t{u[n >> 1]} << 8) | u[n - 1];
    b = 0;
  }
}

// A looked-up id, read once for both hashing and comparing. Nearly every id
// has at most 16 bytes; for those, comparing with a stored id is two word
// compares instead of a call to memcmp.
struct Key {
  const char* data;
  std::size_t size;            // 1..kMaxIdLength
  std::uint64_t a = 0, b = 0;  // short_words() when size <= 16
  std::uint64_t hash = 0;
};

[[gnu::always_inline]] inline Key make_key(const char* p, std::size_t n) {
  Key key{p, n};
  std::uint64_t seed = mix(kSecret0 ^ kSecret1, kSecret1);  // a constant; folded at compile time
  std::uint64_t a, b;
  if (n <= 16) {
    short_words(p, n, a, b);
    key.a = a;
    key.b = b;
  } else {
    std::size_t i = n;
    for (; i > 16; i -= 16, p += 16) seed = mix(read8(p) ^ kSecret1, read8(p + 8) ^ seed);
    a = read8(p + i - 16);
    b = read8(p + i - 8);
  }
  a ^= kSecret1;
  b ^= seed;
  mum(a, b);
  key.hash = mix(a ^ kSecret0 ^ n, b ^ kSecret1);
  return key;
}

inline bool equals_stored(const Key& key, const char* stored) {
  if (key.size <= 16) {
    std::uint64_t a, b;
    short_words(stored, key.size, a, b);
    return a == key.a && b == key.b;
  }
  return std::memcmp(stored, key.data, key.size) == 0;
}

struct ProbeResult {
  std::size_t index;  // the slot holding the key, or the empty slot where it would go
  bool found;
};

// Linear probing: the probe sequence stays in one or two cache lines, and with
// load factor <= 0.5 the expected probe count is ~1.5 for hits, ~2.5 for misses.
[[gnu::always_inline]] inline ProbeResult probe(const std::uint64_t* slots, std::size_t mask,
                                                const char* arena, const Key& key) {
  // size >= 1, so an empty slot (0) never equals `want`.
  const std::uint64_t want = (key.hash & kTagMask) | (std::uint64_t{key.size} << kLengthShift);
  for (std::size_t i = key.hash & mask;; i = (i + 1) & mask) {
    const std::uint64_t slot = slots[i];
    if (slot == 0) return {i, false};
    if ((slot & kMatchMask) == want && equals_stored(key, arena + (slot & kOffsetMask))) {
      return {i, true};
    }
  }
}

std::size_t capacity_for(std::size_t count) {
  return std::bit_ceil(std::max(kMinCapacity, count * 2));
}

std::size_t round_up_to_page(std::size_t bytes) {
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (std::max<std::size_t>(bytes, 1) + page - 1) & ~(page - 1);
}

}  // namespace

void FileAccountDirectory::Unmap::operator()(void* p) const { ::munmap(p, bytes); }

// Reads the file into a buffer that becomes the arena: each record is written
// back over the line it came from (a record is never longer than its line), so
// loading needs no allocation per row and no second copy of the keys.
//
// Inserting in file order would stall on a cache miss per row once the table
// outgrows the cache, so parsed rows wait in a short queue: their slot is
// prefetched when they enter it and they are inserted, still in file order,
// when they leave it.
class FileAccountDirectoryBuilder {
 public:
  FileAccountDirectoryBuilder(const std::string& path, Diagnostics& diags, std::uint64_t max_bytes)
      : path_(path), max_bytes_(max_bytes), diags_(diags), dir_(new FileAccountDirectory) {}

  std::shared_ptr<const FileAccountDirectory> build();

 private:
  // `count` zeroed Ts, or nullptr when the memory is not there.
  template <typename T>
  static std::unique_ptr<T[], FileAccountDirectory::Unmap> map_zeroed(std::size_t count) {
    const std::size_t bytes = round_up_to_page(count * sizeof(T));
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return {nullptr, {}};
    // Random probes over hundreds of MB miss the TLB on nearly every lookup
    // with 4 KiB pages; with 2 MiB pages the table's page entries fit the TLB.
    if (bytes >= kHugePageSize) ::madvise(p, bytes, MADV_HUGEPAGE);
    return {static_cast<T*>(p), {bytes}};
  }

  struct Pending {
    std::uint64_t slot;  // the value to store: tag | length | offset
    std::uint64_t hash;
    int line_no;
  };
  // Enough rows in flight to cover a memory latency with parsing work.
  static constexpr std::size_t kQueueLength = 16;

  bool read_file();
  bool allocate_table(std::size_t capacity);
  void parse();
  void parse_line(std::string_view line, int line_no);
  void enqueue(const Pending& row);
  void insert(const Pending& row);
  void drain();
  bool finish();
  bool fail(std::string message);

  // Counting without formatting keeps a file of a million bad lines cheap.
  template <typename MakeMessage>
  void report(int line_no, MakeMessage make_message) {
    if (++error_count_ <= FileAccountDirectory::kMaxReportedErrors) {
      diags_.error(SourceMark{path_, line_no, 0}, make_message());
    }
  }
  // An error found while parsing: rows queued before it may hold duplicates
  // found at insert time; insert them first so errors come out in line order.
  template <typename MakeMessage>
  void parse_error(int line_no, MakeMessage make_message) {
    drain();
    report(line_no, make_message);
  }

  const std::string& path_;
  const std::uint64_t max_bytes_;
  Diagnostics& diags_;
  std::shared_ptr<FileAccountDirectory> dir_;
  std::unique_ptr<char[], FileAccountDirectory::Unmap> buffer_;  // the file, then the arena
  std::size_t size_ = 0;                                         // bytes of the file in buffer_
  std::size_t write_ = 0;           // end of the records packed so far; <= the line being read
  std::uint64_t* slots_ = nullptr;  // dir_'s table
  std::size_t mask_ = 0;
  Pending queue_[kQueueLength];
  std::size_t queue_start_ = 0;
  std::size_t queue_size_ = 0;
  int error_count_ = 0;
};

std::shared_ptr<const FileAccountDirectory> FileAccountDirectoryBuilder::build() {
  if (!read_file()) return nullptr;
  const std::size_t lines = std::count(buffer_.get(), buffer_.get() + size_, '\n') + 1;
  // Line numbers are ints in SourceMark; arena offsets have 40 bits.
  if (lines > static_cast<std::size_t>(INT_MAX) || size_ > kOffsetMask) {
    fail("account directory file is too large");
    return nullptr;
  }
  // Every line could be an account; finish() shrinks the table if few were.
  if (!allocate_table(capacity_for(lines))) return nullptr;
  parse();
  drain();
  if (error_count_ > FileAccountDirectory::kMaxReportedErrors) {
    fail("... and " + std::to_string(error_count_ - FileAccountDirectory::kMaxReportedErrors) +
         " more errors");
  }
  if (error_count_ > 0 || !finish()) return nullptr;
  return dir_;
}

bool FileAccountDirectoryBuilder::fail(std::string message) {
  diags_.error(SourceMark{path_, 0, 0}, std::move(message));
  return false;
}

bool FileAccountDirectoryBuilder::read_file() {
  std::string error;
  std::optional<RegularFile> file =
      RegularFile::open(path_, {FileAccountDirectory::kFile.name, max_bytes_}, &error);
  if (!file) return fail(std::move(error));
  // One byte more than the file holds, so that a file that grew since it
  // was opened is seen to, up to one byte more than allowed.
  const std::uint64_t limit = max_bytes_ + 1;
  std::size_t capacity = static_cast<std::size_t>(
      std::min(limit, std::max<std::uint64_t>(file->size() + 1, kMinReadBuffer)));
  // read(), not mmap of the file: a file rewritten in place during a reload
  // then gives a bad load, never a SIGBUS in a serving process.
  buffer_ = map_zeroed<char>(capacity);
  for (;;) {
    if (!buffer_) return fail("out of memory reading the account directory file");
    std::optional<std::size_t> n = file->read(buffer_.get() + size_, capacity - size_, &error);
    if (!n) return fail(std::move(error));
    size_ += *n;
    if (size_ < capacity) return true;  // the end of the file
    if (capacity >= limit) return fail(file->grew_message());
    capacity = static_cast<std::size_t>(std::min(limit, std::uint64_t{capacity} * 2));
    auto bigger = map_zeroed<char>(capacity);
    if (bigger) std::memcpy(bigger.get(), buffer_.get(), size_);
    buffer_ = std::move(bigger);
  }
}

bool FileAccountDirectoryBuilder::allocate_table(std::size_t capacity) {
  dir_->slots_ = map_zeroed<std::uint64_t>(capacity);
  if (!dir_->slots_) return fail("out of memory for the account directory table");
  dir_->mask_ = mask_ = capacity - 1;
  slots_ = dir_->slots_.get();
  return true;
}

void FileAccountDirectoryBuilder::parse() {
  for_each_directory_line({buffer_.get(), size_}, [&](std::string_view line, int line_no) {
    parse_line(line, line_no);
  });
}

void FileAccountDirectoryBuilder::parse_line(std::string_view line, int line_no) {
  const DirectoryLine parsed = parse_directory_line(line);
  if (parsed.kind == DirectoryLineKind::kSkip) return;
  if (parsed.kind != DirectoryLineKind::kAccount) {
    return parse_error(line_no, [&] { return directory_line_error(parsed, line); });
  }
  // Pack the record at write_: write_ <= line and id + 2 < line, so this
  // only overwrites bytes of this line or of lines already parsed.
  const std::size_t id_len = parsed.id.size();
  const std::uint64_t hash = make_key(parsed.id.data(), id_len).hash;
  char* out = buffer_.get() + write_;
  std::memmove(out, parsed.id.data(), id_len);
  std::memcpy(out + id_len, &parsed.country, sizeof(CountryId));
  enqueue({(hash & kTagMask) | (std::uint64_t{id_len} << kLengthShift) | write_, hash, line_no});
  write_ += id_len + sizeof(CountryId);
}

void FileAccountDirectoryBuilder::enqueue(const Pending& row) {
  if (queue_size_ == kQueueLength) {
    insert(queue_[queue_start_]);
    queue_start_ = (queue_start_ + 1) % kQueueLength;
    --queue_size_;
  }
  __builtin_prefetch(&slots_[row.hash & mask_], 1);
  queue_[(queue_start_ + queue_size_) % kQueueLength] = row;
  ++queue_size_;
}

void FileAccountDirectoryBuilder::drain() {
  for (; queue_size_ > 0; --queue_size_) {
    insert(queue_[queue_start_]);
    queue_start_ = (queue_start_ + 1) % kQueueLength;
  }
}

void FileAccountDirectoryBuilder::insert(const Pending& row) {
  Key key{buffer_.get() + (row.slot & kOffsetMask), (row.slot >> kLengthShift) & 0xff};
  if (key.size <= 16) short_words(key.data, key.size, key.a, key.b);
  key.hash = row.hash;
  const ProbeResult at = probe(slots_, mask_, buffer_.get(), key);
  if (at.found) {
    return report(row.line_no, [&] {
      return "duplicate account id " + quote_for_message({key.data, key.size});
    });
  }
  slots_[at.index] = row.slot;
  ++dir_->count_;
}

bool FileAccountDirectoryBuilder::finish() {
  FileAccountDirectory& d = *dir_;
  // Hand back the pages past the last record (comments, line ends, and the
  // ',' of each line are not kept) without copying what stays.
  const std::size_t keep = round_up_to_page(write_);
  auto& mapped = buffer_.get_deleter().bytes;
  if (keep < mapped && ::munmap(buffer_.get() + keep, mapped - keep) == 0) mapped = keep;
  d.arena_ = std::move(buffer_);
  d.arena_size_ = write_;
  // The table was sized by line count; comments and blank lines may have made
  // it much larger than the accounts need.
  if (capacity_for(d.count_) < d.mask_ + 1) {
    auto old = std::move(d.slots_);
    const std::size_t old_capacity = d.mask_ + 1;
    if (!allocate_table(capacity_for(d.count_))) return false;
    for (std::size_t k = 0; k < old_capacity; ++k) {
      if (old[k] == 0) continue;
      const Key key =
          make_key(d.arena_.get() + (old[k] & kOffsetMask), (old[k] >> kLengthShift) & 0xff);
      slots_[probe(slots_, mask_, d.arena_.get(), key).index] = old[k];
    }
  }
  d.description_ = "file:" + path_;
  return true;
}

std::shared_ptr<const FileAccountDirectory> FileAccountDirectory::load(const std::string& path,
                                                                       Diagnostics& diags,
                                                                       std::uint64_t max_bytes) {
  return FileAccountDirectoryBuilder(path, diags, max_bytes).build();
}

DirectoryResult FileAccountDirectory::find(std::string_view account_id) const {
  const std::size_t n = account_id.size();
  if (n == 0 || n > kMaxIdLength) return {};
  const ProbeResult at = probe(slots_.get(), mask_, arena_.get(), make_key(account_id.data(), n));
  if (!at.found) return {};
  CountryId country;
  std::memcpy(&country, arena_.get() + (slots_[at.index] & kOffsetMask) + n, sizeof(CountryId));
  return {DirectoryStatus::kFound, country};
}

}  // namespace regiongate
