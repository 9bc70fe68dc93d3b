#include "tests/integration/test_certs.h"

#include <fstream>
#include <stdexcept>

#include "tests/integration/run_process.h"

namespace regiongate::testing {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv, 60);
  if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
}

void make_ca(const std::filesystem::path& dir, const std::string& name, std::string* cert,
             std::string* key) {
  *cert = (dir / (name + ".pem")).string();
  *key = (dir / (name + ".key")).string();
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", *key, "-out", *cert, "-days", "2", "-subj", "/CN=" + name,
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign"});
}

}  // namespace

TestCertificates::TestCertificates(const std::filesystem::path& dir) : dir_(dir) {
  std::filesystem::create_directories(dir_);
  make_ca(dir_, "test-ca", &ca_cert_, &ca_key_);
  std::string other_key;
  make_ca(dir_, "other-ca", &other_ca_cert_, &other_key);
}

TestCertificate TestCertificates::issue(const std::string& name,
                                        const std::vector<std::string>& sans) {
  TestCertificate out{(dir_ / (name + ".pem")).string(), (dir_ / (name + ".key")).string()};
  std::string csr = (dir_ / (name + ".csr")).string();
  std::string ext = (dir_ / (name + ".ext")).string();
  std::string san;
  for (const std::string& s : sans) {
    san += (san.empty() ? "" : ",") + (s.rfind("IP:", 0) == 0 ? s : "DNS:" + s);
  }
  std::ofstream(ext) << "subjectAltName=" << san << "\nextendedKeyUsage=serverAuth\n";
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           out.key, "-out", csr, "-subj", "/CN=" + name});
  openssl({"x509", "-req", "-in", csr, "-CA", ca_cert_, "-CAkey", ca_key_, "-CAcreateserial",
           "-out", out.cert, "-days", "2", "-extfile", ext});
  return out;
}

}  // namespace regiongate::testing
