#include "tests/proxy/directory/redis_test_server.h"

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "tests/integration/ports.h"

namespace regiongate::testing {
namespace {

constexpr const char* kRedisServer = "/usr/bin/redis-server";
constexpr const char* kRedisCli = "/usr/bin/redis-cli";
constexpr auto kStartDeadline = std::chrono::seconds(20);

}  // namespace

RedisTestServer::RedisTestServer(bool cluster_node, Listen listen) : cluster_node_(cluster_node) {
  char tmpl[] = "/tmp/regiongate-redis-XXXXXX";
  if (!mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  if (listen == Listen::kUnixSocket) socket_ = dir_ + "/redis.sock";
  start(std::chrono::steady_clock::now() + kStartDeadline);
}

RedisTestServer::~RedisTestServer() {
  process_.reset();  // SIGKILL by PID and reaped
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool RedisTestServer::start(std::chrono::steady_clock::time_point deadline) {
  if (!socket_.empty()) {
    std::error_code ec;
    std::filesystem::remove(socket_, ec);  // a killed server leaves it behind
    process_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        kRedisServer, "--port", "0", "--unixsocket", socket_, "--unixsocketperm", "700", "--save",
        "", "--appendonly", "no", "--dir", dir_, "--protected-mode", "no", "--daemonize", "no"});
    const pid_t pid = process_->pid();
    if (wait_until([&] { return cli({"PING"}, 2).out == "PONG\n"; },
                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()),
                   std::chrono::milliseconds(20)) &&
        kill(pid, 0) == 0) {
      return true;
    }
    error_ = "redis-server did not answer on " + socket_ + ": " + process_->output();
    process_.reset();
    return false;
  }
  const bool fixed_port = port_ != 0;  // a restart keeps its port
  while (std::chrono::steady_clock::now() < deadline) {
    if (!fixed_port) port_ = choose_unassigned_port();
    std::vector<std::string> argv = {kRedisServer, "--port", std::to_string(port_), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                     dir_, "--protected-mode", "no", "--daemonize", "no"};
    if (cluster_node_) {
      if (!fixed_port) bus_port_ = choose_unassigned_port();
      for (const char* a : {"--cluster-enabled", "yes", "--cluster-config-file"}) argv.push_back(a);
      argv.push_back(dir_ + "/nodes.conf");
      argv.push_back("--cluster-port");
      argv.push_back(std::to_string(bus_port_));
      // Lets the other nodes serve their slots while one is down.
      for (const char* a : {"--cluster-require-full-coverage", "no", "--cluster-node-timeout", "3000"}) {
        argv.push_back(a);
      }
    }
    auto process = std::make_unique<BackgroundProcess>(argv);
    // The port is ours only when this very process holds it.
    if (wait_for_socket(process->pid(), SocketKind::kTcpListening, "127.0.0.1", port_,
                        std::chrono::seconds(10)) == port_) {
      process_ = std::move(process);
      if (cli({"PING"}).out == "PONG\n") return true;
      error_ = "redis-server on port " + std::to_string(port_) + " does not answer PING";
      process_.reset();
      return false;
    }
    error_ = "redis-server did not listen on port " + std::to_string(port_) + ": " +
             process->output();
    if (fixed_port) return false;
  }
  return false;
}

int RedisTestServer::stop(int sig) {
  if (!process_) return -1;
  int code = process_->stop(sig);
  process_.reset();
  return code;
}

bool RedisTestServer::restart() {
  if (process_) return false;
  return start(std::chrono::steady_clock::now() + kStartDeadline);
}

ProcessResult RedisTestServer::cli(const std::vector<std::string>& args,
                                   double timeout_seconds) const {
  std::vector<std::string> argv =
      socket_.empty() ? std::vector<std::string>{kRedisCli, "-h", "127.0.0.1", "-p", std::to_string(port_)}
                      : std::vector<std::string>{kRedisCli, "-s", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout_seconds);
}

std::string RedisTestServer::info_field(const std::vector<std::string>& command,
                                        const std::string& key) const {
  std::istringstream in(cli(command).out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  }
  return {};
}

long long RedisTestServer::command_calls(const std::string& command) const {
  // "cmdstat_get:calls=3,usec=..."
  const std::string v = info_field({"INFO", "commandstats"}, "cmdstat_" + command);
  if (v.rfind("calls=", 0) != 0) return 0;
  return std::stoll(v.substr(6));
}

RedisTestCluster::RedisTestCluster() {
  std::vector<std::string> create = {kRedisCli, "--cluster", "create"};
  for (int i = 0; i < 3; ++i) {
    nodes_.push_back(std::make_unique<RedisTestServer>(true));
    if (!nodes_.back()->ok()) {
      error_ = nodes_.back()->error();
      return;
    }
    create.push_back(nodes_.back()->authority());
  }
  for (const char* a : {"--cluster-replicas", "0", "--cluster-yes"}) create.push_back(a);
  ProcessResult r = run_process(create, 60);
  if (r.exit_code != 0) {
    error_ = "redis-cli --cluster create: exit " + std::to_string(r.exit_code) + ": " + r.out + r.err;
    return;
  }
  bool all_ok = wait_until([&] {
    for (auto& n : nodes_) {
      if (n->info_field({"CLUSTER", "INFO"}, "cluster_state") != "ok") return false;
    }
    // Every node agrees on where every slot is (node 0's view is used by the tests).
    for (auto& n : nodes_) {
      if (n->info_field({"CLUSTER", "INFO"}, "cluster_slots_ok") != "16384") return false;
    }
    return true;
  }, kStartDeadline);
  if (!all_ok) error_ = "the cluster did not reach cluster_state:ok";
}

int RedisTestCluster::node_of_slot(int slot) const {
  // --csv is not for CLUSTER SLOTS; the plain output lists, per range:
  // first, last, ip, port, id (one value a line).
  std::istringstream in(nodes_[0]->cli({"CLUSTER", "SLOTS"}).out);
  std::vector<std::string> v;
  for (std::string line; std::getline(in, line);) v.push_back(line);
  for (std::size_t i = 0; i + 3 < v.size(); ++i) {
    // A range starts with two integers followed by "127.0.0.1".
    if (v[i + 2] != "127.0.0.1") continue;
    int first = std::atoi(v[i].c_str()), last = std::atoi(v[i + 1].c_str());
    int port = std::atoi(v[i + 3].c_str());
    if (slot < first || slot > last) continue;
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n]->port() == port) return static_cast<int>(n);
    }
  }
  return -1;
}

int RedisTestCluster::keyslot(const std::string& key) const {
  return std::atoi(nodes_[0]->cli({"CLUSTER", "KEYSLOT", key}).out.c_str());
}

std::string RedisTestCluster::node_id(std::size_t i) const {
  std::string out = nodes_[i]->cli({"CLUSTER", "MYID"}).out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace regiongate::testing
