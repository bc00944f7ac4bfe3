// Throwaway certificates for TLS tests, made by the openssl CLI in a fresh temporary directory (removed by
// the destructor): a CA; a server certificate for 127.0.0.1 and localhost signed by it; a client certificate
// (CN=tollway-client) signed by it; a second CA with its own server certificate for 127.0.0.1; a server
// certificate from the first CA naming only elsewhere.test; an unrelated key, that key encrypted, and a file
// with no PEM in it. Never used outside tests.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tollway {

class TestPki {
 public:
  TestPki()
      : dir_(std::filesystem::temp_directory_path() /
             ("tollway-pki-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++))) {
    std::filesystem::create_directories(dir_);
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    const std::string ca_ext =
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
    auto leaf = [&](const std::string& name, const std::string& ca, const std::string& ext) {
      return " && openssl req" + ec + "-keyout " + name + ".key -out " + name + ".csr -subj /CN=" + name +
             " && printf '" + ext + "\\n' > " + name + ".ext && openssl x509 -req -in " + name + ".csr -CA " +
             ca + ".pem -CAkey " + ca + ".key -CAcreateserial -out " + name + ".pem -days 2 -extfile " +
             name + ".ext";
    };
    const std::string script =
        "cd '" + dir_.string() + "' && openssl req -x509" + ec +
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca" + ca_ext + " && openssl req -x509" + ec +
        "-keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca" + ca_ext +
        leaf("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth") +
        leaf("other-server", "other-ca",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth") +
        leaf("elsewhere", "ca", "subjectAltName=DNS:elsewhere.test\\nextendedKeyUsage=serverAuth") +
        leaf("tollway-client", "ca", "extendedKeyUsage=clientAuth") + " && openssl genpkey -algorithm ec" +
        " -pkeyopt ec_paramgen_curve:prime256v1 -out other.key && openssl pkey -in tollway-client.key "
        "-aes-128-cbc" +
        " -passout pass:secret -out encrypted.key && printf 'not a certificate\\n' > garbage.pem";
    if (std::system(("(" + script + ") >/dev/null 2>&1").c_str()) != 0)
      throw std::runtime_error("the openssl CLI failed to make the test certificates: " + script);
  }
  ~TestPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // A file of the set by name: ca.pem, server.pem/.key, tollway-client.pem/.key, other-ca.pem,
  // other-server.pem/.key, elsewhere.pem/.key, other.key, encrypted.key, garbage.pem; or a name that does not
  // exist.
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // Issues NAME.pem / NAME.key (CN=NAME, signed by ca.pem) with the given openssl x509 extension lines, e.g.
  // "subjectAltName=URI:spiffe://example.org/a\nextendedKeyUsage=clientAuth"; returns the certificate's path.
  std::string issue(const std::string& name, const std::string& extensions) const {
    const std::string script = "cd '" + dir_.string() +
                               "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                               name + ".key -out " + name + ".csr -subj /CN=" + name + " && printf '" +
                               extensions + "\\n' > " + name + ".ext && openssl x509 -req -in " + name +
                               ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
                               ".pem -days 2 -extfile " + name + ".ext";
    if (std::system(("(" + script + ") >/dev/null 2>&1").c_str()) != 0)
      throw std::runtime_error("the openssl CLI failed to issue " + name + ": " + script);
    return file(name + ".pem");
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path dir_;
};

}  // namespace tollway
