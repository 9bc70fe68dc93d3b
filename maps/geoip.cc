#include "maps/geoip.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>
#include <unordered_set>
#include <utility>

namespace regiongate {
namespace {

// How many distinct data records open() decodes in full. Enough to cover every
// record of a test-sized database and a sample of a real one, while keeping a
// reload of a full City database in the tens of milliseconds.
constexpr std::size_t kProbeRecords = 1024;

// Room for the longest textual IPv6 address plus its terminator.
constexpr std::size_t kMaxAddressText = INET6_ADDRSTRLEN;

std::string open_error(const std::string& path, std::string_view reason) {
  std::string message = "cannot open GeoIP database '";
  message += path;
  message += "': ";
  message += reason;
  return message;
}

// What one configured path says about one record.
enum class PathOutcome { kCountry, kNothing, kCorrupt };

PathOutcome country_at(const MMDB_entry_s& record, const char* const* path, CountryId* country) {
  // MMDB_aget_value wants a mutable start but only reads it.
  MMDB_entry_s start = record;
  MMDB_entry_data_s data;
  int status = MMDB_aget_value(&start, &data, path);
  switch (status) {
    case MMDB_SUCCESS:
      break;
    // The record does not have this shape (a missing key, a string where a map
    // was expected): another path, or another vendor's layout, may still match.
    case MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR:
    case MMDB_INVALID_LOOKUP_PATH_ERROR:
      return PathOutcome::kNothing;
    default:
      return PathOutcome::kCorrupt;
  }
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2) {
    return PathOutcome::kNothing;
  }
  // Copied out of the mapped file here; the returned id does not point into it.
  std::optional<CountryId> id = country_from_code_any_case(std::string_view(data.utf8_string, 2));
  if (!id) return PathOutcome::kNothing;  // "EU", "ZZ", ...: not a country we can route on
  *country = *id;
  return PathOutcome::kCountry;
}

// ::ffff:a.b.c.d carries an IPv4 address; it is looked up as that address so an
// IPv4-only database (and a custom one written without the IPv6 aliases) still
// answers for dual-stack sockets.
bool is_v4_mapped(const in6_addr& address) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, kPrefix, sizeof(kPrefix)) == 0;
}

}  // namespace

struct GeoipDatabase::Impl {
  MMDB_s mmdb{};  // lookups point back at it: Impl never moves once opened
  bool is_open = false;
  std::string path;
  std::string database_type;
  std::uint64_t build_epoch = 0;
  int ip_version = 0;
  // Owns the strings that path_arrays point at; not touched after open().
  std::vector<GeoipRecordPath> country_paths;
  // Each entry is a nullptr-terminated array for MMDB_aget_value, built once so
  // a lookup allocates nothing.
  std::vector<std::vector<const char*>> path_arrays;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (is_open) MMDB_close(&mmdb);
  }

  GeoipResult country_of(const MMDB_entry_s& record) const;
  std::string probe() const;
  std::string probe_tree(std::unordered_set<std::uint32_t>* records) const;
  std::string probe_record(std::uint32_t offset) const;
  std::string probe_lookups() const;
};

GeoipResult GeoipDatabase::Impl::country_of(const MMDB_entry_s& record) const {
  for (const std::vector<const char*>& path : path_arrays) {
    GeoipResult result;
    switch (country_at(record, path.data(), &result.country)) {
      case PathOutcome::kCountry:
        result.status = GeoipStatus::kFound;
        return result;
      case PathOutcome::kNothing:
        continue;
      case PathOutcome::kCorrupt:
        return GeoipResult{GeoipStatus::kError, kNoCountry};
    }
  }
  return GeoipResult{GeoipStatus::kNoCountry, kNoCountry};
}

// Rejects obviously broken files at open time, so a reload keeps the old
// database instead of swapping in one that fails (or worse) under traffic.
// Returns why the database is unusable, or "" when it looks sound.
std::string GeoipDatabase::Impl::probe() const {
  const MMDB_metadata_s& meta = mmdb.metadata;
  if (meta.ip_version != 4 && meta.ip_version != 6) {
    return "unsupported ip_version " + std::to_string(meta.ip_version) + " in metadata";
  }
  if (meta.node_count == 0) return "empty search tree in metadata";
  if (meta.database_type == nullptr) return "no database_type in metadata";

  std::unordered_set<std::uint32_t> records;
  if (std::string why = probe_tree(&records); !why.empty()) return why;
  for (std::uint32_t offset : records) {
    if (std::string why = probe_record(offset); !why.empty()) return why;
  }
  return probe_lookups();
}

