#pragma once
// The request as the policy sees it: one canonical target, and identity taken
// from exactly one place. The gateway classifies the canonical target and
// forwards that same target, so a data centre receives exactly what the
// decision was made on; `explain` and `check` use these same functions.
//
// Path (RFC 3986 §6.2.2): percent-encoded unreserved characters are decoded,
// the hex digits of the other escapes are upper-cased, dot segments are
// removed (§5.2.4) and doubled slashes merged (or refused, as configured).
// What could be read two ways by the gateway and a data centre is refused,
// never guessed: encoded slashes and backslashes, a raw backslash, encoded
// control characters, double encoding, dot segments with parameters
// ("..;x"), escapes that are not UTF-8 (overlong forms of '.'), and bytes RFC
// 3986 does not allow in a path. The query is passed on byte for byte (signed
// URLs depend on it) and never affects classification.
//
// Authority: lower-cased, a trailing dot dropped, the scheme's default port
// dropped (§6.2.3); userinfo and malformed hosts are refused.
//
// Pure: no I/O. Allocation-free for a target that is already canonical (the
// result then views the input); otherwise the canonical form is written into
// caller-owned storage, which must outlive the result.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/yaml_reader.h"

namespace regiongate {

// Why a request is refused (400) before any decision is made.
enum class RequestFault : std::uint8_t {
  kNone,
  // :path
  kPathMissing,            // no :path, or an empty one
  kPathNotOriginForm,      // does not start with '/' (nor is '*' for OPTIONS)
  kMalformedEscape,        // '%' not followed by two hex digits
  kEncodedSlash,           // %2F or %5C
  kEncodedControl,         // %00-%1F or %7F
  kDoubleEncoded,          // an escape of '%' that still forms an escape ("%252e")
  kNotUtf8,                // escaped bytes >= 0x80 that are not UTF-8 (e.g. "%C0%AE")
  kBackslash,              // a raw '\' (read as '/' by some servers)
  kInvalidPathCharacter,   // a byte RFC 3986 does not allow in a path
  kDoubledSlash,           // "//" while doubled slashes are refused
  kDotSegmentParameters,   // ".;x" or "..;x" (read as a dot segment by some servers)
  kInvalidQueryCharacter,  // a control character, space or '#' in the query
  // :authority and host
  kAuthorityUserinfo,  // "user@host"
  kInvalidAuthority,   // not host[:port]
  kHostMismatch,       // the host header names another host than :authority
  // headers that feed the decision
  kDuplicateHeader,  // the account header (or host, x-forwarded-for) more than once
  kListValue,        // an account header carrying a list ("a, b")
};

// Short machine-readable code ("encoded-slash"), for the x-regiongate-reason
// header, the access log and `explain`.
std::string_view fault_code(RequestFault fault);
// One sentence for the response body and `explain`.
std::string_view fault_reason(RequestFault fault);

enum class DoubledSlashes : std::uint8_t { kMerge, kRefuse };  // in name order (read_choice)

// The `requests:` section of the configuration (docs/operators.md).
struct TargetOptions {
  DoubledSlashes doubled_slashes = DoubledSlashes::kMerge;
  // Escaped bytes >= 0x80 must be UTF-8 (RFC 3986 §2.5, RFC 3987). Off, they
  // are kept as escapes, overlong forms included.
  bool require_utf8 = true;
};
TargetOptions read_target_options(const YAML::Node& node, std::string_view path, YamlContext& ctx);

// Canonical :path (path and query). On success *out views `raw` when it is
// already canonical, else `storage`.
RequestFault normalize_path(std::string_view raw, bool options_method, const TargetOptions& options,
                            std::string& storage, std::string_view* out);

// The path part of a canonical :path: what classification reads.
std::string_view path_without_query(std::string_view path);

struct CanonicalAuthority {
  std::string_view authority;  // host[:port], to forward
  std::string_view host;       // host only, to classify
};
// Canonical :authority (or host header) for `scheme` ("http", "https"). An
// empty `raw` is not an error: both views stay empty.
RequestFault normalize_authority(std::string_view raw, std::string_view scheme,
                                 std::string& storage, CanonicalAuthority* out);

// A request's target as received.
struct RawTarget {
  std::string_view method, scheme, authority, host_header, path;
};
struct CanonicalTarget {
  CanonicalAuthority authority;
  std::string_view path;  // with its query, to forward
  RequestFault fault = RequestFault::kNone;
};
// Where the canonical forms are written when they differ from the input;
// reused across requests by its owner.
struct TargetStorage {
  std::string authority, host_header, path;
};
// The whole target: the path, :authority (or the host header when there is no
// :authority), and a host header that must agree with :authority.
CanonicalTarget canonical_target(const RawTarget& raw, const TargetOptions& options,
                                 TargetStorage& storage);

}  // namespace regiongate
