#include "policy/canonical_request.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace regiongate {
namespace {

constexpr KeySpec kRequestKeys[] = {
    {"doubled_slashes", YamlKind::kScalar, false},
    {"non_utf8_escapes", YamlKind::kScalar, false},
    // Read by read_body_limits (policy/body_limits.h), from the same section.
    {"max_body", YamlKind::kScalar, false},
    {"max_body_by_service", YamlKind::kMap, false},
};

// Byte classes of RFC 3986 §2 (and §3.3 for what a path may hold raw).
enum : std::uint8_t { kUnreserved = 1, kPathRaw = 2, kHostRaw = 4, kHex = 8 };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    bool unreserved = alpha || digit || c == '-' || c == '.' || c == '_' || c == '~';
    bool sub_delim = c != 0 && std::string_view("!$&'()*+,;=").find(static_cast<char>(c)) !=
                                   std::string_view::npos;
    std::uint8_t v = 0;
    if (unreserved) v |= kUnreserved;
    // pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; and "/".
    if (unreserved || sub_delim || c == ':' || c == '@' || c == '/') v |= kPathRaw;
    if (alpha || digit || c == '-' || c == '.' || c == '_') v |= kHostRaw;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

bool is(char c, std::uint8_t cls) { return kClasses[static_cast<unsigned char>(c)] & cls; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

constexpr char kHexDigits[] = "0123456789ABCDEF";

// UTF-8 well-formedness of escaped bytes (Unicode Table 3-7): no overlong
// forms, no surrogates, nothing past U+10FFFF.
class Utf8Check {
 public:
  bool pending() const { return need_ != 0; }
  bool feed(unsigned char b) {
    if (need_ == 0) {
      lo_ = 0x80, hi_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        need_ = 2;
        if (b == 0xE0) lo_ = 0xA0;
        if (b == 0xED) hi_ = 0x9F;
      } else if (b >= 0xF0 && b <= 0xF4) {
        need_ = 3;
        if (b == 0xF0) lo_ = 0x90;
        if (b == 0xF4) hi_ = 0x8F;
      } else {
        return false;
      }
      return true;
    }
    if (b < lo_ || b > hi_) return false;
    lo_ = 0x80, hi_ = 0xBF;
    --need_;
    return true;
  }

 private:
  int need_ = 0;
  unsigned char lo_ = 0x80, hi_ = 0xBF;
};

// Whether a raw path (no query) is canonical as it stands: only bytes allowed
// raw, no escape, no empty segment before the last, no dot segment.
bool already_canonical(std::string_view path) {
  std::size_t start = 1;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') {
      if (!is(path[i], kPathRaw)) return false;  // '%' and anything refused
      continue;
    }
    std::string_view seg = path.substr(start, i - start);
    if (seg.empty() && i < path.size()) return false;
    if (!seg.empty() && seg[0] == '.') {
      if (seg == "." || seg == "..") return false;
      if (seg.size() > 1 && (seg[1] == ';' || (seg[1] == '.' && seg.size() > 2 && seg[2] == ';'))) {
        return false;
      }
    }
    start = i + 1;
  }
  return true;
}

// Step 1 (§6.2.2.1-2): validates every byte and escape, decodes unreserved
// escapes and upper-cases the others, into `out`.
RequestFault decode_escapes(std::string_view path, const TargetOptions& options, std::string& out) {
  out.clear();
  out.reserve(path.size());
  Utf8Check utf8;  // consulted only when UTF-8 is required
  const bool check_utf8 = options.require_utf8;
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c != '%') {
      if (check_utf8 && utf8.pending()) return RequestFault::kNotUtf8;
      if (c == '\\') return RequestFault::kBackslash;
      if (!is(c, kPathRaw)) return RequestFault::kInvalidPathCharacter;
      out += c;
      continue;
    }
    if (i + 2 >= path.size() || !is(path[i + 1], kHex) || !is(path[i + 2], kHex)) {
      return RequestFault::kMalformedEscape;
    }
    auto b = static_cast<unsigned char>(hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]));
    i += 2;
    if (b == '/' || b == '\\') return RequestFault::kEncodedSlash;
    if (b < 0x20 || b == 0x7F) return RequestFault::kEncodedControl;
    if (check_utf8 && (b >= 0x80 ? !utf8.feed(b) : utf8.pending())) return RequestFault::kNotUtf8;
    if (is(static_cast<char>(b), kUnreserved)) {
      out += static_cast<char>(b);
    } else {
      out += '%';
      out += kHexDigits[b >> 4];
      out += kHexDigits[b & 15];
    }
  }
  if (check_utf8 && utf8.pending()) return RequestFault::kNotUtf8;
  return RequestFault::kNone;
}