// Every node's records must point at a node, "empty" or the data section; the
// scan is a few nanoseconds a node and touches each tree page once.
std::string GeoipDatabase::Impl::probe_tree(std::unordered_set<std::uint32_t>* records) const {
  for (std::uint32_t node_number = 0; node_number < mmdb.metadata.node_count; ++node_number) {
    MMDB_search_node_s node;
    int status = MMDB_read_node(&mmdb, node_number, &node);
    if (status != MMDB_SUCCESS) {
      return "search tree node " + std::to_string(node_number) + ": " + MMDB_strerror(status);
    }
    for (auto [type, entry] : {std::pair{node.left_record_type, node.left_record_entry},
                               std::pair{node.right_record_type, node.right_record_entry}}) {
      if (type == MMDB_RECORD_TYPE_INVALID) {
        return "search tree node " + std::to_string(node_number) +
               " points outside the file: " + MMDB_strerror(MMDB_CORRUPT_SEARCH_TREE_ERROR);
      }
      if (type == MMDB_RECORD_TYPE_DATA && records->size() < kProbeRecords) {
        records->insert(entry.offset);
      }
    }
  }
  return "";
}

// Decodes a whole record (as mmdblookup does) and the configured paths in it.
std::string GeoipDatabase::Impl::probe_record(std::uint32_t offset) const {
  MMDB_entry_s record{&mmdb, offset};
  MMDB_entry_data_list_s* list = nullptr;
  int status = MMDB_get_entry_data_list(&record, &list);
  MMDB_free_entry_data_list(list);  // set even when decoding failed part way
  if (status == MMDB_SUCCESS && country_of(record).status == GeoipStatus::kError) {
    status = MMDB_INVALID_DATA_ERROR;
  }
  if (status != MMDB_SUCCESS) {
    return "data record at offset " + std::to_string(offset) + ": " + MMDB_strerror(status);
  }
  return "";
}

// One lookup per address family through the public path (which, for IPv4 in an
// IPv6 tree, starts at the precomputed IPv4 node).
std::string GeoipDatabase::Impl::probe_lookups() const {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(0x01010101);  // 1.1.1.1
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr.s6_addr[0] = 0x20;  // 2001:db8::1
  v6.sin6_addr.s6_addr[1] = 0x01;
  v6.sin6_addr.s6_addr[2] = 0x0d;
  v6.sin6_addr.s6_addr[3] = 0xb8;
  v6.sin6_addr.s6_addr[15] = 1;
  const sockaddr* probes[] = {reinterpret_cast<const sockaddr*>(&v4),
                              reinterpret_cast<const sockaddr*>(&v6)};
  int families = mmdb.metadata.ip_version == 6 ? 2 : 1;
  for (int i = 0; i < families; ++i) {
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&mmdb, probes[i], &mmdb_error);
    if (mmdb_error == MMDB_SUCCESS && result.found_entry &&
        country_of(result.entry).status == GeoipStatus::kError) {
      mmdb_error = MMDB_INVALID_DATA_ERROR;
    }
    if (mmdb_error != MMDB_SUCCESS) {
      return std::string("probe lookup of ") + (i == 0 ? "1.1.1.1" : "2001:db8::1") +
             " failed: " + MMDB_strerror(mmdb_error);
    }
  }
  return "";
}

const char* geoip_status_name(GeoipStatus status) {
  switch (status) {
    case GeoipStatus::kFound:
      return "found";
    case GeoipStatus::kNotFound:
      return "not-found";
    case GeoipStatus::kNoCountry:
      return "no-country";
    case GeoipStatus::kBadAddress:
      return "bad-address";
    case GeoipStatus::kError:
      return "error";
  }
  return "unknown";
}

GeoipDatabase::GeoipDatabase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeoipDatabase::~GeoipDatabase() = default;

