// A certificate authority and server certificates made at test time with the
// `openssl` command, for the fake Terra API.

#ifndef TERRA_TESTS_SUPPORT_TEST_CERTS_H_
#define TERRA_TESTS_SUPPORT_TEST_CERTS_H_

#include <string>
#include <vector>

namespace terra::testing {

// PEM files of one server certificate and its key.
struct ServerCertificate {
  std::string cert_file;
  std::string key_file;
};

// A fresh CA in `directory`, which must exist.
class TestCa {
 public:
  // Creates the CA key and self-signed certificate. Throws
  // std::runtime_error if `openssl` fails.
  explicit TestCa(std::string directory);

  // The CA certificate, to pass to the client as its CA file.
  const std::string& ca_file() const { return ca_file_; }

  // Issues a certificate whose subjectAltName is `subject_alt_name`, for
  // example "IP:127.0.0.1" or "DNS:wrong.example". Files are named after
  // `name`. Throws std::runtime_error if `openssl` fails.
  ServerCertificate Issue(const std::string& name,
                          const std::string& subject_alt_name);

 private:
  void Run(const std::vector<std::string>& args);

  std::string directory_;
  std::string ca_file_;
  std::string ca_key_;
};

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_TEST_CERTS_H_
