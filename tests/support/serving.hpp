// serving: a cpp-httplib server of a test's own (plain or TLS) answering on a free port of
// 127.0.0.1, from a thread of its own, from when the object is made until it goes, however the
// test ends.
//
//   httplib::Server server;
//   server.Get("/hello", ...);                  // the routes first
//   marcpipe::testing::serving on{server};
//   fetch(on.url("/hello"));                    // "http://127.0.0.1:PORT/hello"
#pragma once

#include <httplib.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace marcpipe::testing {

class serving {
public:
    explicit serving(httplib::Server& server)
        : server_{server}, port_{server.bind_to_any_port("127.0.0.1")} {
        if (port_ <= 0) throw std::runtime_error("cannot bind a loopback port for a test server");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    serving(serving const&) = delete;
    serving& operator=(serving const&) = delete;
    ~serving() {
        server_.stop();
        thread_.join();
    }

    int port() const noexcept { return port_; }
    // A URL of this server over plain HTTP.
    std::string url(std::string const& path = "") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

private:
    httplib::Server& server_;
    int port_;
    std::thread thread_;
};

}  // namespace marcpipe::testing