std::shared_ptr<const GeoipDatabase> GeoipDatabase::open(const GeoipOptions& options,
                                                         std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->path = options.path;
  if (options.country_paths.empty()) {
    *error = open_error(options.path, "no country paths configured");
    return nullptr;
  }
  for (const GeoipRecordPath& path : options.country_paths) {
    bool valid = !path.empty();
    for (const std::string& key : path) {
      valid = valid && !key.empty() && key.find('\0') == std::string::npos;
    }
    if (!valid) {
      *error = open_error(options.path, "invalid country path (empty, or an empty key)");
      return nullptr;
    }
  }
  impl->country_paths = options.country_paths;
  for (const GeoipRecordPath& path : impl->country_paths) {
    std::vector<const char*>& array = impl->path_arrays.emplace_back();
    for (const std::string& key : path) array.push_back(key.c_str());
    array.push_back(nullptr);
  }

  // libmaxminddb opens the path itself, without O_NONBLOCK: a FIFO would
  // block it, and a device or a directory fail in ways that do not say so.
  if (std::string why; !check_regular_file(options.path, kFile, &why)) {
    *error = open_error(options.path, why);
    return nullptr;
  }
  int status = MMDB_open(options.path.c_str(), MMDB_MODE_MMAP, &impl->mmdb);
  if (status != MMDB_SUCCESS) {
    // libmaxminddb frees what it allocated on failure: no MMDB_close here.
    int saved_errno = errno;
    std::string reason = MMDB_strerror(status);
    if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) {
      reason += " (" + std::error_code(saved_errno, std::generic_category()).message() + ")";
    }
    *error = open_error(options.path, reason);
    return nullptr;
  }
  impl->is_open = true;

  if (std::string why = impl->probe(); !why.empty()) {
    *error = open_error(options.path, why);
    return nullptr;
  }
  const MMDB_metadata_s& meta = impl->mmdb.metadata;
  impl->database_type = meta.database_type;
  impl->build_epoch = meta.build_epoch;
  impl->ip_version = meta.ip_version;
  return std::shared_ptr<const GeoipDatabase>(new GeoipDatabase(std::move(impl)));
}

GeoipResult GeoipDatabase::lookup(const sockaddr* address) const {
  GeoipResult bad{GeoipStatus::kBadAddress, kNoCountry};
  if (address == nullptr) return bad;
  sockaddr_in mapped;
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (is_v4_mapped(v6->sin6_addr)) {
      mapped = sockaddr_in{};
      mapped.sin_family = AF_INET;
      std::memcpy(&mapped.sin_addr, &v6->sin6_addr.s6_addr[12], sizeof(mapped.sin_addr));
      address = reinterpret_cast<const sockaddr*>(&mapped);
    }
  } else if (address->sa_family != AF_INET) {
    // libmaxminddb treats every non-AF_INET6 family as IPv4: refuse it here.
    return bad;
  }

  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&impl_->mmdb, address, &mmdb_error);
  if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) return bad;
  if (mmdb_error != MMDB_SUCCESS) return GeoipResult{GeoipStatus::kError, kNoCountry};
  if (!result.found_entry) return GeoipResult{GeoipStatus::kNotFound, kNoCountry};
  return impl_->country_of(result.entry);
}

GeoipResult GeoipDatabase::lookup(std::string_view address_text) const {
  GeoipResult bad{GeoipStatus::kBadAddress, kNoCountry};
  // inet_pton needs a terminated string; an embedded NUL would hide trailing junk.
  if (address_text.empty() || address_text.size() >= kMaxAddressText ||
      address_text.find('\0') != std::string_view::npos) {
    return bad;
  }
  char text[kMaxAddressText];
  std::memcpy(text, address_text.data(), address_text.size());
  text[address_text.size()] = '\0';

  if (address_text.find(':') == std::string_view::npos) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &v4.sin_addr) != 1) return bad;
    return lookup(reinterpret_cast<const sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  if (inet_pton(AF_INET6, text, &v6.sin6_addr) != 1) return bad;
  return lookup(reinterpret_cast<const sockaddr*>(&v6));
}

const std::string& GeoipDatabase::path() const { return impl_->path; }
const std::string& GeoipDatabase::database_type() const { return impl_->database_type; }
std::uint64_t GeoipDatabase::build_epoch() const { return impl_->build_epoch; }
int GeoipDatabase::ip_version() const { return impl_->ip_version; }

bool parse_geoip_record_path(std::string_view dotted, GeoipRecordPath* out) {
  GeoipRecordPath keys;
  while (true) {
    std::size_t dot = dotted.find('.');
    std::string_view key = dotted.substr(0, dot);
    if (key.empty() || key.find('\0') != std::string_view::npos) return false;
    keys.emplace_back(key);
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  *out = std::move(keys);
  return true;
}

}  // namespace regiongate
