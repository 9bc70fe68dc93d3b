#include "util/yaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "util/utf8.h"

namespace regiongate {
namespace {

const char* kind_name(YamlKind kind) {
  switch (kind) {
    case YamlKind::kScalar: return "a scalar";
    case YamlKind::kSequence: return "a list";
    case YamlKind::kMap: return "a map";
    case YamlKind::kScalarOrSequence: return "a scalar or a list";
    case YamlKind::kAny: return "anything";
  }
  return "?";
}

bool has_kind(const YAML::Node& node, YamlKind kind) {
  switch (kind) {
    case YamlKind::kScalar: return node.IsScalar();
    case YamlKind::kSequence: return node.IsSequence();
    case YamlKind::kMap: return node.IsMap();
    case YamlKind::kScalarOrSequence: return node.IsScalar() || node.IsSequence();
    case YamlKind::kAny: return true;
  }
  return false;
}

std::string with_path(std::string_view path, std::string_view message) {
  std::string out;
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += message;
  return out;
}

// The start of the innermost collection open when yaml-cpp gave up on
// nesting too deep: DeepRecursion's own mark is where yaml-cpp's scanner had
// read to (the end of a flow collection, or nothing at the end of the
// text), not where the nesting went too deep.
class DepthFinder : public YAML::EventHandler {
 public:
  // The mark, or a null one when the events do not reach the limit again.
  static YAML::Mark innermost_at_limit(const std::string& text) {
    DepthFinder finder;
    std::istringstream in(text);
    try {
      YAML::Parser parser(in);
      parser.HandleNextDocument(finder);
    } catch (const YAML::DeepRecursion&) {
      if (!finder.open_.empty()) return finder.open_.back();
    } catch (const YAML::Exception&) {
    }
    return YAML::Mark::null_mark();
  }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open_.push_back(mark);
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open_.push_back(mark);
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  std::vector<YAML::Mark> open_;
};

SourceMark source_mark(const std::string& name, const YAML::Mark& m) {
  if (m.is_null()) return {name, 0, 0};
  return {name, m.line + 1, m.column + 1};
}

std::optional<YAML::Node> parse(const std::string& text, const std::string& name,
                                Diagnostics& diags) {
  try {
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's message for it is "bad file".
    YAML::Mark at = DepthFinder::innermost_at_limit(text);
    diags.error(source_mark(name, at.is_null() ? e.mark : at),
                "YAML nested too deeply (yaml-cpp reads " + std::to_string(e.depth()) +
                    " levels of lists and maps at most)");
  } catch (const YAML::ParserException& e) {
    diags.error(source_mark(name, e.mark), "YAML syntax: " + e.msg);
  } catch (const YAML::Exception& e) {
    diags.error({name, 0, 0}, std::string("YAML: ") + e.what());
  }
  return std::nullopt;
}

// Every scalar of a document, keys too, is well-formed UTF-8; each that is
// not is an error at its place, named by its key path. Aliases are walked
// where they appear (yaml-cpp shares the node they name), within a budget
// of nodes that text without aliases cannot reach, so that a document of
// aliases of aliases cannot make the walk (or a reader) exponential.
class Utf8Check {
 public:
  static constexpr int kMaxReported = 20;

  Utf8Check(const std::string& name, std::size_t text_size, Diagnostics& diags)
      : name_(name), budget_(2 * text_size + 64), diags_(diags) {}

  // False when the aliases expand past the budget (reported).
  bool run(const YAML::Node& root) {
    walk(root);
    if (bad_ > kMaxReported) {
      diags_.error({name_, 0, 0}, "... and " + std::to_string(bad_ - kMaxReported) +
                                      " more values that are not UTF-8");
    }
    if (budget_ == 0) {
      diags_.error({name_, 0, 0},
                   "YAML aliases expand the document to more than two nodes a byte of its text");
      return false;
    }
    return true;
  }

 private:
  // One step of the key path to the node being walked: a key or an index.
  struct Step {
    const std::string* key;  // null for an index
    std::size_t index;
  };

  void walk(const YAML::Node& node) {
    if (budget_ == 0) return;
    --budget_;
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        check(node);
        return;
      case YAML::NodeType::Sequence: {
        std::size_t i = 0;
        for (const YAML::Node& item : node) {
          path_.push_back({nullptr, i++});
          walk(item);
          path_.pop_back();
        }
        return;
      }
      case YAML::NodeType::Map:
        for (const auto& item : node) {
          path_.push_back({item.first.IsScalar() ? &item.first.Scalar() : &kComplexKey, 0});
          walk(item.first);
          walk(item.second);
          path_.pop_back();
        }
        return;
      default:
        return;
    }
  }

