// The event loop on its own: timers, the ready queue, spawned coroutines, and real transfers
// against a small in-process HTTP server and against sockets that never answer; then the
// http_client's patience against the same.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <marcpipe/coro/sync_wait.hpp>
#include <marcpipe/coro/task.hpp>
#include <marcpipe/net/event_loop.hpp>
#include <marcpipe/net/http_client.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/serving.hpp"

using namespace marcpipe::net;
using marcpipe::coro::task;
using namespace std::chrono_literals;

namespace {

loop_options with(std::size_t max_in_flight, loop_backend backend = loop_backend::epoll) {
    loop_options o;
    o.max_in_flight = max_in_flight;
    o.backend = backend;
    return o;
}

// A small HTTP server on a loopback port, on its own thread, for the duration of a test.
class local_server {
public:
    local_server() {
        server_.Get("/hello", [](httplib::Request const& req, httplib::Response& res) {
            res.set_header("X-Marcpipe-Test", "  padded  ");
            res.set_header("X-Seen-Accept-Encoding", req.get_header_value("Accept-Encoding"));
            res.set_header("X-Seen-Authorization", req.get_header_value("Authorization"));
            res.set_content("hello", "text/plain");
        });
        server_.Get("/port", [this](httplib::Request const& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mutex_);
            ports_.insert(req.remote_port);
            res.set_content(std::to_string(req.remote_port), "text/plain");
        });
        server_.Get("/big", [](httplib::Request const&, httplib::Response& res) {
            res.set_content(std::string(300'000, 'x'), "text/plain");
        });
        // Answers without end: 64 KiB chunks until the client hangs up.
        server_.Get("/endless", [](httplib::Request const&, httplib::Response& res) {
            res.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink& sink) {
                std::string const chunk(64 * 1024, 'x');
                return sink.is_writable() && sink.write(chunk.data(), chunk.size());
            });
        });
        // Three bytes a second, for a minute.
        server_.Get("/trickle", [](httplib::Request const&, httplib::Response& res) {
            res.set_chunked_content_provider("text/plain", [](std::size_t offset, httplib::DataSink& sink) {
                if (offset >= 180 || !sink.is_writable() || !sink.write("abc", 3)) return false;
                std::this_thread::sleep_for(1s);
                return true;
            });
        });
        server_.Get("/status/503", [](httplib::Request const&, httplib::Response& res) {
            res.status = 503;
            res.set_content("busy", "text/plain");
        });
        server_.set_keep_alive_max_count(1000);
        server_.set_tcp_nodelay(true);
        serving_.emplace(server_);
    }
    std::string url(std::string const& path) const { return serving_->url(path); }
    std::size_t distinct_ports() {
        std::lock_guard<std::mutex> lock(mutex_);
        return ports_.size();
    }

private:
    httplib::Server server_;
    std::mutex mutex_;
    std::set<int> ports_;
    // Declared last: it stops the server before what the handlers use goes.
    std::optional<marcpipe::testing::serving> serving_;
};

// A loopback port the kernel chose, held by a socket of this test for as long as it lives.
class loopback_port {
public:
    // listening: connections are accepted (through the backlog) and never answered; otherwise
    // the port is bound but nothing listens, so the kernel refuses every connection.
    explicit loopback_port(bool listening) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            (listening && ::listen(fd_, 16) != 0) ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("cannot bind a loopback port");
        port_ = ntohs(addr.sin_port);
    }
    loopback_port(loopback_port const&) = delete;
    loopback_port& operator=(loopback_port const&) = delete;
    ~loopback_port() { ::close(fd_); }
    std::string url(std::string const& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

private:
    int fd_ = -1;
    int port_ = 0;
};

// A server that accepts connections and never answers.
struct silent_listener : loopback_port {
    silent_listener() : loopback_port{true} {}
};

// A port where nothing listens. It stays bound while the test runs: a port merely closed could
// be taken by another process before the test connects to it.
struct refusing_port : loopback_port {
    refusing_port() : loopback_port{false} {}
};

template <class T>
T drive(event_loop& loop, task<T> t) {
    return marcpipe::coro::sync_wait(std::move(t), [&] { loop.run_once(100ms); });
}

