#pragma once
// One request's access-log line, as plain facts: the client side fills it
// when a request ends, observe/ formats it (access_log_line.h). Views into
// the request and the snapshot, valid for the call that carries it.

#include <cstdint>
#include <string>
#include <string_view>

#include "maps/ip_network.h"
#include "proxy/config/server_config.h"

namespace regiongate {

// Two kinds of text: what the client sent (method, path, account) is
// escaped into the line, whatever its bytes; the rest is the gateway's own
// text, JSON-plain by construction (checked names: services, rules and data
// centres are [a-z0-9_-]; ISO codes; formatted addresses and times; the
// fixed reason, source and outcome codes), and is copied as it is.
struct RequestRecord {
  std::string_view method;
  std::string_view path;            // the canonical target (the raw one when it had none)
  std::string_view account;         // the account id the request named; empty: none
  std::string_view client;          // the address the decision used
  std::string_view country;         // ISO code; empty: unknown (null in the line)
  std::string_view country_source;  // "directory", "geoip", ...
  std::string_view service;         // empty: none (null)
  std::string_view rule;            // empty: none (null)
  std::string_view datacenter;      // empty: none (null)
  std::string_view datacenter_country;  // its ISO code; empty: none
  const IpAddress* client_address = nullptr;  // for the audit log's truncation
  std::uint64_t snapshot = 0;       // the version of the snapshot it was decided on
  int status = 0;                   // sent to the client; 0 when nothing was
  std::string_view reason;          // the reason code the client was given
  std::string_view outcome;         // "complete", "reset", "connection-closed"
  std::uint64_t bytes_in = 0;       // request body bytes received
  std::uint64_t bytes_out = 0;      // response body bytes sent
  std::uint64_t duration_us = 0;
};

// Appends one JSON line (with its newline) for `record` at `time` (RFC 3339),
// keeping of the path and the account what `settings` says: "path" is the
// whole target, the target without its query, or null; "account" is left
// out, "hmac-sha256:" and 32 hex digits of HMAC-SHA256(key, id) (the same
// id always gives the same text, and without the key it cannot be
// reversed by trying ids), or the id itself; null when the request named none.
// Returns the line's decision fields (`,"country":...,"reason":...`)
// as written into `out`, valid until `out` changes: an audit record of the
// same request copies them instead of formatting them again.
std::string_view append_access_log_line(std::string& out, std::string_view time,
                                        const RequestRecord& record,
                                        const AccessLogSettings& settings);

// Whether `record` goes in the audit log: a refusal (the gateway answered
// 4xx/5xx itself), data served outside the account's own country, or
// anything with Records::kAll.
bool audit_wanted(const RequestRecord& record, const AuditLogSettings& settings);
// Whether a request of an account of `account_country` served at a data
// centre in `datacenter_country` goes in the audit log (ISO codes): the
// part of audit_wanted() that a required audit log checks before it lets a
// request be forwarded.
bool audited_when_served(const AuditLogSettings& settings, std::string_view account_country,
                         std::string_view datacenter_country);
// Appends one audit record ("{...}\n"; the log's writer seals the batch it is in).
// `decision`: what append_access_log_line() returned for the same record,
// when the access log is on too (the same keys and values in both logs);
// empty: they are formatted here.
void append_audit_record(std::string& out, std::string_view time, const RequestRecord& record,
                         const AuditLogSettings& settings, std::string_view decision = {});

// "hmac-sha256:" + 32 hex digits (128 bits) of HMAC-SHA256(key, account).
std::string hashed_account(std::string_view key, std::string_view account);

}  // namespace regiongate