  void check(const YAML::Node& scalar) {
    const std::string& value = scalar.Scalar();
    const std::size_t at = find_invalid_utf8(value);
    if (at == std::string::npos) return;
    // Reached again through an alias: reported where it is written, once.
    const YAML::Mark mark = scalar.Mark();
    if (!reported_.insert({mark.line, mark.column}).second || ++bad_ > kMaxReported) return;
    static constexpr char kHex[] = "0123456789ABCDEF";
    const auto byte = static_cast<unsigned char>(value[at]);
    std::string path;
    for (const Step& step : path_) {
      path = step.key ? key_path(path, *step.key) : index_path(path, step.index);
    }
    std::string message = path.empty() ? std::string() : path + ": ";
    message += "not UTF-8: byte " + std::to_string(at + 1) + " of the value is 0x";
    message += kHex[byte >> 4];
    message += kHex[byte & 15];
    message += " (YAML text is UTF-8)";
    diags_.error(source_mark(name_, mark), std::move(message));
  }

  inline static const std::string kComplexKey = "?";
  const std::string& name_;
  std::size_t budget_;
  Diagnostics& diags_;
  std::vector<Step> path_;
  std::set<std::pair<int, int>> reported_;  // the line and column of each bad scalar
  int bad_ = 0;
};

}  // namespace

SourceMark YamlContext::mark(const YAML::Node& node) const {
  if (!node.IsDefined()) return {file_, 0, 0};
  YAML::Mark m = node.Mark();
  if (m.is_null()) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

void YamlContext::error(const YAML::Node& node, std::string_view path, std::string_view message) {
  diags_.error(mark(node), with_path(path, message));
}

void YamlContext::warning(const YAML::Node& node, std::string_view path,
                          std::string_view message) {
  diags_.warning(mark(node), with_path(path, message));
}

std::optional<YAML::Node> load_yaml_file(const std::string& path, Diagnostics& diags) {
  std::string text, error;
  if (!read_regular_file(path, kYamlFile, &text, &error)) {
    diags.error({path, 0, 0}, std::move(error));
    return std::nullopt;
  }
  return load_yaml_text(text, path, diags);
}

std::optional<YAML::Node> load_yaml_text(std::string_view text, const std::string& name,
                                         Diagnostics& diags) {
  auto node = parse(std::string(text), name, diags);
  if (!node) return std::nullopt;
  if (node->IsNull()) {
    diags.error({name, 0, 0}, "the file is empty");
    return std::nullopt;
  }
  if (!Utf8Check(name, text.size(), diags).run(*node)) return std::nullopt;
  return node;
}

std::string resolve_relative(const std::string& base_file, const std::string& relative) {
  std::filesystem::path rel(relative);
  if (rel.is_absolute()) return relative;
  return (std::filesystem::path(base_file).parent_path() / rel).lexically_normal().string();
}

std::string key_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + '[' + std::to_string(index) + ']';
}

bool check_map(const YAML::Node& node, std::span<const KeySpec> spec, std::string_view path,
               YamlContext& ctx) {
  if (!node.IsMap()) {
    ctx.error(node, path, "must be a map");
    return false;
  }
  std::set<std::string> seen;
  for (const auto& item : node) {
    const YAML::Node& key = item.first;
    std::string name = key.IsScalar() ? key.Scalar() : std::string();
    const KeySpec* found = nullptr;
    for (const KeySpec& s : spec) {
      if (s.name == name) found = &s;
    }
    std::string sub = key_path(path, name);
    if (!found) {
      std::string allowed;
      for (const KeySpec& s : spec) allowed += (allowed.empty() ? "" : ", ") + std::string(s.name);
      ctx.error(key, path, "unknown key '" + name + "' (allowed: " + allowed + ")");
      continue;
    }
    if (!seen.insert(name).second) {
      ctx.error(key, sub, "duplicate key");
      continue;
    }
    if (!has_kind(item.second, found->kind)) {
      ctx.error(item.second, sub, std::string("must be ") + kind_name(found->kind));
    }
  }
  for (const KeySpec& s : spec) {
    if (s.required && !seen.count(std::string(s.name))) {
      ctx.error(node, path, "missing required key '" + std::string(s.name) + "'");
    }
  }
  return true;
}

