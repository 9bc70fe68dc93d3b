// The canonical request target: RFC 3986 §5.4's examples, then what a
// hostile client sends to make the gateway and a data centre read one path
// two ways.

#include "policy/canonical_request.h"

#include <gtest/gtest.h>

#include <string>

namespace regiongate {
namespace {

struct PathCase {
  std::string raw;
  std::string want;  // the canonical path, or "!code" for a refusal
};

// "!code" (built by appending: GCC 12 warns falsely on "!" + std::string).
std::string refusal(RequestFault f) {
  std::string out = "!";
  out += fault_code(f);
  return out;
}

std::string normalized(std::string_view raw, const TargetOptions& options = {},
                       bool options_method = false) {
  std::string storage;
  std::string_view out;
  RequestFault f = normalize_path(raw, options_method, options, storage, &out);
  if (f != RequestFault::kNone) return refusal(f);
  return std::string(out);
}

void expect_all(const std::vector<PathCase>& cases, const TargetOptions& options = {}) {
  for (const PathCase& c : cases) {
    std::string got = normalized(c.raw, options);
    EXPECT_EQ(got, c.want) << "raw: " << c.raw;
    // Whatever came out is canonical: normalising it again changes nothing.
    if (!got.empty() && got[0] != '!') {
      EXPECT_EQ(normalized(got, options), got) << c.raw;
    }
  }
}

// RFC 3986 §5.4.1 and §5.4.2 against the base "http://a/b/c/d;p?q": a
// relative path reference merged with the base path (§5.2.3) is "/b/c/" +
// the reference; removing its dot segments must give the RFC's path.
TEST(NormalizePath, Rfc3986Section54Examples) {
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"g", "/b/c/g"},
      {"./g", "/b/c/g"},
      {"g/", "/b/c/g/"},
      {";x", "/b/c/;x"},
      {"g;x", "/b/c/g;x"},
      {".", "/b/c/"},
      {"./", "/b/c/"},
      {"..", "/b/"},
      {"../", "/b/"},
      {"../g", "/b/g"},
      {"../..", "/"},
      {"../../", "/"},
      {"../../g", "/g"},
      // §5.4.2, abnormal examples
      {"../../../g", "/g"},
      {"../../../../g", "/g"},
      {"g.", "/b/c/g."},
      {".g", "/b/c/.g"},
      {"g..", "/b/c/g.."},
      {"..g", "/b/c/..g"},
      {"./../g", "/b/g"},
      {"./g/.", "/b/c/g/"},
      {"g/./h", "/b/c/g/h"},
      {"g/../h", "/b/c/h"},
      {"g;x=1/./y", "/b/c/g;x=1/y"},
      {"g;x=1/../y", "/b/c/y"},
  };
  for (const auto& [ref, want] : examples) {
    EXPECT_EQ(normalized("/b/c/" + ref), want) << "reference: " << ref;
  }
  // And the absolute-path references of the same sections.
  expect_all({{"/g", "/g"}, {"/./g", "/g"}, {"/../g", "/g"}});
}

TEST(NormalizePath, DecodesUnreservedAndUpperCasesTheRestOfTheEscapes) {
  expect_all({
      {"/%73ecret/file", "/secret/file"},
      {"/%7e%7E%41%5f%2D%2e/x", "/~~A_-./x"},
      {"/a%3bb", "/a%3Bb"},  // reserved: kept escaped, upper-cased
      {"/a%3Bb", "/a%3Bb"},
      {"/a%40b%3a", "/a%40b%3A"},
      {"/%e2%82%ac", "/%E2%82%AC"},  // the euro sign in UTF-8
      {"/caf%C3%a9", "/caf%C3%A9"},
      {"/100%25", "/100%25"},  // a literal '%': nothing left to decode
      {"/100%25-off", "/100%25-off"},
      {"/%25zz", "/%25zz"},
      {"/a%20b", "/a%20b"},
  });
}