// "%25" still followed by two hex digits: a server that decodes twice would
// read another character than the one decided on.
bool double_encoded(std::string_view s) {
  for (std::size_t i = 0; i + 4 < s.size(); ++i) {
    if (s[i] == '%' && s[i + 1] == '2' && s[i + 2] == '5' && is(s[i + 3], kHex) &&
        is(s[i + 4], kHex)) {
      return true;
    }
  }
  return false;
}

bool dot_with_parameters(std::string_view seg) {
  if (seg.empty() || seg[0] != '.') return false;
  std::string_view rest = seg.substr(seg.size() > 1 && seg[1] == '.' ? 2 : 1);
  return (!rest.empty() && rest[0] == ';') || rest.substr(0, 3) == "%3B";
}

// Step 2 (§5.2.4 and the doubled-slash setting), in place: the output is
// never longer than what has been read, so it can trail behind it.
RequestFault remove_dot_segments(std::string& s, const TargetOptions& options) {
  std::size_t w = 0, pos = 0;
  const std::size_t n = s.size();
  bool trailing = false;  // the output ends in a directory ("/a/" rather than "/a")
  while (pos < n) {
    std::size_t end = s.find('/', pos + 1);
    if (end == std::string::npos) end = n;
    const std::size_t len = end - pos - 1;
    std::string_view seg(s.data() + pos + 1, len);
    if (seg.empty()) {
      if (end < n && options.doubled_slashes == DoubledSlashes::kRefuse) {
        return RequestFault::kDoubledSlash;
      }
      if (end == n) trailing = true;
    } else if (seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      auto slash = std::string_view(s.data(), w).rfind('/');
      w = slash == std::string_view::npos ? 0 : slash;
      trailing = true;
    } else if (dot_with_parameters(seg)) {
      return RequestFault::kDotSegmentParameters;
    } else {
      s[w] = '/';
      std::memmove(&s[w + 1], seg.data(), len);
      w += 1 + len;
      trailing = false;
    }
    pos = end;
  }
  if (trailing || w == 0) s[w++] = '/';
  s.resize(w);
  return RequestFault::kNone;
}

RequestFault check_query(std::string_view query) {
  for (char c : query) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7F || c == '#') return RequestFault::kInvalidQueryCharacter;
  }
  return RequestFault::kNone;
}

// Scans a reg-name of RFC 1123 labels (letters, digits, '-', '_'), any case,
// maybe with one trailing dot (an IPv4 literal has the same shape), up to
// the ':' of a port or the end. One pass: the data path calls it per request.
// Returns the host's length, or npos when it is not such a name; *upper
// tells whether it holds upper-case letters.
std::size_t scan_name(std::string_view raw, bool* upper) {
  std::size_t i = 0, label = 0;
  bool any_upper = false;
  for (; i < raw.size() && raw[i] != ':'; ++i) {
    const char c = raw[i];
    if (c == '.') {
      if (label == 0) return std::string_view::npos;  // ".a", "a..b"
      label = 0;
    } else if (!is(c, kHostRaw) || ++label > 63) {
      return std::string_view::npos;
    } else {
      any_upper |= c >= 'A' && c <= 'Z';
    }
  }
  if (i == 0 || i > 254) return std::string_view::npos;
  *upper = any_upper;
  return i;
}

// ":digits" (or ""), the port's value in *value (0 for none); false when malformed.
bool parse_port(std::string_view port, unsigned* value) {
  *value = 0;
  if (port.empty()) return true;
  if (port[0] != ':' || port.size() > 6) return false;
  for (char c : port.substr(1)) {
    if (c < '0' || c > '9') return false;
    *value = *value * 10 + static_cast<unsigned>(c - '0');
  }
  return *value <= 65535 && !(port.size() > 1 && *value == 0);
}

