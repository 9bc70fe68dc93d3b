#pragma once
// Real redis-server processes for the Redis directory's tests, on loopback:
// a standalone server, or a node of a 3-node Redis Cluster (RedisTestCluster).
//
// Ports: redis-server cannot listen on port 0 and report the port it got,
// so each server is started on a port from choose_unassigned_port() (outside
// the kernel's ephemeral range, never probed by bind-and-close) and is
// confirmed by PID to hold it (tests/integration/ports.h); when it could not
// bind (it exits), another port is tried, up to a deadline. A cluster node
// gets its bus port (cluster-port) the same way.
//
// Every process is stopped by PID; its exit status is checked by the test.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/background_process.h"
#include "tests/integration/run_process.h"
#include "tests/integration/wait_until.h"

namespace regiongate::testing {

class RedisTestServer {
 public:
  enum class Listen { kTcp, kUnixSocket };
  // kUnixSocket: a standalone server on a socket in its own directory (no
  // TCP port at all); authority() is then "unix:/path".
  explicit RedisTestServer(bool cluster_node = false, Listen listen = Listen::kTcp);
  ~RedisTestServer();  // SIGKILL if still running, and the data directory removed

  bool ok() const { return process_ != nullptr; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::string authority() const {
    return socket_.empty() ? "127.0.0.1:" + std::to_string(port_) : "unix:" + socket_;
  }

  // redis-cli against this server; the result's exit code and output.
  ProcessResult cli(const std::vector<std::string>& args, double timeout_seconds = 20) const;
  // An INFO field ("cluster_state" from `INFO`-like output, or any "key:value" line).
  std::string info_field(const std::vector<std::string>& command, const std::string& key) const;
  // `calls` of one command in INFO commandstats (0 when never called).
  long long command_calls(const std::string& command) const;

  // Stops it with `sig` (SIGTERM: a clean exit; SIGKILL: a crash) and
  // returns its exit code (-1 when signalled).
  int stop(int sig);
  // Starts it again on the same port; false when that port is no longer free.
  bool restart();

 private:
  bool start(std::chrono::steady_clock::time_point deadline);

  bool cluster_node_;
  std::string dir_;
  std::string socket_;  // kUnixSocket: its path
  int port_ = 0;
  int bus_port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
  std::string error_;
};

// Three cluster nodes, 0 replicas, every slot assigned (redis-cli --cluster
// create), cluster_state:ok on all three before ok() is true.
class RedisTestCluster {
 public:
  RedisTestCluster();
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  RedisTestServer& node(std::size_t i) { return *nodes_[i]; }
  std::size_t size() const { return nodes_.size(); }
  // The node serving `slot` now (by CLUSTER SLOTS of node 0); -1 when none.
  int node_of_slot(int slot) const;
  // The slot of `key` as the cluster computes it (CLUSTER KEYSLOT).
  int keyslot(const std::string& key) const;
  // node(i)'s cluster node id.
  std::string node_id(std::size_t i) const;

 private:
  std::vector<std::unique_ptr<RedisTestServer>> nodes_;
  std::string error_;
};


}  // namespace regiongate::testing
