// Formatting one request's access-log line and audit record
// (observe/request_record.h), on the worker's thread for every request
// that is logged: what a line costs before any write.

#include <benchmark/benchmark.h>

#include <string>

#include "proxy/observe/audit_chain.h"
#include "proxy/observe/request_record.h"

namespace regiongate {
namespace {

RequestRecord typical(const IpAddress& client) {
  RequestRecord r;
  r.method = "GET";
  r.path = "/cloud/photos/2014/12/IMG_0001.jpg?size=large&v=3";
  r.account = "in-asha";
  r.client = "203.0.113.42";
  r.country = "IN";
  r.country_source = "directory";
  r.service = "cloud";
  r.rule = "india-cloud-sg-us";
  r.datacenter = "singapore";
  r.datacenter_country = "SG";
  r.client_address = &client;
  r.snapshot = 3;
  r.status = 200;
  r.reason = "allowed";
  r.outcome = "complete";
  r.bytes_in = 0;
  r.bytes_out = 18234;
  r.duration_us = 1834;
  return r;
}

void BM_AccessLogLine(benchmark::State& state) {
  const IpAddress client = *IpAddress::parse("203.0.113.42");
  const RequestRecord r = typical(client);
  const AccessLogSettings settings;
  std::string out;
  out.reserve(64 * 1024);
  for (auto _ : state) {
    if (out.size() > 60 * 1024) out.clear();
    append_access_log_line(out, "2015-01-15T00:00:00Z", r, settings);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AccessLogLine);

void BM_AuditRecord(benchmark::State& state) {
  const IpAddress client = *IpAddress::parse("203.0.113.42");
  const RequestRecord r = typical(client);
  const AuditLogSettings settings;
  std::string out;
  out.reserve(64 * 1024);
  for (auto _ : state) {
    if (out.size() > 60 * 1024) out.clear();
    append_audit_record(out, "2015-01-15T00:00:00Z", r, settings);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AuditRecord);

// Both, as a worker writes them with both logs on: the audit record copies
// the line's decision fields.
void BM_AccessLineAndAuditRecord(benchmark::State& state) {
  const IpAddress client = *IpAddress::parse("203.0.113.42");
  const RequestRecord r = typical(client);
  const AccessLogSettings access;
  const AuditLogSettings audit;
  std::string lines, records;
  lines.reserve(64 * 1024);
  records.reserve(64 * 1024);
  for (auto _ : state) {
    if (lines.size() > 60 * 1024) lines.clear();
    if (records.size() > 60 * 1024) records.clear();
    const std::string_view decision = append_access_log_line(lines, "2015-01-15T00:00:00Z", r, access);
    append_audit_record(records, "2015-01-15T00:00:00Z", r, audit, decision);
    benchmark::DoNotOptimize(lines.data());
    benchmark::DoNotOptimize(records.data());
  }
}
BENCHMARK(BM_AccessLineAndAuditRecord);

// Sealing the audit log's records into its hash chain, on the log's
// writer thread: one SHA-256 over a batch of 100 records and the seal
// before it, per record (with the copy of the batch each time).
void BM_AuditChainLink(benchmark::State& state) {
  const IpAddress client = *IpAddress::parse("203.0.113.42");
  const RequestRecord r = typical(client);
  std::string records;
  for (int i = 0; i < 100; ++i) append_audit_record(records, "2015-01-15T00:00:00Z", r, AuditLogSettings{});
  AuditChain chain;
  std::string batch;
  for (auto _ : state) {
    batch = records;
    chain.link(batch);
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_AuditChainLink);

}  // namespace
}  // namespace regiongate
