#include "proxy/gateway.h"

#include <unistd.h>

#include <thread>

#include "proxy/net.h"

namespace regiongate {

bool Gateway::start(std::string* error) {
  ServerConfig& config = shared_.server;
  const int workers = config.workers > 0
                          ? config.workers
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::vector<int>> fds(static_cast<std::size_t>(workers));
  auto close_all = [&] {
    for (auto& list : fds) {
      for (int fd : list) close(fd);
    }
  };
  for (ListenerConfig& l : config.listeners) {
    for (auto& list : fds) {
      int fd = listen_tcp(l.host, l.port, true, error);
      if (fd < 0) {
        close_all();
        return false;
      }
      if (l.port == 0) l.port = local_port(fd);
      list.push_back(fd);
    }
  }
  for (auto& list : fds) workers_.push_back(std::make_unique<Worker>(shared_, list));
  for (auto& w : workers_) w->start();
  return true;
}

void Gateway::stop() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  workers_.clear();
}

}  // namespace regiongate
