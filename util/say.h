#pragma once
// One line on stderr: "regiongate: " and the pieces, in one write. The main
// thread, the workers and the log writers print while the others run, and
// a line written piece by piece (std::cerr << a << b) can get another
// thread's line in between. Seen: a reload's line split by a worker's Redis
// error, and a test waiting for the reload's line failed.

#include <cstdio>
#include <string>
#include <string_view>

namespace regiongate {

template <typename... Pieces>
void say(const Pieces&... pieces) {
  std::string line = "regiongate: ";
  (line.append(std::string_view(pieces)), ...);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace regiongate