task<void> count_down(event_loop& loop, long& counter, long n) {
    for (long i = 0; i < n; ++i) {
        co_await loop.schedule();
        ++counter;
    }
}

task<void> record_after(event_loop& loop, std::chrono::milliseconds d, std::vector<int>& order,
                        int id) {
    co_await loop.sleep_for(d);
    order.push_back(id);
}

task<void> throws_later(event_loop& loop) {
    co_await loop.schedule();
    throw std::runtime_error("escaped");
}

task<result> get(event_loop& loop, std::string url, std::vector<header> headers = {}) {
    co_return co_await loop.get(std::move(url), std::move(headers));
}

// One call on a loop of its own with options `o`: its result, and how long it took.
std::pair<result, event_loop::clock::duration> timed_get(loop_options const& o,
                                                         std::string const& url) {
    event_loop loop(o);
    auto begin = event_loop::clock::now();
    result r = drive(loop, get(loop, url));
    return {std::move(r), event_loop::clock::now() - begin};
}

}  // namespace

TEST_CASE("sleeps wake in deadline order", "[net]") {
    event_loop loop;
    std::vector<int> order;
    loop.spawn(record_after(loop, 60ms, order, 3));
    loop.spawn(record_after(loop, 20ms, order, 1));
    loop.spawn(record_after(loop, 40ms, order, 2));
    auto begin = event_loop::clock::now();
    loop.run();
    CHECK(order == std::vector<int>{1, 2, 3});
    CHECK(event_loop::clock::now() - begin >= 60ms);
    CHECK(loop.spawned() == 0);
}

TEST_CASE("a million resumptions from the ready queue do not grow the stack", "[net]") {
    event_loop loop;
    long counter = 0;
    loop.spawn(count_down(loop, counter, 1'000'000));
    loop.run();
    CHECK(counter == 1'000'000);
}

TEST_CASE("an exception escaping a spawned coroutine comes out of the loop", "[net]") {
    event_loop loop;
    loop.spawn(throws_later(loop));
    CHECK_THROWS_WITH(loop.run(), "escaped");
}

TEST_CASE("run_until with nothing pending is a logic error, not a hang", "[net]") {
    event_loop loop;
    CHECK_THROWS_AS(loop.run_until([] { return false; }), std::logic_error);
}

TEST_CASE("plain http to a host that is not loopback is refused before any connection", "[net]") {
    event_loop loop;
    result r = drive(
        loop, get(loop, "http://api-eu.hosted.exlibrisgroup.com/almaws/v1/bibs?apikey=l8xxsecret"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == CURLE_UNSUPPORTED_PROTOCOL);
    CHECK(r.error().message.find("loopback") != std::string::npos);
    CHECK(r.error().message.find("l8xxsecret") == std::string::npos);
}

TEST_CASE("a GET returns status, headers and body", "[net]") {
    local_server server;
    loop_backend backend = GENERATE(loop_backend::epoll, loop_backend::poll);
    event_loop loop(with(4, backend));
    result r = drive(loop, get(loop, server.url("/hello"), {header("Authorization", "apikey k")}));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "hello");
    CHECK(r->header_value("x-marcpipe-test") == std::string_view("padded"));
    CHECK(r->header_value("CONTENT-TYPE") == std::string_view("text/plain"));
    CHECK_FALSE(r->header_value("X-Absent"));
    CHECK(r->header_value("X-Seen-Authorization") == std::string_view("apikey k"));
    // Accept-Encoding lists what curl can decode (at least gzip and deflate).
    auto encodings = r->header_value("X-Seen-Accept-Encoding");
    REQUIRE(encodings);
    CHECK(encodings->find("gzip") != std::string_view::npos);
    CHECK(encodings->find("deflate") != std::string_view::npos);
    CHECK(r->elapsed_seconds > 0);
    result busy = drive(loop, get(loop, server.url("/status/503")));
    REQUIRE(busy);
    CHECK(busy->status == 503);
}

TEST_CASE("sequential requests reuse one kept-alive connection", "[net]") {
    local_server server;
    loop_backend backend = GENERATE(loop_backend::epoll, loop_backend::poll);
    event_loop loop(with(1, backend));
    for (int i = 0; i < 30; ++i) {
        result r = drive(loop, get(loop, server.url("/port")));
        REQUIRE(r);
        REQUIRE(r->status == 200);
    }
    CHECK(server.distinct_ports() == 1);
}

