#pragma once
// Certificates made at test time with the openssl command: a test CA and
// leaf certificates it signs, plus an unrelated CA for negative tests.

#include <filesystem>
#include <string>
#include <vector>

namespace regiongate::testing {

struct TestCertificate {
  std::string cert;  // PEM file paths
  std::string key;
};

class TestCertificates {
 public:
  explicit TestCertificates(const std::filesystem::path& dir);
  // A leaf for these DNS names (and IP addresses, "IP:127.0.0.1"), signed by the CA.
  TestCertificate issue(const std::string& name, const std::vector<std::string>& sans);
  const std::string& ca() const { return ca_cert_; }
  const std::string& other_ca() const { return other_ca_cert_; }

 private:
  std::filesystem::path dir_;
  std::string ca_cert_, ca_key_, other_ca_cert_;
};

}  // namespace regiongate::testing
