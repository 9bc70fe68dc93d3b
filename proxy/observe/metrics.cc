#include "proxy/observe/metrics.h"

#include <algorithm>
#include <charconv>

namespace regiongate {

void LatencyHistogram::observe(std::uint64_t microseconds) {
  const double seconds = static_cast<double>(microseconds) / 1e6;
  // The first bound at or above it; past the last, only the count (+Inf) has it.
  auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  if (it != kBounds.end()) buckets_[static_cast<std::size_t>(it - kBounds.begin())].add();
  sum_us_.add(microseconds);
  count_.add();
}

Counter& LabelledCounters::at(std::string_view key) {
  if (auto it = index_.find(key); it != index_.end()) return *it->second;
  Counter* counter;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Cell& cell = cells_.emplace_back();
    cell.key = key;
    counter = &cell.counter;
  }
  index_.emplace(std::string(key), counter);
  return *counter;
}

void LabelledCounters::for_each(
    const std::function<void(std::string_view key, std::uint64_t value)>& f) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Cell& cell : cells_) f(cell.key, cell.counter.value());
}

void WorkerMetrics::request_ended(std::string_view country, std::string_view datacenter,
                                  int status, std::string_view denial, bool failed_over,
                                  std::uint64_t duration_us) {
  key_.assign(country.empty() ? std::string_view("unknown") : country);
  key_ += LabelledCounters::kSeparator;
  key_ += datacenter.empty() ? std::string_view("none") : datacenter;
  key_ += LabelledCounters::kSeparator;
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
  key_.append(digits, ec == std::errc() ? static_cast<std::size_t>(end - digits) : 0);
  requests.at(key_).add();
  if (!denial.empty()) denials.at(denial).add();
  if (failed_over) failovers.add();
  duration.observe(duration_us);
}

}  // namespace regiongate
