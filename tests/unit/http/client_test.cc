// http::Client against a real server on 127.0.0.1 (an ephemeral port) run by the test on its own thread:
// keep-alive reuse, a server that closes after each answer (announced or not), chunked, close-delimited and
// interim responses, limits, a malformed body, a refused connection and a server that never answers.
#include "http/client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <functional>
#include <mutex>
#include <thread>

#include "../loopback_collector.h"

namespace tollway::http {
namespace {

// One connection at a time: reads each request (head and Content-Length body), records it and writes what
// `answer` returns; an empty answer is never sent (a server that went quiet). Closes after an answer when
// `close` says so, else when the client closes.
class TestServer {
 public:
  struct Answer {
    std::string bytes;
    bool close = false;
  };
  explicit TestServer(std::function<Answer(const std::string& request)> answer) : answer_(std::move(answer)) {
    listener_ = listen_on_loopback(port_);
    thread_ = std::thread([this] { run(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  // Waits up to 50 ms for fd to be readable.
  static bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 50) > 0;
  }
  void run() {
    while (!stop_) {
      if (!readable(listener_)) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      serve(fd);
      ::close(fd);
    }
  }
  void serve(int fd) {
    std::string in;
    while (!stop_) {
      const auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t length = 0;
        if (const auto at = in.find("Content-Length: "); at != std::string::npos && at < head_end)
          length = std::stoul(in.substr(at + 16));
        if (in.size() >= head_end + 4 + length) {
          const std::string request = in.substr(0, head_end + 4 + length);
          in.erase(0, request.size());
          {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
          }
          const Answer answer = answer_(request);
          if (!answer.bytes.empty()) ::send(fd, answer.bytes.data(), answer.bytes.size(), MSG_NOSIGNAL);
          if (answer.close) return;
          continue;
        }
      }
      if (!readable(fd)) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

  std::function<Answer(const std::string&)> answer_;
  uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

class ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> client_for(uint16_t port, ClientOptions options = {}) {
    UpstreamEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = port;
    return std::make_unique<Client>(io_.get_executor(), endpoint, options);
  }
  ClientResponse run(Client& client, std::string_view method = "GET", std::string_view target = "/",
                     const HeaderPairs& headers = {}, std::string_view body = {}) {
    ClientResponse response;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { response = co_await client.request(method, target, headers, body); },
        asio::detached);
    io_.restart();
    io_.run();
    return response;
  }
  asio::io_context io_;
};

TEST_F(ClientTest, KeepsTheConnectionWhileTheServerDoes) {
  TestServer server([](const std::string&) { return TestServer::Answer{kOk}; });
  auto client = client_for(server.port());
  for (int i = 0; i < 3; ++i) {
    const ClientResponse r = run(*client, "POST", "/v1/x?y=1", {{"Content-Type", "application/json"}}, "{}");
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(r.find("content-length"), "2");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(server.connections(), 1);
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0],
            "POST /v1/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
}

TEST_F(ClientTest, AServerThatClosesAfterEachAnswerCostsAReconnectNotAFailure) {
  TestServer server([](const std::string&) { return TestServer::Answer{kOk, /*close=*/true}; });
  auto client = client_for(server.port());
  for (int i = 0; i < 4; ++i) {
    const ClientResponse r = run(*client);
    ASSERT_TRUE(r.complete) << "request " << i << ": " << r.error;
    EXPECT_EQ(r.body, "ok");
  }
  EXPECT_EQ(server.requests().size(), 4u) << "every request delivered once";
  EXPECT_EQ(client->connections_opened(), 4u);
}

TEST_F(ClientTest, ConnectionCloseIsHonoured) {
  TestServer server([](const std::string&) {
    return TestServer::Answer{"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", true};
  });
  auto client = client_for(server.port());
  EXPECT_EQ(run(*client).status, 204);
  EXPECT_EQ(run(*client).status, 204);
  EXPECT_EQ(client->connections_opened(), 2u);
  auto no_keep_alive = client_for(server.port(), ClientOptions{std::chrono::seconds(5), 1 << 20, false});
  EXPECT_TRUE(run(*no_keep_alive).complete);
  EXPECT_NE(server.requests().back().find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST_F(ClientTest, ChunkedResponseIsDecodedAndTheConnectionKept) {
  TestServer server([](const std::string&) {
    return TestServer::Answer{
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n"};
  });
  auto client = client_for(server.port());
  for (int i = 0; i < 2; ++i) {
    const ClientResponse r = run(*client);
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.body, "hello world");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(ClientTest, CloseDelimitedAndInterimResponses) {
  TestServer server([](const std::string& request) {
    if (request.find("/interim") != std::string::npos)
      return TestServer::Answer{"HTTP/1.1 100 Continue\r\n\r\n" + kOk};
    return TestServer::Answer{"HTTP/1.1 200 OK\r\n\r\nuntil the end", true};
  });
  auto client = client_for(server.port());
  const ClientResponse close_delimited = run(*client);
  ASSERT_TRUE(close_delimited.complete) << close_delimited.error;
  EXPECT_EQ(close_delimited.body, "until the end");
  const ClientResponse interim = run(*client, "GET", "/interim");
  ASSERT_TRUE(interim.complete) << interim.error;
  EXPECT_EQ(interim.status, 200);
  EXPECT_EQ(interim.body, "ok");
  EXPECT_EQ(client->connections_opened(), 2u) << "a close-delimited response ends its connection";
}

TEST_F(ClientTest, BodiesOverTheLimitOrMalformedFail) {
  TestServer server([](const std::string& request) {
    if (request.find("/big") != std::string::npos)
      return TestServer::Answer{"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789a"};
    return TestServer::Answer{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n"};
  });
  auto client = client_for(server.port(), ClientOptions{std::chrono::seconds(5), 10, true});
  const ClientResponse big = run(*client, "GET", "/big");
  EXPECT_FALSE(big.complete);
  EXPECT_EQ(big.status, 200);
  EXPECT_NE(big.error.find("is larger than 10 bytes"), std::string::npos) << big.error;
  const ClientResponse malformed = run(*client, "GET", "/malformed");
  EXPECT_FALSE(malformed.complete);
  EXPECT_NE(malformed.error.find("malformed response body from http://127.0.0.1:"), std::string::npos)
      << malformed.error;
  EXPECT_NE(malformed.error.find("invalid character in chunk size"), std::string::npos) << malformed.error;
  EXPECT_EQ(client->connections_opened(), 2u) << "a failed body never leaves its connection for reuse";
}

TEST_F(ClientTest, RefusedConnection) {
  uint16_t port = 0;
  ::close(listen_on_loopback(port));  // a port nobody listens on
  auto client = client_for(port);
  const ClientResponse r = run(*client);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("cannot connect to http://127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.error;
}

TEST_F(ClientTest, AServerThatNeverAnswersTimesOutWithinTheTimeout) {
  TestServer server([](const std::string&) { return TestServer::Answer{}; });
  auto client = client_for(server.port(), ClientOptions{std::chrono::milliseconds(300), 1 << 20, true});
  const auto start = std::chrono::steady_clock::now();
  const ClientResponse r = run(*client);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timed out after 300 ms"), std::string::npos) << r.error;
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_EQ(server.requests().size(), 1u) << "a timed-out request is not sent again";
}

}  // namespace
}  // namespace tollway::http
