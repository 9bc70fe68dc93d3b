// `regiongate audit verify FILE...`: checks an audit log's hash chain.

#include <iostream>

#include "proxy/app/commands.h"
#include "proxy/observe/audit_chain.h"

namespace regiongate {

int run_audit_verify(const AuditVerifyOptions& options) {
  ChainCheck check = verify_chain(options.files);
  (check.ok ? std::cout : std::cerr) << (check.ok ? "" : "audit verify: ") << check.message << '\n';
  return check.ok ? 0 : 1;
}

}  // namespace regiongate
