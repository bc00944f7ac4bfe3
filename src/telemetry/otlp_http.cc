#include "telemetry/otlp_http.h"

#include <sys/stat.h>
#include <zlib.h>

#include <mutex>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "http/client.h"
#include "tls/client_context.h"

namespace tollway::telemetry {
namespace {

// The collector's TLS context, kept between exports: loading the system trust store costs about 20 ms of CPU,
// more than a handshake. Rebuilt when the settings change or a file named in them was replaced or rewritten
// (certificate rotation), so a renewed client certificate is presented from the next export on.
class CollectorTlsContext {
 public:
  std::shared_ptr<boost::asio::ssl::context> get(const config::OtlpConfig& collector, std::string& error) {
    const tls::ClientTlsFiles files{collector.ca_file, collector.client_cert, collector.client_key};
    const std::string stamp = file_stamps(files);
    std::lock_guard lock(mutex_);
    if (context_ && files_.ca_file == files.ca_file && files_.cert_file == files.cert_file &&
        files_.key_file == files.key_file && stamp_ == stamp)
      return context_;
    std::optional<tls::ClientTlsError> failure;
    auto fresh = tls::make_client_context(files, failure);
    if (!fresh) {
      error = failure->message;
      return nullptr;
    }
    context_ = fresh;
    files_ = files;
    stamp_ = stamp;
    return fresh;
  }

 private:
  // Device, inode, size and modification time of each named file: any change means "load again".
  static std::string file_stamps(const tls::ClientTlsFiles& files) {
    std::string out;
    for (const std::string* path : {&files.ca_file, &files.cert_file, &files.key_file}) {
      struct stat st {};
      if (!path->empty() && ::stat(path->c_str(), &st) == 0)
        out += std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
               std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec);
      out += '|';
    }
    return out;
  }

  std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  tls::ClientTlsFiles files_;
  std::string stamp_;
};

CollectorTlsContext& collector_tls_context() {
  static CollectorTlsContext context;
  return context;
}

}  // namespace

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // Level 1: telemetry is compressed on every export; the fastest level keeps most of the gain (JSON is
  // redundant).
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

std::optional<std::string> gzip_decompress(std::string_view gzip, std::size_t max_bytes, std::string& error) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  std::string out;
  char chunk[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gzip.data()));
  z.avail_in = static_cast<uInt>(gzip.size());
  int rc = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&z);
      error = "the gzip body inflates to more than " + std::to_string(max_bytes) + " bytes";
      return std::nullopt;
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another gzip member follows
    } else if (z.avail_in == 0 && z.avail_out != 0) {
      rc = Z_BUF_ERROR;  // the input ended inside a member
      break;
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    error = "the body is not a complete gzip stream (Content-Encoding: gzip)";
    return std::nullopt;
  }
  return out;
}

OtlpClient::OtlpClient(config::OtlpConfig collector)
    : collector_(std::move(collector)), io_(std::make_unique<boost::asio::io_context>()) {
  http::UpstreamEndpoint endpoint;
  endpoint.host = collector_.host;
  endpoint.port = collector_.port;
  endpoint.tls = collector_.tls;
  client_ = std::make_unique<http::Client>(io_->get_executor(), std::move(endpoint),
                                           http::ClientOptions{collector_.timeout, kMaxResponseBody, true});
}

OtlpClient::~OtlpClient() = default;

uint64_t OtlpClient::connections_opened() const {
  return client_->connections_opened();
}

HttpPostResult OtlpClient::post(const std::string& path, std::string_view body) {
  HttpPostResult result;
  if (collector_.tls) {
    // The current TLS context, once per export (rebuilt when a TLS file was renewed on disk): a kept connection
    // made with an older one is closed, so a new client certificate or CA takes effect at once.
    auto context = collector_tls_context().get(collector_, result.error);
    if (!context) return result;
    client_->use_tls_context(std::move(context));
  }
  http::HeaderPairs headers{{"Content-Type", "application/json"}, {"User-Agent", "tollway"}};
  if (collector_.gzip) headers.emplace_back("Content-Encoding", "gzip");
  http::ClientResponse response;
  boost::asio::co_spawn(
      *io_,
      [&]() -> boost::asio::awaitable<void> { response = co_await client_->request("POST", path, headers, body); },
      boost::asio::detached);
  io_->restart();
  io_->run();
  if (response.status == 0) {
    result.error = std::move(response.error);
    return result;
  }
  result.status = response.status;
  result.retry_after = std::string(response.find("retry-after").value_or(""));
  result.body = std::move(response.body);
  return result;
}

}  // namespace tollway::telemetry
