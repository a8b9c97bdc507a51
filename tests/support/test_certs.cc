#include "tests/support/test_certs.h"

#include <stdexcept>

#include "tests/support/fixtures.h"
#include "tests/support/process.h"

namespace terra::testing {
namespace {

constexpr char kOpenSsl[] = "/usr/bin/openssl";
constexpr char kValidDays[] = "2";

}  // namespace

TestCa::TestCa(std::string directory)
    : directory_(std::move(directory)),
      ca_file_(directory_ + "/ca.pem"),
      ca_key_(directory_ + "/ca.key") {
  Run({kOpenSsl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       ca_key_, "-out", ca_file_, "-days", kValidDays, "-subj",
       "/CN=terra-sync test CA", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

ServerCertificate TestCa::Issue(const std::string& name,
                                const std::string& subject_alt_name) {
  ServerCertificate certificate{directory_ + "/" + name + ".pem",
                                directory_ + "/" + name + ".key"};
  std::string request = directory_ + "/" + name + ".csr";
  std::string extensions = directory_ + "/" + name + ".ext";
  WriteFile(extensions,
            "subjectAltName=" + subject_alt_name +
                "\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");

  Run({kOpenSsl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
       certificate.key_file, "-out", request, "-subj", "/CN=" + name});
  Run({kOpenSsl, "x509", "-req", "-in", request, "-CA", ca_file_, "-CAkey",
       ca_key_, "-CAcreateserial", "-out", certificate.cert_file, "-days",
       kValidDays, "-extfile", extensions});
  return certificate;
}

void TestCa::Run(const std::vector<std::string>& args) {
  CommandResult result = RunCommand(args, directory_);
  if (result.exit_code != 0) {
    throw std::runtime_error("openssl " + args[1] + " failed: " + result.err);
  }
}

}  // namespace terra::testing
