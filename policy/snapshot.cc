#include "policy/snapshot.h"

#include "maps/file_directory.h"

namespace regiongate {
namespace {

constexpr KeySpec kConfigKeys[] = {
    {"policy", YamlKind::kAny, true},         {"datacenters", YamlKind::kAny, true},
    {"geoip", YamlKind::kMap, false},         {"directory", YamlKind::kMap, false},
    {"identity", YamlKind::kMap, false},      {"server", YamlKind::kMap, false},
    {"requests", YamlKind::kMap, false},      {"tokens", YamlKind::kMap, false},
};
constexpr KeySpec kGeoipKeys[] = {
    {"database", YamlKind::kScalar, true},
    {"country_paths", YamlKind::kScalarOrSequence, false},
};
constexpr KeySpec kDirectoryKeys[] = {{"file", YamlKind::kScalar, false},
                                      {"redis", YamlKind::kMap, false}};
constexpr KeySpec kDataCentersFileKeys[] = {{"datacenters", YamlKind::kMap, true}};

// A section given either inline or as the name of a file holding it.
struct Section {
  YAML::Node node;
  std::string file;
};

std::optional<Section> open_section(const YAML::Node& value, const std::string& key,
                                    YamlContext& ctx) {
  if (!value.IsScalar()) return Section{value, ctx.file()};
  std::string path = resolve_relative(ctx.file(), value.Scalar());
  auto node = load_yaml_file(path, ctx.diagnostics());
  if (!node) {
    ctx.error(value, key, "cannot use '" + path + "' (see above)");
    return std::nullopt;
  }
  return Section{*node, path};
}

DataCenterMap read_datacenters_section(const YAML::Node& value, YamlContext& ctx) {
  auto section = open_section(value, "datacenters", ctx);
  if (!section) return {};
  YamlContext sub(section->file, ctx.diagnostics());
  if (section->file == ctx.file()) return read_datacenters(section->node, "datacenters", sub);
  // A datacenters file holds one top-level `datacenters:` map.
  if (!check_map(section->node, kDataCentersFileKeys, "", sub)) return {};
  return read_datacenters(section->node["datacenters"], "datacenters", sub);
}

std::shared_ptr<const GeoipDatabase> open_geoip(const YAML::Node& node, YamlContext& ctx) {
  if (!check_map(node, kGeoipKeys, "geoip", ctx)) return nullptr;
  GeoipOptions options;
  auto db = read_string(node["database"], "geoip.database", ctx);
  if (!db) return nullptr;
  options.path = resolve_relative(ctx.file(), *db);
  if (node["country_paths"]) {
    options.country_paths.clear();
    for (const YamlString& item :
         read_string_list(node["country_paths"], "geoip.country_paths", ctx)) {
      GeoipRecordPath path;
      if (parse_geoip_record_path(item.value, &path)) {
        options.country_paths.push_back(std::move(path));
      } else {
        ctx.error(item.node, "geoip.country_paths", "not a record path like country.iso_code");
      }
    }
  }
  std::string error;
  auto opened = GeoipDatabase::open(options, &error);
  if (!opened) ctx.error(node["database"], "geoip.database", error);
  return opened;
}

// `directory: {file: ...}` (loaded now, shared by every worker) or
// `directory: {redis: {...}}` (its settings: each worker connects its own).
void open_directory(const YAML::Node& node, YamlContext& ctx, Snapshot& snap) {
  if (!check_map(node, kDirectoryKeys, "directory", ctx)) return;
  if (node["file"].IsDefined() == node["redis"].IsDefined()) {
    ctx.error(node, "directory", "give either file or redis");
    return;
  }
  if (node["redis"]) {
    snap.redis_directory = read_redis_directory_config(node["redis"], "directory.redis", ctx);
    return;
  }
  auto file = read_string(node["file"], "directory.file", ctx);
  if (!file) return;
  snap.directory = FileAccountDirectory::load(resolve_relative(ctx.file(), *file), ctx.diagnostics());
}

}  // namespace

std::shared_ptr<const Snapshot> load_snapshot(const std::string& config_file, Diagnostics& diags,
                                              const ServerSectionReader& read_server) {
  auto root = load_yaml_file(config_file, diags);
  if (!root) return nullptr;
  YamlContext ctx(config_file, diags);
  if (!check_map(*root, kConfigKeys, "", ctx)) return nullptr;

  auto snap = std::make_shared<Snapshot>();
  snap->config_file = config_file;
  if ((*root)["datacenters"]) snap->datacenters = read_datacenters_section((*root)["datacenters"], ctx);
  if ((*root)["policy"]) {
    if (auto section = open_section((*root)["policy"], "policy", ctx)) {
      snap->policy = read_policy(section->node, section->file, snap->datacenters, diags);
    }
  }
  std::vector<std::string_view> services;
  for (const Service& service : snap->policy.services) services.push_back(service.name);
  if ((*root)["identity"]) {
    snap->identity = read_identity((*root)["identity"], "identity", ctx, services);
  } else {
    // By default, every configured source in the usual order.
    snap->identity.order.clear();
    if ((*root)["tokens"]) snap->identity.order.push_back(CountrySource::kToken);
    if ((*root)["tokens"] && (*root)["directory"]) {
      snap->identity.order.push_back(CountrySource::kTokenAccount);
    }
    if ((*root)["directory"]) snap->identity.order.push_back(CountrySource::kDirectory);
    if ((*root)["geoip"]) snap->identity.order.push_back(CountrySource::kGeoip);
  }
  if ((*root)["requests"]) {
    snap->requests = read_target_options((*root)["requests"], "requests", ctx);
    snap->body_limits = read_body_limits((*root)["requests"], "requests", ctx, services);
  }
  if ((*root)["geoip"]) snap->geoip = open_geoip((*root)["geoip"], ctx);
  if ((*root)["directory"]) open_directory((*root)["directory"], ctx, *snap);
  if ((*root)["tokens"]) {
    TokenConfig tokens = read_token_config((*root)["tokens"], "tokens", ctx);
    if (!diags.has_errors()) snap->tokens = TokenVerifier::load(tokens, diags);
  }
  if ((*root)["server"]) snap->server = (*root)["server"];
  if (read_server) read_server(snap->server, ctx);
  for (CountrySource s : snap->identity.order) {
    if (s == CountrySource::kGeoip && !(*root)["geoip"]) {
      ctx.error((*root)["identity"], "identity.order", "geoip is named but no geoip is configured");
    }
    if ((s == CountrySource::kToken || s == CountrySource::kTokenAccount) && !(*root)["tokens"]) {
      ctx.error((*root)["identity"], "identity.order", "a token source is named but no tokens are configured");
    }
    if ((s == CountrySource::kDirectory || s == CountrySource::kTokenAccount) && !(*root)["directory"]) {
      ctx.error((*root)["identity"], "identity.order",
                "directory is named but no directory is configured");
    }
  }
  if (const YAML::Node identity = (*root)["identity"];
      identity.IsMap() && identity["directory_unavailable"]) {
    const YAML::Node fallback = identity["directory_unavailable"];
    const IdentityConfig& id = snap->identity;
    bool geoip = id.directory_unavailable == DirectoryFallback::kGeoip;
    for (DirectoryFallback f : id.directory_unavailable_by_service) geoip |= f == DirectoryFallback::kGeoip;
    if (geoip && !(*root)["geoip"]) {
      ctx.error(fallback, "identity.directory_unavailable", "geoip is named but no geoip is configured");
    }
    if (!snap->redis_directory) {
      ctx.warning(fallback, "identity.directory_unavailable",
                  "has no effect: only the Redis directory can be unavailable");
    }
  }
  // Cross-rule validation runs even after errors above (it skips the rules
  // that did not read), so one run of `check` lists every problem.
  snap->classifier = ServiceClassifier(snap->policy, diags);
  snap->table = DecisionTable::compile(snap->policy, snap->datacenters, diags);
  if (diags.has_errors()) return nullptr;
  return snap;
}

}  // namespace regiongate