// "[v6]" as RFC 5952 spells it, into `out` (INET6_ADDRSTRLEN + 2 bytes);
// false when it is not an IPv6 address (zone ids, IPvFuture included).
bool canonical_ipv6(std::string_view bracketed, char* out) {
  const std::size_t inner = bracketed.size() - 2;
  if (inner == 0 || inner >= INET6_ADDRSTRLEN) return false;
  char literal[INET6_ADDRSTRLEN] = {};
  std::memcpy(literal, bracketed.data() + 1, inner);
  in6_addr addr;
  if (inet_pton(AF_INET6, literal, &addr) != 1) return false;
  out[0] = '[';
  inet_ntop(AF_INET6, &addr, out + 1, INET6_ADDRSTRLEN);
  std::strcat(out, "]");
  return true;
}

}  // namespace

std::string_view fault_code(RequestFault fault) {
  switch (fault) {
    case RequestFault::kNone:
      return "none";
    case RequestFault::kPathMissing:
      return "path-missing";
    case RequestFault::kPathNotOriginForm:
      return "path-not-origin-form";
    case RequestFault::kMalformedEscape:
      return "malformed-escape";
    case RequestFault::kEncodedSlash:
      return "encoded-slash";
    case RequestFault::kEncodedControl:
      return "encoded-control";
    case RequestFault::kDoubleEncoded:
      return "double-encoded";
    case RequestFault::kNotUtf8:
      return "escape-not-utf8";
    case RequestFault::kBackslash:
      return "backslash";
    case RequestFault::kInvalidPathCharacter:
      return "invalid-path-character";
    case RequestFault::kDoubledSlash:
      return "doubled-slash";
    case RequestFault::kDotSegmentParameters:
      return "dot-segment-parameters";
    case RequestFault::kInvalidQueryCharacter:
      return "invalid-query-character";
    case RequestFault::kAuthorityUserinfo:
      return "authority-userinfo";
    case RequestFault::kInvalidAuthority:
      return "invalid-authority";
    case RequestFault::kHostMismatch:
      return "host-mismatch";
    case RequestFault::kDuplicateHeader:
      return "duplicate-header";
    case RequestFault::kListValue:
      return "list-value";
  }
  return "invalid-request";
}

std::string_view fault_reason(RequestFault fault) {
  switch (fault) {
    case RequestFault::kNone:
      return "";
    case RequestFault::kPathMissing:
      return "the request has no :path (CONNECT is not served)";
    case RequestFault::kPathNotOriginForm:
      return "the :path must start with '/' (or be '*' for OPTIONS)";
    case RequestFault::kMalformedEscape:
      return "the path has a '%' not followed by two hex digits";
    case RequestFault::kEncodedSlash:
      return "the path has an encoded slash or backslash (%2F, %5C), which servers read "
             "differently";
    case RequestFault::kEncodedControl:
      return "the path has an encoded control character";
    case RequestFault::kDoubleEncoded:
      return "the path is encoded twice (%25 followed by an escape)";
    case RequestFault::kNotUtf8:
      return "the path's escaped bytes are not UTF-8 (overlong forms are refused)";
    case RequestFault::kBackslash:
      return "the path has a backslash, which some servers read as '/'";
    case RequestFault::kInvalidPathCharacter:
      return "the path has a character RFC 3986 does not allow in a path";
    case RequestFault::kDoubledSlash:
      return "the path has an empty segment ('//'), which this gateway refuses";
    case RequestFault::kDotSegmentParameters:
      return "the path has a dot segment with parameters ('..;'), which some servers read as '..'";
    case RequestFault::kInvalidQueryCharacter:
      return "the query has a control character, a space or '#'";
    case RequestFault::kAuthorityUserinfo:
      return "the authority carries userinfo ('user@'), which HTTP does not allow";
    case RequestFault::kInvalidAuthority:
      return "the authority is not a host name or address with an optional port";
    case RequestFault::kHostMismatch:
      return "the host header names another host than :authority";
    case RequestFault::kDuplicateHeader:
      return "a header that decides where the request goes appears more than once";
    case RequestFault::kListValue:
      return "the account header carries a list, not one account";
  }
  return "the request is malformed";
}

TargetOptions read_target_options(const YAML::Node& node, std::string_view path, YamlContext& ctx) {
  TargetOptions options;
  if (!check_map(node, kRequestKeys, path, ctx)) return options;
  if (node["doubled_slashes"]) {
    if (auto c = read_choice(node["doubled_slashes"], key_path(path, "doubled_slashes"), ctx,
                             {"merge", "refuse"})) {
      options.doubled_slashes = static_cast<DoubledSlashes>(*c);
    }
  }
  if (node["non_utf8_escapes"]) {
    if (auto c = read_choice(node["non_utf8_escapes"], key_path(path, "non_utf8_escapes"), ctx,
                             {"refuse", "keep"})) {
      options.require_utf8 = *c == 0;
    }
  }
  return options;
}