TEST(NormalizePath, RemovesDotSegmentsHowEverTheyAreSpelled) {
  expect_all({
      {"/x/../secret/file", "/secret/file"},
      {"/x/%2e%2e/secret/file", "/secret/file"},
      {"/x/%2E%2E/secret/file", "/secret/file"},
      {"/x/.%2e/secret/file", "/secret/file"},
      {"/x/%2e./secret/file", "/secret/file"},
      {"/./secret/file", "/secret/file"},
      {"/%2e/secret/file", "/secret/file"},
      {"/cloud/../shop/cart", "/shop/cart"},
      {"/cloud/photos/../../shop/cart", "/shop/cart"},
      {"/..", "/"},
      {"/.", "/"},
      {"/shop/.", "/shop/"},
      {"/shop/", "/shop/"},
      {"/", "/"},
      {"/...", "/..."},  // three dots are a name
  });
}

TEST(NormalizePath, MergesOrRefusesDoubledSlashesAsConfigured) {
  expect_all({
      {"//secret/file", "/secret/file"},
      {"/secret//file", "/secret/file"},
      {"/secret///file//", "/secret/file/"},
      {"//", "/"},
      {"/a/.//b", "/a/b"},
      {"/a/..//b", "/b"},
  });
  TargetOptions refuse;
  refuse.doubled_slashes = DoubledSlashes::kRefuse;
  expect_all(
      {
          {"//secret/file", "!doubled-slash"},
          {"/secret//file", "!doubled-slash"},
          {"/secret/file//", "!doubled-slash"},
          {"/secret/file/", "/secret/file/"},
          {"/a/./b", "/a/b"},
      },
      refuse);
}

TEST(NormalizePath, RefusesEncodedSlashesAndBackslashes) {
  expect_all({
      {"/secret%2ffile", "!encoded-slash"},
      {"/secret%2Ffile", "!encoded-slash"},
      {"/secret%5cfile", "!encoded-slash"},
      {"/secret%5Cfile", "!encoded-slash"},
      {"/x/..%2fsecret", "!encoded-slash"},
      {"/secret\\file", "!backslash"},
      {"/x/..\\secret", "!backslash"},
  });
}

TEST(NormalizePath, RefusesDoubleEncoding) {
  expect_all({
      {"/x/%252e%252e/secret", "!double-encoded"},
      {"/secret%252ffile", "!double-encoded"},
      {"/%2525", "!double-encoded"},
      {"/%25%32%65", "!double-encoded"},  // decodes to "%2e": still an escape
      {"/%25%32", "/%252"},               // not two hex digits after "%25"
  });
}

TEST(NormalizePath, RefusesOverlongAndOtherNonUtf8Escapes) {
  expect_all({
      {"/x/%c0%ae%c0%ae/secret", "!escape-not-utf8"},  // overlong '.'
      {"/x/%e0%80%ae/secret", "!escape-not-utf8"},
      {"/x/%f0%80%80%ae/secret", "!escape-not-utf8"},
      {"/x/%c0%af/secret", "!escape-not-utf8"},  // overlong '/'
      {"/%ed%a0%80", "!escape-not-utf8"},        // a surrogate
      {"/%f4%90%80%80", "!escape-not-utf8"},     // past U+10FFFF
      {"/%c3", "!escape-not-utf8"},              // truncated
      {"/%c3/", "!escape-not-utf8"},
      {"/%c3%41", "!escape-not-utf8"},
      {"/%80", "!escape-not-utf8"},
      {"/%ff", "!escape-not-utf8"},
  });
  TargetOptions keep;
  keep.require_utf8 = false;
  expect_all({{"/x/%c0%ae/y", "/x/%C0%AE/y"},
              {"/%ff", "/%FF"},
              {"/%c0%af", "/%C0%AF"},
              // Found by the fuzzer: a lead byte, then an unreserved escape that
              // decodes to a raw character; the output must stay canonical.
              {"/..x/..%20%e2%51%57", "/..x/..%20%E2QW"},
              {"/%e2a", "/%E2a"}},
             keep);
}

TEST(NormalizePath, RefusesControlCharactersAndNul) {
  expect_all({
      {"/a%00b", "!encoded-control"},
      {"/a%0ab", "!encoded-control"},
      {"/a%0D%0Ab", "!encoded-control"},
      {"/a%7fb", "!encoded-control"},
      {"/a%1f", "!encoded-control"},
      {std::string("/a\0b", 4), "!invalid-path-character"},
      {"/a\tb", "!invalid-path-character"},
      {"/a\x7f", "!invalid-path-character"},
  });
}