bool check_named_map(const YAML::Node& node, std::string_view path, YamlContext& ctx) {
  if (!node.IsMap()) {
    ctx.error(node, path, "must be a map");
    return false;
  }
  std::set<std::string> seen;
  for (const auto& item : node) {
    if (!item.first.IsScalar()) {
      ctx.error(item.first, path, "keys must be names");
      continue;
    }
    if (!seen.insert(item.first.Scalar()).second) {
      ctx.error(item.first, key_path(path, item.first.Scalar()), "duplicate key");
    }
  }
  return true;
}

std::optional<std::string> read_string(const YAML::Node& node, std::string_view path,
                                       YamlContext& ctx) {
  if (!node.IsDefined() || node.IsNull()) {
    ctx.error(node, path, "a value is required");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    ctx.error(node, path, "must be a scalar");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<double> read_double(const YAML::Node& node, std::string_view path,
                                  YamlContext& ctx, double min, double max) {
  auto text = read_string(node, path, ctx);
  if (!text) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(value)) {
    ctx.error(node, path, "not a number: '" + *text + "'");
    return std::nullopt;
  }
  if (value < min || value > max) {
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max << ", not " << *text;
    ctx.error(node, path, msg.str());
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> read_int(const YAML::Node& node, std::string_view path,
                                     YamlContext& ctx, std::int64_t min, std::int64_t max) {
  auto text = read_string(node, path, ctx);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    ctx.error(node, path, "not a whole number: '" + *text + "'");
    return std::nullopt;
  }
  if (value < min || value > max) {
    ctx.error(node, path,
              "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                  ", not " + *text);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> read_bool(const YAML::Node& node, std::string_view path, YamlContext& ctx) {
  auto text = read_string(node, path, ctx);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  ctx.error(node, path, "must be true or false, not '" + *text + "'");
  return std::nullopt;
}

std::optional<UnixSeconds> read_instant(const YAML::Node& node, std::string_view path,
                                        YamlContext& ctx) {
  auto text = read_string(node, path, ctx);
  if (!text) return std::nullopt;
  auto t = parse_rfc3339(*text);
  if (!t) {
    ctx.error(node, path,
              "not an RFC 3339 date or date-time (e.g. 2014-10-31 or 2014-10-31T00:00:00+05:30): '" +
                  *text + "'");
  }
  return t;
}

std::vector<YamlString> read_string_list(const YAML::Node& node, std::string_view path,
                                         YamlContext& ctx) {
  std::vector<YamlString> out;
  // A missing key: check_map has already said it is required.
  if (!node.IsDefined()) return out;
  if (node.IsScalar()) {
    out.push_back({node.Scalar(), node});
    return out;
  }
  if (!node.IsSequence()) {
    ctx.error(node, path, "must be a name or a list of names");
    return out;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& item = node[i];
    if (!item.IsScalar()) {
      ctx.error(item, index_path(path, i), "must be a name");
      continue;
    }
    out.push_back({item.Scalar(), item});
  }
  return out;
}

std::optional<std::size_t> read_choice(const YAML::Node& node, std::string_view path,
                                       YamlContext& ctx,
                                       std::initializer_list<std::string_view> names) {
  auto value = read_string(node, path, ctx);
  if (!value) return std::nullopt;
  std::string expected;
  std::size_t i = 0;
  for (std::string_view name : names) {
    if (name == *value) return i;
    expected += i == 0 ? "" : i + 1 == names.size() ? " or " : ", ";
    expected += '\'';
    expected.append(name);
    expected += '\'';
    ++i;
  }
  ctx.error(node, path, expected + ", not '" + *value + "'");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0 || value > 100'000'000) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::milliseconds(value * 1000);
  if (unit == "m") return std::chrono::milliseconds(value * 60'000);
  if (unit == "h") return std::chrono::milliseconds(value * 3'600'000);
  return std::nullopt;
}

void read_duration(const YAML::Node& map, const char* key, const std::string& path,
                   YamlContext& ctx, std::chrono::milliseconds& out, bool zero_allowed) {
  if (!map[key]) return;
  auto text = read_string(map[key], key_path(path, key), ctx);
  if (!text) return;
  auto d = parse_duration(*text);
  if (!d || (d->count() == 0 && !zero_allowed)) {
    ctx.error(map[key], key_path(path, key),
              zero_allowed ? "a duration like 0ms, 250ms, 2s, 5m or 1h, not '" + *text + "'"
                           : "a positive duration like 250ms, 2s, 5m or 1h, not '" + *text + "'");
    return;
  }
  out = *d;
}

}  // namespace regiongate
