#pragma once
// Names the calling thread as top, ps -L and /proc/PID/task/*/comm show it
// ("rg-worker-0", "rg-log-access", ...): an operator, or bench/log_cost.sh,
// can tell which of the gateway's threads spends what. At most 15 bytes.

#include <pthread.h>

#include <string>

namespace regiongate {

inline void name_this_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace regiongate