TEST(NormalizePath, RefusesDotSegmentsWithParameters) {
  expect_all({
      {"/x/..;/secret", "!dot-segment-parameters"},
      {"/x/..;jsessionid=1/secret", "!dot-segment-parameters"},
      {"/x/.;/secret", "!dot-segment-parameters"},
      {"/x/..%3b/secret", "!dot-segment-parameters"},
      {"/x/%2e%2e;/secret", "!dot-segment-parameters"},
      {"/x/%2e%2e%3B/secret", "!dot-segment-parameters"},
      {"/x/a;b/secret", "/x/a;b/secret"},
      {"/x/..a;/secret", "/x/..a;/secret"},
  });
}

TEST(NormalizePath, RefusesWhatIsNotAnOriginFormPath) {
  expect_all({
      {"", "!path-missing"},
      {"secret/file", "!path-not-origin-form"},
      {"http://evil.example/secret", "!path-not-origin-form"},
      {"*", "!path-not-origin-form"},
      {"/%", "!malformed-escape"},
      {"/%4", "!malformed-escape"},
      {"/%zz", "!malformed-escape"},
      {"/%4g/x", "!malformed-escape"},
      {"/a b", "!invalid-path-character"},
      {"/a\"b", "!invalid-path-character"},
      {"/<script>", "!invalid-path-character"},
      {"/a#b", "!invalid-path-character"},
      {"/a|b", "!invalid-path-character"},
      {"/{x}", "!invalid-path-character"},
      {"/[x]", "!invalid-path-character"},
      {"/a^b", "!invalid-path-character"},
      {"/a`b", "!invalid-path-character"},
      {"/caf\xc3\xa9", "!invalid-path-character"},  // raw UTF-8: a client must escape it
  });
  EXPECT_EQ(normalized("*", {}, true), "*");  // OPTIONS *
}

TEST(NormalizePath, PassesTheQueryOnByteForByte) {
  expect_all({
      {"/a?b=%2F..%2f", "/a?b=%2F..%2f"},
      {"/a/../b?x=/../y&z=%7e", "/b?x=/../y&z=%7e"},
      {"/a?", "/a?"},
      {"/%73?%73", "/s?%73"},
      {"/a?caf\xc3\xa9", "/a?caf\xc3\xa9"},
      {"/a?x|y", "/a?x|y"},
      {"/a?x y", "!invalid-query-character"},
      {"/a?x#y", "!invalid-query-character"},
      {"/a?x\ty", "!invalid-query-character"},
  });
}

TEST(NormalizePath, ACanonicalPathIsViewedNotCopied) {
  std::string storage;
  std::string_view out;
  const std::string raw = "/shop/cart;v=2?item=%2F1&x=..";
  ASSERT_EQ(normalize_path(raw, false, {}, storage, &out), RequestFault::kNone);
  EXPECT_EQ(out.data(), raw.data());
  EXPECT_TRUE(storage.empty());
  ASSERT_EQ(normalize_path("/shop/./cart", false, {}, storage, &out), RequestFault::kNone);
  EXPECT_EQ(out.data(), storage.data());
  EXPECT_EQ(out, "/shop/cart");
}

std::string authority(std::string_view raw, std::string_view scheme = "https") {
  std::string storage;
  CanonicalAuthority out;
  RequestFault f = normalize_authority(raw, scheme, storage, &out);
  if (f != RequestFault::kNone) return refusal(f);
  return std::string(out.authority) + " host=" + std::string(out.host);
}

