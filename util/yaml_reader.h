#pragma once
// Reading configuration YAML in three stages (after h2o's configurator):
// yaml-cpp parses the text; the helpers here check each map against a
// declarative table of allowed keys, kinds and required-ness and read typed
// values; the section readers build immutable runtime structures. Every
// problem becomes a Diagnostic with file:line:col and the key path, and
// reading goes on so that all problems are reported at once.
//
// yaml-cpp throws; this is the only place that catches its exceptions.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/diagnostics.h"
#include "util/regular_file.h"
#include "util/rfc3339.h"

namespace regiongate {

// One file being read: where its diagnostics go and how to name places in it.
class YamlContext {
 public:
  YamlContext(std::string file, Diagnostics& diags) : file_(std::move(file)), diags_(diags) {}

  const std::string& file() const { return file_; }
  Diagnostics& diagnostics() { return diags_; }

  // yaml-cpp marks are 0-based; SourceMark is 1-based.
  SourceMark mark(const YAML::Node& node) const;
  void error(const YAML::Node& node, std::string_view path, std::string_view message);
  void warning(const YAML::Node& node, std::string_view path, std::string_view message);

 private:
  std::string file_;
  Diagnostics& diags_;
};

// What a YAML file of configuration (the configuration, the policy, the
// data centres) may be: a regular file of at most 4 MiB. A policy of the
// 10,000 rules the policy reader allows is about 1.2 MB. yaml-cpp takes 2
// to 5 s and 250 MB to 1 GB for a file at the bound (the more nodes a byte,
// the more); a 50 MB policy took 20 s and 3.4 GB before it was refused for
// its rules.
inline constexpr FileKind kYamlFile{"YAML file", 4u << 20};

// Loads a YAML file (util/regular_file.h: a regular file of kYamlFile's
// size at most). On a file that cannot be read or a syntax error, records a
// diagnostic naming the file (and line and column for syntax errors) and
// returns nullopt.
std::optional<YAML::Node> load_yaml_file(const std::string& path, Diagnostics& diags);
// The same for text already in memory, named `name` in diagnostics.
//
// Every scalar of the document (keys too) must be well-formed UTF-8: each
// one that is not is an error at its line and column, and the document is
// still returned, so that the readers report the rest (the diagnostics hold
// errors: nothing built from it is used). Nesting deeper than yaml-cpp's
// limit (500 levels) is an error at the innermost collection open there,
// and aliases that would expand the document to more than two nodes a byte
// of text an error of the file: neither is returned.
std::optional<YAML::Node> load_yaml_text(std::string_view text, const std::string& name,
                                         Diagnostics& diags);

// `relative` resolved against the directory of `base_file` (unless absolute).
std::string resolve_relative(const std::string& base_file, const std::string& relative);

enum class YamlKind { kScalar, kSequence, kMap, kScalarOrSequence, kAny };

struct KeySpec {
  std::string_view name;
  YamlKind kind;
  bool required = false;
};

// "rules[2]" and "rules[2].allow".
std::string key_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

// Checks that `node` is a map, that each key is in `spec` exactly once, that
// required keys are present and that each value has the declared kind.
// Returns false only when `node` is not a map (nothing else can be read from it).
bool check_map(const YAML::Node& node, std::span<const KeySpec> spec, std::string_view path,
               YamlContext& ctx);
// Checks a map whose keys are free-form names (ids); reports duplicate keys.
bool check_named_map(const YAML::Node& node, std::string_view path, YamlContext& ctx);

// Typed readers: each records an error naming `path` and returns nullopt when
// the value is missing or malformed.
//
// Beware: on a const map, node["missing"] is an invalid node on which every
// Is*() call throws; test it with operator bool / IsDefined() first. These
// readers do. And never assign to a YAML::Node variable (`n = other`): it
// writes through to the document; initialise a new one instead.
std::optional<std::string> read_string(const YAML::Node& node, std::string_view path,
                                       YamlContext& ctx);
std::optional<double> read_double(const YAML::Node& node, std::string_view path,
                                  YamlContext& ctx, double min, double max);
std::optional<std::int64_t> read_int(const YAML::Node& node, std::string_view path,
                                     YamlContext& ctx, std::int64_t min, std::int64_t max);
std::optional<bool> read_bool(const YAML::Node& node, std::string_view path, YamlContext& ctx);
std::optional<UnixSeconds> read_instant(const YAML::Node& node, std::string_view path,
                                        YamlContext& ctx);

// "250ms", "2s", "5m", "1h" -> milliseconds; nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// map[key], when present, as a duration into `out` (positive unless
// `zero_allowed`: 0 then turns a feature off); an error otherwise.
void read_duration(const YAML::Node& map, const char* key, const std::string& path,
                   YamlContext& ctx, std::chrono::milliseconds& out, bool zero_allowed = false);

// One of `names`, as its index; otherwise an error listing them ("'a', 'b'
// or 'c', not 'x'") and nullopt.
std::optional<std::size_t> read_choice(const YAML::Node& node, std::string_view path,
                                       YamlContext& ctx,
                                       std::initializer_list<std::string_view> names);

// One string of a list, with its node kept for error marks.
struct YamlString {
  std::string value;
  YAML::Node node;
};
// A scalar or a sequence of scalars, read as a list of strings.
std::vector<YamlString> read_string_list(const YAML::Node& node, std::string_view path,
                                         YamlContext& ctx);

}  // namespace regiongate
