// AdminListener: the operator's port (/healthz, /readyz, /config, /metrics), served on the control thread.
// It reads worker state only by asking each worker's thread for a copy; it never touches the data path.
#pragma once

#include <boost/asio.hpp>

#include <functional>
#include <string>

namespace tollway::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class AdminListener {
 public:
  struct Response {
    int status = 200;
    std::string content_type;
    std::string body;
  };
  // Answers one GET path; runs on the control thread.
  using Handler = std::function<asio::awaitable<Response>(std::string_view path)>;

  AdminListener(asio::io_context& context, const tcp::endpoint& endpoint, Handler handler);
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  void stop();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);

  asio::io_context& context_;
  tcp::acceptor acceptor_;
  Handler handler_;
};

}  // namespace tollway::gateway