TEST(NormalizeAuthority, LowerCasesDropsTheTrailingDotAndTheDefaultPort) {
  EXPECT_EQ(authority("api.example.com"), "api.example.com host=api.example.com");
  EXPECT_EQ(authority("API.Example.COM"), "api.example.com host=api.example.com");
  EXPECT_EQ(authority("api.example.com."), "api.example.com host=api.example.com");
  EXPECT_EQ(authority("api.example.com.:443"), "api.example.com host=api.example.com");
  EXPECT_EQ(authority("api.example.com:443", "http"), "api.example.com:443 host=api.example.com");
  EXPECT_EQ(authority("api.example.com:80", "http"), "api.example.com host=api.example.com");
  EXPECT_EQ(authority("api.example.com:8443"), "api.example.com:8443 host=api.example.com");
  EXPECT_EQ(authority("api.example.com:08443"), "api.example.com:8443 host=api.example.com");
  EXPECT_EQ(authority("api.example.com:"), "api.example.com host=api.example.com");
  EXPECT_EQ(authority("127.0.0.1:8080"), "127.0.0.1:8080 host=127.0.0.1");
  EXPECT_EQ(authority("[::1]:8080"), "[::1]:8080 host=[::1]");
  EXPECT_EQ(authority("[0:0:0:0:0:0:0:1]"), "[::1] host=[::1]");
  EXPECT_EQ(authority("[::FFFF:127.0.0.1]:443"), "[::ffff:127.0.0.1] host=[::ffff:127.0.0.1]");
  EXPECT_EQ(authority("under_score.example"), "under_score.example host=under_score.example");
  EXPECT_EQ(authority(""), " host=");
}

TEST(NormalizeAuthority, RefusesUserinfoAndMalformedHosts) {
  for (const char* bad : {"user@api.example.com", "user:pw@api.example.com", "@api.example.com"}) {
    EXPECT_EQ(authority(bad), "!authority-userinfo") << bad;
  }
  for (const char* bad :
       {"a..b", ".a", "a.b..", "a b", "a%2eb", "a/b", "a\\b", ":443", "a:443:1", "a:0", "a:65536",
        "a:123456", "a:x", "[::1", "[xyz]", "[]", "[fe80::1%25eth0]", "[::1]x", "a*.example.com"}) {
    EXPECT_EQ(authority(bad), "!invalid-authority") << bad;
  }
  EXPECT_EQ(authority(std::string(64, 'a') + ".example"), "!invalid-authority");
  EXPECT_EQ(authority(std::string(255, 'a')), "!invalid-authority");
}

TEST(NormalizeAuthority, ACanonicalAuthorityIsViewedNotCopied) {
  std::string storage;
  CanonicalAuthority out;
  const std::string raw = "shop.example.com:8443";
  ASSERT_EQ(normalize_authority(raw, "https", storage, &out), RequestFault::kNone);
  EXPECT_EQ(out.authority.data(), raw.data());
  EXPECT_EQ(out.host, "shop.example.com");
  EXPECT_TRUE(storage.empty());
}

CanonicalTarget target(std::string_view authority, std::string_view host, TargetStorage& storage) {
  return canonical_target({"GET", "https", authority, host, "/"}, {}, storage);
}

TEST(CanonicalTarget, TheHostHeaderMustAgreeWithTheAuthority) {
  TargetStorage storage;
  EXPECT_EQ(target("api.example.com", "", storage).fault, RequestFault::kNone);
  EXPECT_EQ(target("api.example.com", "api.example.com", storage).fault, RequestFault::kNone);
  EXPECT_EQ(target("api.example.com", "API.example.com.:443", storage).fault, RequestFault::kNone);
  EXPECT_EQ(target("api.example.com", "shop.example.com", storage).fault,
            RequestFault::kHostMismatch);
  EXPECT_EQ(target("api.example.com", "api.example.com:8443", storage).fault,
            RequestFault::kHostMismatch);
  EXPECT_EQ(target("api.example.com", "u@api.example.com", storage).fault,
            RequestFault::kAuthorityUserinfo);
  CanonicalTarget only_host = target("", "Shop.Example.com", storage);
  EXPECT_EQ(only_host.fault, RequestFault::kNone);
  EXPECT_EQ(only_host.authority.host, "shop.example.com");
}

TEST(CanonicalTarget, EveryFaultHasACodeAndAReason) {
  for (int f = 1; f <= static_cast<int>(RequestFault::kListValue); ++f) {
    auto fault = static_cast<RequestFault>(f);
    EXPECT_NE(fault_code(fault), "invalid-request") << f;
    EXPECT_FALSE(fault_reason(fault).empty()) << f;
  }
}

}  // namespace
}  // namespace regiongate
