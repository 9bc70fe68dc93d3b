// `regiongate accounts load FILE --redis URL [--cluster] [--key-prefix P]
// [--batch N]`: loads an account directory file (the same CSV format as the
// file directory, parsed by the same code: maps/directory_line.h) into Redis
// or Redis Cluster, as the Redis directory reads it: key prefix + account id
// → the upper-case country code.
//
// The whole file is checked first (every error as file:line, duplicates
// included) and nothing is written unless it is valid: a half-loaded bad
// file would look like a good one. Then SETs are pipelined, `batch` at a
// time per node (hiredis' blocking API: this is a command, not the data
// path); in a cluster each goes to its slot's master, from CLUSTER SLOTS.

#include <hiredis/hiredis.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <unordered_set>

#include "maps/directory_line.h"
#include "proxy/app/commands.h"
#include "proxy/directory/cluster_replies.h"
#include "proxy/directory/hash_slot.h"
#include "proxy/directory/reply_limits.h"
#include "maps/redis_config.h"

namespace regiongate {
namespace {

constexpr int kMaxReportedErrors = 20;

struct Account {
  std::string_view id;  // into the file's text
  CountryId country;
  int line_no;
};

struct FreeContext {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Connection = std::unique_ptr<redisContext, FreeContext>;
struct FreeReply {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, FreeReply>;

// The accounts of a valid file; nullopt after printing its errors.
std::optional<std::vector<Account>> read_accounts(const std::string& path, const std::string& text) {
  std::vector<Account> accounts;
  std::unordered_set<std::string_view> seen;
  int errors = 0;
  auto report = [&](int line_no, const std::string& message) {
    if (++errors <= kMaxReportedErrors) std::cerr << path << ':' << line_no << ": error: " << message << '\n';
  };
  for_each_directory_line(text, [&](std::string_view line, int line_no) {
    const DirectoryLine parsed = parse_directory_line(line);
    if (parsed.kind == DirectoryLineKind::kSkip) return;
    if (parsed.kind != DirectoryLineKind::kAccount) return report(line_no, directory_line_error(parsed, line));
    if (!seen.insert(parsed.id).second) {
      return report(line_no, "duplicate account id " + quote_for_message(parsed.id));
    }
    accounts.push_back({parsed.id, parsed.country, line_no});
  });
  if (errors > kMaxReportedErrors) std::cerr << path << ": ... and " << errors - kMaxReportedErrors << " more errors\n";
  if (errors > 0) return std::nullopt;
  return accounts;
}

// AUTH and SELECT as the options say, on a new connection.
struct Session {
  std::string username, password;
  int db = 0;
};

bool set_up(redisContext* c, const RedisNodeAddress& node, const Session& session) {
  auto command = [&](const char* what, Reply reply) {
    if (reply && reply->type != REDIS_REPLY_ERROR) return true;
    std::cerr << "regiongate: redis " << node.authority() << ": " << what << " refused"
              << (reply ? std::string(": ") + reply->str : std::string()) << '\n';
    return false;
  };
  if (!session.password.empty()) {
    Reply r(static_cast<redisReply*>(
        session.username.empty()
            ? redisCommand(c, "AUTH %b", session.password.data(), session.password.size())
            : redisCommand(c, "AUTH %b %b", session.username.data(), session.username.size(),
                           session.password.data(), session.password.size())));
    if (!command("AUTH", std::move(r))) return false;
  }
  if (session.db != 0) {
    if (!command("SELECT", Reply(static_cast<redisReply*>(redisCommand(c, "SELECT %d", session.db))))) {
      return false;
    }
  }
  return true;
}

Connection connect_to(const RedisNodeAddress& node, const Session& session) {
  Connection c(node.socket_path.empty()
                   ? redisConnectWithTimeout(node.host.c_str(), node.port, timeval{5, 0})
                   : redisConnectUnixWithTimeout(node.socket_path.c_str(), timeval{5, 0}));
  if (!c || c->err) {
    std::cerr << "regiongate: redis " << node.authority() << ": "
              << (c ? c->errstr : "cannot allocate a connection") << '\n';
    return nullptr;
  }
  bound_reply_sizes(c->reader);
  if (!set_up(c.get(), node, session)) return nullptr;
  return c;
}

// Where each slot's keys go: one node for standalone, the masters of
// CLUSTER SLOTS for a cluster.
class Targets {
 public:
  explicit Targets(Session session) : session_(std::move(session)) {}
  bool open(const RedisNodeAddress& seed, bool cluster) {
    if (!cluster) {
      owner_.assign(1, 0);
      return add(seed);
    }
    Connection c = connect_to(seed, session_);
    if (!c) return false;
    Reply reply(static_cast<redisReply*>(redisCommand(c.get(), "CLUSTER SLOTS")));
    auto ranges = reply ? parse_cluster_slots(*reply, seed) : std::nullopt;
    if (!ranges) {
      std::cerr << "regiongate: redis " << seed.authority() << ": no slot map from CLUSTER SLOTS"
                << (reply && reply->type == REDIS_REPLY_ERROR ? std::string(": ") + reply->str : "") << '\n';
      return false;
    }
    owner_.assign(kClusterSlots, -1);
    for (const SlotRange& r : *ranges) {
      if (!add(r.master)) return false;
      std::fill(owner_.begin() + r.first, owner_.begin() + r.last + 1, index_[r.master.authority()]);
    }
    return true;
  }
  // The node for `key`; -1 for a slot no master serves.
  int node_for(std::string_view key) const {
    return owner_.size() == 1 ? owner_[0] : owner_[static_cast<std::size_t>(key_hash_slot(key))];
  }
  redisContext* connection(int node) { return nodes_[static_cast<std::size_t>(node)].get(); }
  const std::string& name(int node) const { return names_[static_cast<std::size_t>(node)]; }
  std::size_t size() const { return nodes_.size(); }

