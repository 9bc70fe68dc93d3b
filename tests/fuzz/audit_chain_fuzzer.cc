// Fuzzes the audit log's chain (proxy/observe/audit_chain.h): what
// `regiongate audit verify` reads may be anything (a tampered or damaged
// log), and what the writer seals must verify.
//
// Properties, each a trap when broken:
// - any bytes, read as a log (and as two files split anywhere), are verified
//   or refused without a crash, and a gateway can resume on them;
// - records sealed in batches (each line made to start as a record does),
//   one seal over one batch or over several, verify, with their count;
// - changing any one byte of such a log breaks it.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/observe/audit_chain.h"

namespace {

using namespace regiongate;

void check(bool ok) {
  if (!ok) std::abort();
}

const std::string& path(int n) {
  static const std::string paths[2] = {
      "/tmp/audit-chain-fuzz-" + std::to_string(getpid()) + "-a",
      "/tmp/audit-chain-fuzz-" + std::to_string(getpid()) + "-b"};
  static const bool removed_at_exit = [] {
    return std::atexit([] {
             std::remove(paths[0].c_str());
             std::remove(paths[1].c_str());
           }) == 0;
  }();
  (void)removed_at_exit;
  return paths[n];
}

void put(int n, std::string_view bytes) {
  std::ofstream(path(n), std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Anything, as one file and as two.
  put(0, input);
  (void)verify_chain({path(0)});
  AuditChain resumed;
  resumed.resume(path(0));
  std::string more = "{\"time\":\"x\"}\n";
  resumed.link(more);
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  put(0, input.substr(0, cut));
  put(1, input.substr(cut));
  (void)verify_chain({path(0), path(1)});

  // The input's lines as records, in batches ended by a line "--" (the
  // batch and those added before it sealed) or "-+" (added, its seal
  // shared with the batches after it, as in one write of the gateway's).
  AuditChain chain;
  std::string log, batch;
  std::size_t records = 0, in_batch = 0, start = 0;
  auto add = [&] {
    chain.add(batch, in_batch);
    log += batch;
    batch.clear();
    in_batch = 0;
  };
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    if (line == "--" || line == "-+") {
      add();
      if (line == "--") chain.seal(log);
      continue;
    }
    batch.append("{\"time\":").append(line).push_back('\n');
    ++records;
    ++in_batch;
  }
  add();
  chain.seal(log);
  put(0, log);
  const ChainCheck sealed = verify_chain({path(0)});
  check(sealed.ok);
  check(sealed.records == records);

  // One byte changed, wherever.
  if (!log.empty()) {
    const std::size_t at = (size > 1 ? data[1] * 256u + data[size - 1] : 0) % log.size();
    std::string changed = log;
    changed[at] = static_cast<char>(changed[at] ^ (size > 2 ? (data[2] | 1) : 1));
    put(0, changed);
    check(!verify_chain({path(0)}).ok);
  }
  return 0;
}