TEST_CASE("many requests at once are capped at max_in_flight and all complete", "[net]") {
    local_server server;
    loop_backend backend = GENERATE(loop_backend::epoll, loop_backend::poll);
    event_loop loop(with(3, backend));
    int ok = 0;
    std::size_t most = 0;
    auto one = [&](std::string url) -> task<void> {
        result r = co_await loop.get(std::move(url));
        if (r && r->status == 200) ++ok;
    };
    for (int i = 0; i < 40; ++i) loop.spawn(one(server.url("/hello")));
    while (loop.pending()) {
        loop.run_once(100ms);
        most = std::max(most, loop.in_flight());
        CHECK(loop.in_flight() <= 3);
    }
    CHECK(ok == 40);
    CHECK(most == 3);
}

TEST_CASE("transfers waiting for a slot start lowest key first, first come among equal keys",
          "[net]") {
    local_server server;
    loop_backend backend = GENERATE(loop_backend::epoll, loop_backend::poll);
    event_loop loop(with(1, backend));
    std::string order;
    auto one = [&](priority_key key, char name) -> task<void> {
        result r = co_await loop.get(server.url("/hello"), {}, {}, key);
        if (r && r->status == 200) order.push_back(name);
    };
    loop.spawn(one(9, 'x'));  // takes the one slot; the others wait for it
    std::vector<std::pair<priority_key, char>> const keys{
        {7, 'a'}, {2, 'b'}, {last_priority, 'c'}, {7, 'd'}, {2, 'e'}};
    for (auto const& [key, name] : keys) loop.spawn(one(key, name));
    loop.run_once(0ms);
    CHECK(loop.queued() == keys.size());
    loop.run();
    CHECK(order == "xbeadc");
}

TEST_CASE("a response over the size cap is an error, not a truncated body", "[net]") {
    local_server server;
    loop_options o;
    o.max_response_bytes = 100'000;
    event_loop loop(o);
    result r = drive(loop, get(loop, server.url("/big")));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == CURLE_FILESIZE_EXCEEDED);
    CHECK(r.error().message.find("cap") != std::string::npos);
}

task<void> get_into(event_loop& loop, std::string url, std::vector<result>& out) {
    out.push_back(co_await get(loop, std::move(url)));
}

TEST_CASE("endless answers on every slot are cut by the loop's budget for bodies", "[net]") {
    local_server server;
    loop_options o = with(8);
    o.max_response_bytes = std::size_t{16} << 20;
    o.bodies_in_flight_bytes = std::size_t{1} << 20;
    event_loop loop(o);
    std::vector<result> results;
    for (int i = 0; i < 8; ++i) loop.spawn(get_into(loop, server.url("/endless"), results));
    loop.run();
    REQUIRE(results.size() == 8);
    for (auto const& r : results) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == CURLE_OUT_OF_MEMORY);
        CHECK_THAT(r.error().message, Catch::Contains("budget of 1048576 bytes"));
    }
    // Eight caps of 16 MiB would have let 128 MiB in; the budget held them to 1 MiB together.
    CHECK(loop.bodies().peak() <= o.bodies_in_flight_bytes);
    CHECK(loop.bodies().peak() > o.bodies_in_flight_bytes / 2);
    CHECK(loop.bodies().used() == 0);
    // And a small answer after them fits again.
    CHECK(drive(loop, get(loop, server.url("/big"))));
}

