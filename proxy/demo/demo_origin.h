#pragma once
// The demo's data centres: a tiny HTTP/2 server per data centre endpoint, on
// loopback, answering every request with the data centre's name and what the
// gateway told it (x-regiongate-country). One thread and loop for all of them.
// Only for `regiongate demo`; real origins are the data centres' own.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "maps/datacenter.h"
#include "proxy/net/event_loop.h"

namespace regiongate {

class DemoOrigins {
 public:
  DemoOrigins();
  ~DemoOrigins();
  // Listens on every literal-address cleartext endpoint of every data centre.
  bool start(const DataCenterMap& datacenters, std::string* error);
  void stop();

 private:
  struct Site;
  struct Connection;
  void on_stop();

  EventLoop event_loop_;  // before every watcher: destroyed after them
  struct ev_loop* loop_;
  std::vector<std::unique_ptr<Site>> sites_;
  AsyncWakeup stop_;
  std::thread thread_;
};

}  // namespace regiongate