 private:
  bool add(const RedisNodeAddress& node) {
    if (index_.count(node.authority())) return true;
    Connection c = connect_to(node, session_);
    if (!c) return false;
    index_[node.authority()] = static_cast<int>(nodes_.size());
    names_.push_back(node.authority());
    nodes_.push_back(std::move(c));
    return true;
  }
  Session session_;
  std::vector<int> owner_;
  std::map<std::string, int> index_;
  std::vector<std::string> names_;
  std::vector<Connection> nodes_;
};

// Sends one batch (pipelined per node), then reads every answer. False on
// the first failure, naming the line of the account it was for.
bool load_batch(Targets& targets, const std::string& path, const std::string& prefix,
                std::span<const Account> batch, std::vector<std::vector<const Account*>>& per_node) {
  for (auto& sent : per_node) sent.clear();
  std::string key;
  for (const Account& a : batch) {
    key.assign(prefix).append(a.id);
    const int node = targets.node_for(key);
    if (node < 0) {
      std::cerr << path << ':' << a.line_no << ": error: no cluster node serves the slot of '" << key << "'\n";
      return false;
    }
    const std::string_view code = country_code(a.country);
    redisAppendCommand(targets.connection(node), "SET %b %b", key.data(), key.size(), code.data(), code.size());
    per_node[static_cast<std::size_t>(node)].push_back(&a);
  }
  for (std::size_t node = 0; node < per_node.size(); ++node) {
    for (const Account* a : per_node[node]) {
      void* raw = nullptr;
      redisContext* c = targets.connection(static_cast<int>(node));
      if (redisGetReply(c, &raw) != REDIS_OK) {
        std::cerr << "regiongate: redis " << targets.name(static_cast<int>(node)) << ": " << c->errstr << '\n';
        return false;
      }
      Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR) {
        // MOVED / ASK: the cluster is resharding; load again when it is done.
        std::cerr << path << ':' << a->line_no << ": error: redis " << targets.name(static_cast<int>(node))
                  << ": " << reply->str << '\n';
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int run_accounts_load(const AccountsLoadOptions& options) {
  auto seed = parse_redis_node_or_socket(options.redis);
  if (!seed || (options.cluster && !seed->socket_path.empty())) {
    std::cerr << "regiongate: --redis: an IP address and port like redis://127.0.0.1:6379"
              << (options.cluster ? "" : ", or unix:/path/to/redis.sock") << ", not '"
              << options.redis << "'\n";
    return 2;
  }
  if (options.batch < 1) {
    std::cerr << "regiongate: --batch must be at least 1\n";
    return 2;
  }
  std::ifstream in(options.file, std::ios::binary);
  if (!in) {
    std::cerr << options.file << ": error: cannot open account directory\n";
    return 1;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = std::move(buffer).str();
  auto accounts = read_accounts(options.file, text);
  if (!accounts) return 1;

  Session session;
  session.username = options.username;
  session.db = options.db;
  if (options.cluster && options.db != 0) {
    std::cerr << "regiongate: --db: a Redis Cluster has only db 0\n";
    return 2;
  }
  if (!options.password_file.empty()) {
    std::string error;
    auto password = read_password_file(options.password_file, &error);
    if (!password) {
      std::cerr << "regiongate: --password-file: " << error << '\n';
      return 2;
    }
    session.password = std::move(*password);
  }
  Targets targets(std::move(session));
  if (!targets.open(*seed, options.cluster)) return 1;
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  std::vector<std::vector<const Account*>> per_node(targets.size());
  const std::size_t batch = static_cast<std::size_t>(options.batch);
  for (std::size_t done = 0; done < accounts->size(); done += batch) {
    const std::size_t n = std::min(batch, accounts->size() - done);
    if (!load_batch(targets, options.file, options.key_prefix, std::span(*accounts).subspan(done, n), per_node)) {
      std::cerr << "regiongate: stopped after " << done << " of " << accounts->size() << " accounts\n";
      return 1;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      std::cerr << "loaded " << done + n << " of " << accounts->size() << " accounts\n";
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "loaded " << accounts->size() << " accounts into " << targets.size() << " redis node(s) in "
            << seconds << " s (" << static_cast<long long>(static_cast<double>(accounts->size()) / std::max(seconds, 1e-9))
            << " accounts/s)\n";
  return 0;
}

}  // namespace regiongate
