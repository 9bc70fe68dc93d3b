#pragma once
// The subcommands of the regiongate binary. main.cc only parses arguments
// (CLI11) and calls these; each returns the process exit code. (`demo` is
// its own library: proxy/demo/demo.h.)

#include <optional>
#include <string>
#include <vector>

namespace regiongate {

struct CheckOptions {
  std::string config;
  bool coverage = true;
  bool proof = true;
};
// 0 when everything is valid (warnings allowed), 1 otherwise.
int run_check(const CheckOptions& options);

struct ExplainOptions {
  std::string config;
  std::optional<std::string> account, ip, country;
  std::optional<std::string> service, host, path;
  std::optional<std::string> at;        // RFC 3339; default now
  std::vector<std::string> down;        // data centres to treat as down
  // "oregon=20ms": order as server.health.nearest: latency would, with these
  // round trips (data centres not named have no measurement)
  std::vector<std::string> latency;
  // Consents the request's verified token grants, by name (opt-in services)
  std::vector<std::string> consents;
};
// Prints one JSON object; 0 when a decision was explained, 1 on bad config,
// 2 on bad arguments.
int run_explain(const ExplainOptions& options);

struct PlanOptions {
  std::string config;
  std::string from, to;  // RFC 3339
  bool json = false;
};
// Prints the changes between the two instants; 0 when shown, 1 on a bad
// configuration, 2 on bad arguments.
int run_plan(const PlanOptions& options);

struct AuditVerifyOptions {
  std::vector<std::string> files;
};
// 0 when the chain holds, 1 naming the first broken record.
int run_audit_verify(const AuditVerifyOptions& options);

struct AccountsLoadOptions {
  std::string file;   // the account directory CSV (docs/directory.md)
  std::string redis;  // redis://127.0.0.1:6379 or 127.0.0.1:6379; a seed with --cluster
  bool cluster = false;
  std::string key_prefix = "acct:";
  int batch = 1000;  // SETs pipelined per node per round trip
  // AUTH [username] password (the first line of password_file) and SELECT
  // db on each connection, as directory.redis.auth and .db do.
  std::string username, password_file;
  int db = 0;
};
// Loads the file into Redis; 0 when every account was written, 1 on a bad
// file (nothing written) or a Redis error, 2 on bad arguments.
int run_accounts_load(const AccountsLoadOptions& options);

struct ServeOptions {
  std::string config;
  std::optional<std::string> now;  // a pinned clock, RFC 3339
};
// Serves until SIGTERM/SIGINT; 1 on a configuration or listen error.
int run_serve(const ServeOptions& options);

}  // namespace regiongate
