// Fuzzes the canonical request target and the classifier together. Input:
// one byte of options (bit 0: refuse doubled slashes, bit 1: keep non-UTF-8
// escapes, bit 2: OPTIONS), then the authority, a newline, and the :path.
//
// Properties, each a trap when broken:
// - canonical is a fixed point: normalising the output again succeeds and
//   changes nothing, so classifying the output equals classifying its
//   normalised form;
// - no output path holds a dot segment, an empty segment, an encoded slash
//   or backslash, a raw backslash, a dot segment with parameters, an escape
//   left in lower case or of an unreserved character, or an escape that a
//   second decoding would turn into another one;
// - the canonical host is lower case, and a fixed point too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/canonical_request.h"
#include "policy/service_classifier.h"
#include "util/yaml_reader.h"

namespace {

using namespace regiongate;

constexpr std::string_view kServices = R"(
services:
  shop: {match: [{host: shop.example.com}, {host: api.example.com, path: /shop}]}
  cloud: {match: [{host: "*.cloud.example.com"}, {host: api.example.com, path: /cloud}]}
  secret: {match: [{path: /secret}, {path: /a/b/c}]}
  api: {match: [{host: api.example.com}]}
rules: []
)";

const ServiceClassifier& classifier() {
  static const ServiceClassifier c = [] {
    Diagnostics diags;
    auto node = load_yaml_text(kServices, "fuzz.yaml", diags);
    Policy policy = read_policy(*node, "fuzz.yaml", DataCenterMap{}, diags);
    ServiceClassifier built(policy, diags);
    if (diags.has_errors()) __builtin_trap();
    return built;
  }();
  return c;
}

bool hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }
bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}
int hex(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

void check_canonical_path(std::string_view full) {
  if (full == "*") return;
  std::string_view path = path_without_query(full);
  if (path.empty() || path[0] != '/') __builtin_trap();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\') __builtin_trap();
    if (path[i] != '%') continue;
    if (i + 2 >= path.size() || !hex_upper(path[i + 1]) || !hex_upper(path[i + 2]))
      __builtin_trap();
    char decoded = static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
    if (unreserved(decoded) || decoded == '/' || decoded == '\\') __builtin_trap();
    if (decoded == '%' && i + 4 < path.size() && hex_upper(path[i + 3]) && hex_upper(path[i + 4])) {
      __builtin_trap();
    }
  }
  std::size_t start = 1;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    std::string_view seg = path.substr(start, i - start);
    if (seg.empty() && i < path.size()) __builtin_trap();
    if (seg == "." || seg == "..") __builtin_trap();
    if (seg.rfind(".;", 0) == 0 || seg.rfind("..;", 0) == 0 || seg.rfind(".%3B", 0) == 0 ||
        seg.rfind("..%3B", 0) == 0) {
      __builtin_trap();
    }
    start = i + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 8192) return 0;
  TargetOptions options;
  if (data[0] & 1) options.doubled_slashes = DoubledSlashes::kRefuse;
  if (data[0] & 2) options.require_utf8 = false;
  const bool options_method = data[0] & 4;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t newline = input.find('\n');
  std::string_view raw_authority =
      newline == std::string_view::npos ? "" : input.substr(0, newline);
  std::string_view raw_path = newline == std::string_view::npos ? input : input.substr(newline + 1);

  std::string storage, again_storage;
  std::string_view path, again;
  if (normalize_path(raw_path, options_method, options, storage, &path) == RequestFault::kNone) {
    check_canonical_path(path);
    if (normalize_path(path, options_method, options, again_storage, &again) !=
            RequestFault::kNone ||
        again != path) {
      __builtin_trap();
    }
    if (classifier().classify("api.example.com", path) !=
        classifier().classify("api.example.com", again)) {
      __builtin_trap();
    }
  }

  std::string a_storage, a_again_storage;
  CanonicalAuthority authority, authority_again;
  if (normalize_authority(raw_authority, "https", a_storage, &authority) == RequestFault::kNone) {
    for (char c : authority.host) {
      if (c >= 'A' && c <= 'Z') __builtin_trap();
    }
    if (!authority.host.empty() && authority.host.back() == '.') __builtin_trap();
    if (normalize_authority(authority.authority, "https", a_again_storage, &authority_again) !=
            RequestFault::kNone ||
        authority_again.authority != authority.authority) {
      __builtin_trap();
    }
    classifier().classify(authority.host, path.empty() ? "/" : path);
  }
  return 0;
}