std::string_view path_without_query(std::string_view path) {
  return path.substr(0, path.find('?'));
}

RequestFault normalize_path(std::string_view raw, bool options_method, const TargetOptions& options,
                            std::string& storage, std::string_view* out) {
  if (raw.empty()) return RequestFault::kPathMissing;
  if (raw == "*" && options_method) {
    *out = raw;
    return RequestFault::kNone;
  }
  if (raw[0] != '/') return RequestFault::kPathNotOriginForm;
  const std::size_t q = raw.find('?');
  std::string_view path = raw.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : raw.substr(q);
  if (RequestFault f = check_query(query.substr(query.empty() ? 0 : 1)); f != RequestFault::kNone) {
    return f;
  }
  if (already_canonical(path)) {
    *out = raw;
    return RequestFault::kNone;
  }
  if (RequestFault f = decode_escapes(path, options, storage); f != RequestFault::kNone) return f;
  if (double_encoded(storage)) return RequestFault::kDoubleEncoded;
  if (RequestFault f = remove_dot_segments(storage, options); f != RequestFault::kNone) return f;
  storage.append(query);
  *out = storage;
  return RequestFault::kNone;
}

RequestFault normalize_authority(std::string_view raw, std::string_view scheme,
                                 std::string& storage, CanonicalAuthority* out) {
  *out = {};
  if (raw.empty()) return RequestFault::kNone;
  if (raw.find('@') != std::string_view::npos) return RequestFault::kAuthorityUserinfo;
  std::string_view host;  // canonical spelling, but for case and the trailing dot
  std::size_t host_end;   // where the host ends in `raw`
  bool upper = false;
  char ip6[INET6_ADDRSTRLEN + 2];
  if (raw[0] == '[') {
    host_end = raw.find(']');
    if (host_end == std::string_view::npos) return RequestFault::kInvalidAuthority;
    ++host_end;
    if (!canonical_ipv6(raw.substr(0, host_end), ip6)) return RequestFault::kInvalidAuthority;
    host = ip6;
  } else {
    host_end = scan_name(raw, &upper);
    if (host_end == std::string_view::npos) return RequestFault::kInvalidAuthority;
    host = raw.substr(0, host_end);
  }
  const std::string_view port = raw.substr(host_end);
  unsigned value;
  if (!parse_port(port, &value)) return RequestFault::kInvalidAuthority;
  const bool default_port =
      (scheme == "http" && value == 80) || (scheme == "https" && value == 443);
  const bool keep_port = value != 0 && !default_port;
  const bool trailing_dot = host.back() == '.';
  if (trailing_dot) host.remove_suffix(1);

  if (!upper && !trailing_dot && host == raw.substr(0, host_end) &&
      (keep_port ? port[1] != '0' : port.empty())) {
    out->authority = raw;
    out->host = raw.substr(0, host_end);
    return RequestFault::kNone;
  }
  storage.clear();
  for (char c : host) storage += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  const std::size_t host_length = storage.size();
  if (keep_port) storage += ':' + std::to_string(value);
  out->authority = storage;
  out->host = std::string_view(storage).substr(0, host_length);
  return RequestFault::kNone;
}

CanonicalTarget canonical_target(const RawTarget& raw, const TargetOptions& options,
                                 TargetStorage& storage) {
  CanonicalTarget out;
  out.fault = normalize_path(raw.path, raw.method == "OPTIONS", options, storage.path, &out.path);
  if (out.fault != RequestFault::kNone) return out;
  out.fault = normalize_authority(raw.authority, raw.scheme, storage.authority, &out.authority);
  if (out.fault != RequestFault::kNone || raw.host_header.empty()) return out;
  CanonicalAuthority host;
  out.fault = normalize_authority(raw.host_header, raw.scheme, storage.host_header, &host);
  if (out.fault != RequestFault::kNone) return out;
  if (raw.authority.empty()) {
    out.authority = host;
  } else if (host.authority != out.authority.authority) {
    out.fault = RequestFault::kHostMismatch;
  }
  return out;
}

}  // namespace regiongate