TEST_CASE("a body that trickles below the low-speed limit is dropped as a timeout", "[net]") {
    // The defaults: under 100 bytes a second for 30 s (a trickle of 3 bytes a second held a call
    // for the whole total timeout before).
    CHECK(loop_options{}.low_speed_limit == 100);
    CHECK(loop_options{}.low_speed_time == 30s);
    local_server server;
    loop_options o = with(1);
    o.low_speed_time = 2s;
    auto [r, elapsed] = timed_get(o, server.url("/trickle"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == CURLE_OPERATION_TIMEDOUT);
    CHECK(elapsed < 50s);  // the trickle lasts a minute
}

TEST_CASE("a server that never answers runs into the total timeout", "[net]") {
    silent_listener silent;
    loop_backend backend = GENERATE(loop_backend::epoll, loop_backend::poll);
    loop_options o = with(4, backend);
    o.total_timeout = 300ms;
    auto [r, elapsed] = timed_get(o, silent.url("/x?apikey=l8xxsecret"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == CURLE_OPERATION_TIMEDOUT);
    CHECK(elapsed >= 290ms);  // curl keeps time in whole milliseconds
    CHECK(elapsed < 60s);     // without the timeout it would wait for ever; a busy machine adds
    CHECK(r.error().message.find("l8xxsecret") == std::string::npos);
    CHECK(r.error().message.find("apikey=REDACTED") != std::string::npos);
}

TEST_CASE("a closed port gives a connection error value", "[net]") {
    refusing_port closed;
    event_loop loop;
    result r = drive(loop, get(loop, closed.url("/x")));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == CURLE_COULDNT_CONNECT);
}

TEST_CASE("cancel_transfers ends queued and running transfers at once", "[net]") {
    silent_listener silent;
    event_loop loop(with(2));
    std::vector<CURLcode> codes;
    auto one = [&](std::string url) -> task<void> {
        result r = co_await loop.get(std::move(url));
        codes.push_back(r ? CURLE_OK : r.error().code);
    };
    for (int i = 0; i < 5; ++i)
        loop.spawn(one(silent.url("/x")));
    loop.run_once(20ms);
    loop.run_once(20ms);
    CHECK(loop.in_flight() == 2);
    CHECK(loop.queued() == 3);
    loop.cancel_transfers(CURLE_ABORTED_BY_CALLBACK, "stopped for the test");
    loop.run();
    CHECK(codes == std::vector<CURLcode>(5, CURLE_ABORTED_BY_CALLBACK));
}

// The http_client's patience, on the small server: an outage is tried past max_attempts; one
// call that fails for the whole patience while others are answered is handed back as failed;
// nothing answered for the whole patience stops the client.
namespace {
client_options patient(std::chrono::milliseconds patience) {
    client_options o;
    o.rate = 0;
    o.retry.max_attempts = 2;
    o.retry.base_delay = 5ms;
    o.retry.max_delay = 20ms;
    o.retry.patience = patience;
    o.seed = 3;
    return o;
}
}  // namespace

TEST_CASE("one call failing with 503 for the whole patience while others are answered is handed "
          "back as failed; the client goes on",
          "[net]") {
    local_server server;
    http_client http(patient(500ms));
    std::optional<result> failing;
    int answered = 0;
    // Named, so the closures outlive the coroutines that use their captures.
    auto fail = [&]() -> task<void> { failing = co_await http.get(server.url("/status/503")); };
    auto answer = [&]() -> task<void> {
        while (!failing) {
            result r = co_await http.get(server.url("/hello"));
            if (r && r->status == 200) ++answered;
            co_await http.loop().sleep_for(10ms);
        }
    };
    http.loop().spawn(fail());
    http.loop().spawn(answer());
    http.loop().run();
    REQUIRE(failing);
    REQUIRE(*failing);
    CHECK((*failing)->status == 503);
    CHECK(http.stats().gave_up == 1);
    CHECK(http.stats().outages > 2);  // past max_attempts
    CHECK(answered > 0);
    CHECK_FALSE(http.stopped());
}

TEST_CASE("nothing answered for the whole patience stops the client, naming the last failure",
          "[net]") {
    refusing_port closed;
    http_client http(patient(500ms));
    std::vector<result> results;
    auto one = [&]() -> task<void> { results.push_back(co_await http.get(closed.url("/x"))); };
    for (int i = 0; i < 3; ++i) http.loop().spawn(one());
    http.loop().run();
    REQUIRE(results.size() == 3);
    for (auto const& r : results) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == CURLE_ABORTED_BY_CALLBACK);
    }
    CHECK(http.stopped());
    CHECK(http.stop_reason().find("no call has succeeded for 500ms") != std::string::npos);
    CHECK(http.stop_reason().find("GET http://127.0.0.1:") != std::string::npos);
    CHECK(http.stats().requests > 3 * 2);  // past max_attempts
    CHECK(http.stats().gave_up == 0);
    CHECK(http.loop().spawned() == 0);  // no watchdog or backoff left behind
}
