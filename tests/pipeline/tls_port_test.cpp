// An http:// base URL whose port speaks TLS is a configuration error as soon as the empty reply
// shows it (exit 2, naming https://, nothing left behind), not an outage waited out for the whole
// --patience; a plain server that closes or resets its connections is still an outage.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"
#include "support/emulator.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace tls_port_test {

using marcpipe::testing::child;
using marcpipe::testing::run;
using marcpipe::testing::west_setting;
using namespace std::chrono_literals;

// `openssl s_server` on a free loopback port with a throwaway self-signed certificate, made in
// `dir`; it is killed when the test ends.
class tls_server {
public:
    explicit tls_server(std::filesystem::path const& dir) : dir_{dir} {
        std::filesystem::create_directories(dir_);
        auto made =
            run(MARCPIPE_OPENSSL,
                {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-subj", "/CN=localhost", "-days", "1", "-keyout", "key.pem", "-out", "cert.pem"},
                {}, dir_, "req");
        if (made.status != 0) throw std::runtime_error("openssl req failed: " + made.err);
        server_.emplace(MARCPIPE_OPENSSL,
                        std::vector<std::string>{"s_server", "-accept", "127.0.0.1:0", "-cert",
                                                 "cert.pem", "-key", "key.pem", "-www"},
                        std::vector<std::string>{}, dir_, "s_server");
        // s_server says the port it was given once it listens.
        std::regex const accept{"ACCEPT 127\\.0\\.0\\.1:([0-9]+)"};
        bool const listening = server_->wait_until([&] {
            std::smatch m;
            std::string const said = marcpipe::testing::slurp(dir_ / "s_server.stdout");
            if (!std::regex_search(said, m, accept)) return false;
            port_ = m[1];
            return true;
        });
        if (!listening) throw std::runtime_error("openssl s_server did not start");
    }

    std::string authority() const { return "127.0.0.1:" + port_; }

private:
    std::filesystem::path dir_;
    std::optional<child> server_;
    std::string port_;
};

// A plain TCP server on a free loopback port that reads what comes and closes without a word, as
// a crashing server behind a proxy does: curl calls that an empty reply (error 52), as it does
// a TLS port's answer to plain HTTP. It counts the connections that began with a TLS handshake
// record (byte 0x16): the client's probe.
class closing_server {
public:
    closing_server() {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener_ < 0 ||
            ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_, 64) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("cannot listen on loopback");
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread{[this] { serve(); }};
    }
    closing_server(closing_server const&) = delete;
    closing_server& operator=(closing_server const&) = delete;
    ~closing_server() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }

    std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
    int tls_hellos() const { return tls_hellos_; }
    int connections() const { return connections_; }

private:
    void serve() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int const fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            ++connections_;
            pollfd q{fd, POLLIN, 0};
            unsigned char first = 0;
            if (::poll(&q, 1, 1000) > 0 && ::recv(fd, &first, 1, 0) == 1 && first == 0x16)
                ++tls_hellos_;
            char rest[4096];
            while (::poll(&q, 1, 20) > 0 && ::recv(fd, rest, sizeof rest, 0) > 0) {
            }
            ::close(fd);
        }
    }

    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> tls_hellos_{0};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// The names in `dir`, but for the test's own (the export, the run's captured output, the server).
std::set<std::string> left_in(std::filesystem::path const& dir) {
    std::set<std::string> names;
    for (auto const& entry : std::filesystem::directory_iterator{dir}) {
        auto const name = entry.path().filename().string();
        if (name != "export.mrc" && name != "run.stdout" && name != "run.stderr" && name != "tls")
            names.insert(name);
    }
    return names;
}

std::vector<std::string> const env{std::string{"ALMA_API_KEY="} + marcpipe::testing::test_api_key};

// A run of west-holdings `args` in `dir` to its end, and how long it took.
struct timed_run {
    marcpipe::testing::finished r;
    std::chrono::steady_clock::duration took;
};
timed_run run_timed(std::vector<std::string> const& args, std::filesystem::path const& dir) {
    auto const started = std::chrono::steady_clock::now();
    auto r = run(MARCPIPE_WEST_HOLDINGS, args, env, dir);
    return {std::move(r), std::chrono::steady_clock::now() - started};
}

// An outage waited out for the whole --patience 3s: exit 3, TLS not blamed, and, stopped so
// resumable, the journal kept.
void check_waited_out(timed_run const& t, std::filesystem::path const& dir) {
    INFO(t.r.err);
    CHECK(t.r.status == 3);
    CHECK(t.took >= 3s);
    CHECK(t.r.err.find("TLS") == std::string::npos);
    CHECK(left_in(dir).count("out.mrc.journal") == 1);
}

TEST_CASE("http:// to a port that speaks TLS exits 2 at once, naming https://, leaving no files",
          "[programs][tls][usage]") {
    west_setting s{"tls-port", 5};
    tls_server tls{s.dir / "tls"};
    auto const [r, took] =
        run_timed({"--base-url", "http://" + tls.authority(), "--patience", "20s", "-o", "out.mrc",
                   "--errors", "problems.csv", "export.mrc"},
                  s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(took < 10s);
    CHECK(r.err.find("http://" + tls.authority() + " speaks TLS: use https://" + tls.authority()) !=
          std::string::npos);
    CHECK(left_in(s.dir) == std::set<std::string>{});
}

TEST_CASE(
    "a plain server that resets every connection is still an outage, waited out for --patience",
    "[programs][tls][outage]") {
    auto const [knob, value] = GENERATE(table<std::string, std::string>({
        {"connections", "refuse"},
        {"fault-rate-reset", "1"},
    }));
    INFO("--" << knob << " " << value);
    west_setting s{"tls-port-plain", 5, {"--" + knob, value}};
    auto const t = run_timed(s.args({"--patience", "3s", "-o", "out.mrc", "export.mrc"}), s.dir);
    check_waited_out(t, s.dir);
    INFO(t.r.err);
    CHECK(t.r.err.find("--patience") != std::string::npos);
}

TEST_CASE(
    "a plain server that closes without answering is asked once whether it speaks TLS, and waited "
    "out",
    "[programs][tls][outage]") {
    west_setting s{"tls-port-closing", 5};
    closing_server plain;
    auto const t = run_timed({"--base-url", "http://" + plain.authority(), "--patience", "3s", "-o",
                              "out.mrc", "export.mrc"},
                             s.dir);
    check_waited_out(t, s.dir);
    INFO(t.r.err);
    CHECK(t.r.err.find("Empty reply from server") != std::string::npos);
    CHECK(plain.tls_hellos() == 1);  // the probe, once however many calls met the empty reply
    CHECK(plain.connections() > 2);
}

}  // namespace tls_port_test
