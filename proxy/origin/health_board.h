#pragma once
// The health of every origin endpoint, shared by all workers and the health
// checker: a board of atomics keyed by data centre and endpoint (not by
// index into one snapshot, so a reload keeps what is known). Workers read
// it on every request without a lock; the checker and the workers' passive
// reports write it.
//
// An endpoint is up until `fall` failures in a row (probes or requests)
// take it down; only the checker's probes bring it back (`rise` successes
// in a row), never the first request after a failure.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "maps/datacenter.h"

namespace regiongate {

struct EndpointHealth {
  std::atomic<bool> up{true};
  std::atomic<std::uint32_t> failures{0};   // in a row (probes and requests)
  std::atomic<std::uint32_t> successes{0};  // probes in a row
  std::atomic<std::uint64_t> probes_ok{0}, probes_failed{0}, request_failures{0};
  std::atomic<std::uint32_t> rtt_us{0};  // the last good probe's round trip
  // The moving average of good probes' round trips, µs; 0 until the first.
  // Written by the checker's thread only.
  std::atomic<std::uint32_t> rtt_ewma_us{0};
};

class HealthBoard {
 public:
  HealthBoard(int rise, int fall) : rise_(rise), fall_(fall) {}
  // The entry of `endpoint` of data centre `dc`, created on first use. Takes
  // a lock: call it when a snapshot is published, not per request.
  EndpointHealth& entry(const std::string& dc, const OriginEndpoint& endpoint);
  // A probe's or a request's outcome: counts it and moves the endpoint down
  // (fall failures in a row) or, for probes, up (rise successes in a row).
  void probe_result(EndpointHealth& e, bool ok, std::uint32_t rtt_us);
  void request_failed(EndpointHealth& e);
  void request_succeeded(EndpointHealth& e);

 private:
  const int rise_, fall_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<EndpointHealth>> entries_;
};

// One snapshot's data centres and endpoints, as entries of the board: what a
// worker reads per request. Built when the snapshot is published.
class HealthView {
 public:
  HealthView() = default;
  HealthView(HealthBoard& board, const DataCenterMap& datacenters);
  bool enabled() const { return !by_dc_.empty(); }
  // Data centres with at least one endpoint up (all of them when disabled).
  DataCenterMask healthy() const;
  // Writes, for each data centre i of the snapshot, out[i] = the smallest
  // round-trip average (µs) of its endpoints that are up, 0 when none of
  // them is up and measured (a data centre is as near as its best
  // endpoint). Writes nothing when disabled. Lock-free.
  void round_trips(std::uint32_t* out) const;
  bool endpoint_up(DataCenterIndex dc, std::size_t endpoint) const;
  EndpointHealth* endpoint(DataCenterIndex dc, std::size_t endpoint) const;

 private:
  std::vector<std::vector<EndpointHealth*>> by_dc_;
};

}  // namespace regiongate
