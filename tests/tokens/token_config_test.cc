// The tokens section: what it reads, the defaults, paths relative to the
// configuration file, and each mistake reported at its file:line:col.

#include "tokens/token_config.h"

#include <gtest/gtest.h>

#include "tests/tokens/token_fixture.h"

namespace regiongate::testing {
namespace {

constexpr const char* kFile = "/etc/regiongate/regiongate.yaml";

struct Read {
  TokenConfig config;
  Diagnostics diags;
  // True when an error starts with `place` ("regiongate.yaml:3:5") and says `text`.
  bool has_error(std::string_view place, std::string_view text) const {
    for (const Diagnostic& d : diags.all()) {
      const std::string line = d.format();
      if (d.severity == Severity::kError && line.rfind(place, 0) == 0 &&
          line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
};

Read read(std::string_view yaml) {
  Read r;
  auto root = load_yaml_text(yaml, kFile, r.diags);
  if (!root) return r;
  YamlContext ctx(kFile, r.diags);
  r.config = read_token_config((*root)["tokens"], "tokens", ctx);
  return r;
}

TEST(TokenConfig, TheDocumentedSectionIsReadWithPathsBesideTheConfigFile) {
  Read r = read(R"(tokens:
  keys:
    - file: keys/jwks.json
    - file: keys/rsa-2026.pem
      kid: rsa-2026
    - file: /srv/keys/ec.pem
      kid: ec-1
  issuers: [https://id.example.com, https://id2.example.com]
  audience: regiongate
  clock_skew: 2m
  max_bytes: 4096
  require_exp: false
  claims: {country: home, account: acct, consents: optins}
  cache: {entries: 1024}
)");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  const TokenConfig& c = r.config;
  EXPECT_TRUE(c.enabled);
  ASSERT_EQ(c.keys.size(), 3u);
  EXPECT_EQ(c.keys[0].path, "/etc/regiongate/keys/jwks.json");
  EXPECT_EQ(c.keys[0].kid, "");
  EXPECT_EQ(c.keys[1].path, "/etc/regiongate/keys/rsa-2026.pem");
  EXPECT_EQ(c.keys[1].kid, "rsa-2026");
  EXPECT_EQ(c.keys[1].mark.line, 4);
  EXPECT_EQ(c.keys[2].path, "/srv/keys/ec.pem");
  EXPECT_EQ(c.issuers, (std::vector<std::string>{"https://id.example.com", "https://id2.example.com"}));
  EXPECT_EQ(c.audience, "regiongate");
  EXPECT_EQ(c.clock_skew, std::chrono::seconds(120));
  EXPECT_EQ(c.max_bytes, 4096u);
  EXPECT_FALSE(c.require_exp);
  EXPECT_EQ(c.country_claim, "home");
  EXPECT_EQ(c.account_claim, "acct");
  EXPECT_EQ(c.consents_claim, "optins");
  EXPECT_EQ(c.cache_entries, 1024u);
}

TEST(TokenConfig, DefaultsAndASingleIssuer) {
  Read r = read("tokens:\n  keys: [{file: k.json}]\n  issuers: https://id.example.com\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  EXPECT_EQ(r.config.issuers, std::vector<std::string>{"https://id.example.com"});
  EXPECT_EQ(r.config.audience, "");
  EXPECT_EQ(r.config.clock_skew, std::chrono::seconds(60));
  EXPECT_EQ(r.config.max_bytes, 8192u);
  EXPECT_TRUE(r.config.require_exp);
  EXPECT_EQ(r.config.country_claim, "country");
  EXPECT_EQ(r.config.account_claim, "sub");
  EXPECT_EQ(r.config.consents_claim, "consents");
  EXPECT_EQ(r.config.cache_entries, 65536u);
}

TEST(TokenConfig, AZeroClockSkewMeansExactClocks) {
  Read r = read("tokens:\n  keys: [{file: k.json}]\n  clock_skew: 0s\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  EXPECT_EQ(r.config.clock_skew, std::chrono::seconds(0));
}

TEST(TokenConfig, EachMistakeIsAnErrorAtItsLineAndColumn) {
  Read r = read(R"(tokens:
  keys:
    - kid: no-file
    - file: k.pem
      kdi: typo
  issuer: https://id.example.com
  clock_skew: soon
  max_bytes: 10
  claims: {country: "", region: r}
  cache: {entries: -1}
  require_exp: maybe
)");
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:3:7", "missing required key 'file'"))
      << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:5:7", "unknown key 'kdi'")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:6:3", "unknown key 'issuer'")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:7:15", "duration")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:8:14", "tokens.max_bytes")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:9:21", "a claim name")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:9:25", "unknown key 'region'")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:10:20", "tokens.cache.entries")) << r.diags.format_all();
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:11:16", "tokens.require_exp")) << r.diags.format_all();
  // Each mistake once, each with its place.
  EXPECT_EQ(r.diags.error_count(), 9) << r.diags.format_all();
  for (const Diagnostic& d : r.diags.all()) EXPECT_GT(d.mark.line, 0) << d.format();
}

TEST(TokenConfig, AnEmptyKeyFileNameIsAnError) {
  Read r = read("tokens:\n  keys:\n    - file: \"\"\n");
  EXPECT_TRUE(r.has_error("/etc/regiongate/regiongate.yaml:3:13", "tokens.keys[0].file: a key file"))
      << r.diags.format_all();
}

TEST(TokenConfig, NoKeysIsAnError) {
  Read none = read("tokens:\n  audience: regiongate\n");
  EXPECT_TRUE(none.has_error("/etc/regiongate/regiongate.yaml:2:3", "keys")) << none.diags.format_all();
  Read empty = read("tokens:\n  keys: []\n");
  EXPECT_TRUE(empty.has_error("/etc/regiongate/regiongate.yaml:2:9", "at least one key file"))
      << empty.diags.format_all();
}

// A key file that cannot be used is reported at its entry in the
// configuration, naming the file.
TEST_F(TokenTest, KeyLoadErrorsPointAtTheirEntryInTheConfiguration) {
  const std::string config_file = keys_->path("regiongate.yaml");
  const std::string yaml = "tokens:\n  keys:\n    - file: jwks.json\n    - file: missing.pem\n      kid: gone\n";
  Diagnostics diags;
  auto root = load_yaml_text(yaml, config_file, diags);
  ASSERT_TRUE(root);
  YamlContext ctx(config_file, diags);
  const TokenConfig c = read_token_config((*root)["tokens"], "tokens", ctx);
  ASSERT_FALSE(diags.has_errors()) << diags.format_all();
  EXPECT_EQ(c.keys[0].path, keys_->path("jwks.json"));
  EXPECT_FALSE(TokenVerifier::load(c, diags));
  ASSERT_EQ(diags.error_count(), 1) << diags.format_all();
  EXPECT_EQ(diags.all()[0].format(), config_file + ":4:7: error: tokens.keys: " +
                                         keys_->path("missing.pem") +
                                         ": cannot open the key file: No such file or directory");
}

}  // namespace
}  // namespace regiongate::testing
