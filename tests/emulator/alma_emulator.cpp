// alma-emulator: a loopback Alma REST API for tests, benchmarks and the demo.
//
// Serves the holdings endpoints from a deterministic catalogue and behaves like Alma's gateway
// where it matters to a client: the API key (header, or query parameter counted as a leak), the
// per-second threshold over a rolling one-second window of arrivals, the daily threshold,
// X-Exl-Api-Remaining on every answer, latency with jitter, and transient faults drawn per
// attempt from a seed. GET /_emulator/counters tells a test what the server saw. A switch makes
// it unreachable while it keeps its port, so a test never needs a port that is free.
//
// Why C++ on cpp-httplib rather than a Python script: the demo and the benchmarks then need no
// other runtime, and a thread per connection keeps the server simple while still serving
// thousands of requests a second on loopback.
#include "alma_analytics.hpp"
#include "alma_responses.hpp"
#include "alma_sets.hpp"
#include "bib_export.hpp"
#include "catalogue.hpp"
#include "hostile_fields.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <zlib.h>

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

namespace {

using namespace marcpipe::emulator;
using clock_type = std::chrono::steady_clock;

// How API calls are met: served, refused (the connection is reset without an answer), or
// dropped (held unanswered until the client gives up, as when packets to a host are lost).
enum class connection_mode { serve, refuse, drop };

std::optional<connection_mode> parse_connection_mode(std::string_view name) {
    if (name == "serve") return connection_mode::serve;
    if (name == "refuse") return connection_mode::refuse;
    if (name == "drop") return connection_mode::drop;
    return std::nullopt;
}

struct knobs {
    int port = 0;
    std::uint64_t seed = 1;
    std::size_t bibs = 1000;
    double vanished = 0;  // fraction of listed holdings whose record is gone (402208)
    double availability_gaps = catalogue::default_availability_gaps;  // see catalogue::availability
    bool network_zone = false;  // every bib's availability shows another institution's holding
    std::string api_key;
    std::size_t per_second = 0;  // 0: no threshold
    std::size_t daily = 0;       // 0: no threshold
    double latency_ms = 0;
    double latency_jitter = 0;
    std::uint64_t fault_seed = 1;
    double rate_500 = 0, rate_502 = 0, rate_503 = 0, rate_504 = 0, rate_reset = 0, rate_truncated = 0,
           rate_stall = 0, rate_malformed = 0, rate_endless = 0, rate_trickle = 0;
    double latency_bulk_ms = -1;  // latency of a bulk call (GET /bibs?mms_id=...); -1: latency_ms
    bool json_gateway_errors = false;  // the gateway's own errors in JSON, whatever was asked for
    // Bulk answers leave out every Nth bib with holdings, which the holdings list still serves (0: never).
    std::size_t bulk_omits_every = 0;
    // After this many pages of set members served, each set loses its first member (0: never);
    // with set_churn, another one after every page from then on.
    std::size_t set_change_after_pages = 0;
    bool set_churn = false;
    double stall_seconds = 30;
    int retry_after = -1;  // seconds; -1: no Retry-After header (Alma sends none)
    double close_rate = 0;  // fraction of answers sent with Connection: close
    bool gzip = false;      // compress answers for clients that accept gzip
    std::size_t threads = 512;
    connection_mode connections = connection_mode::serve;
    // Answers whose IDs a client must not trust (0: off): see bad_holding_listed, other_holding_record.
    std::size_t bad_holding_id_every = 0;
    std::string bad_holding_id = "..";
    std::size_t other_holding_record_every = 0;
    // API errors (402203, 402208, ...) whose text a client must not trust: see api_error.
    bool error_echoes_key = false;       // the key in errorCode and trackingId
    std::size_t error_message_bytes = 0;  // errorMessage padded to this many bytes (0: as it is)
    // The holdings records of every Nth bib carry an undeclared entity in 852 $z (0: never).
    std::size_t undeclared_entity_every = 0;
    hostile_fields hostile;  // holdings records with random bytes in their fields
    analytics_knobs analytics;  // alma_analytics.hpp
};

double fault_rates(knobs const& k) {
    return k.rate_500 + k.rate_502 + k.rate_503 + k.rate_504 + k.rate_reset + k.rate_truncated + k.rate_stall +
           k.rate_malformed + k.rate_endless + k.rate_trickle;
}

// The faults met by a share of the calls: the flag's name after "--fault-rate-", where the share
// is kept, and what the fault does to a call. The command line and /_emulator/configure both read
// it.
struct fault_knob {
    char const* name;
    double knobs::*rate;
    char const* does;
};
constexpr fault_knob fault_knobs[] = {
    {"500", &knobs::rate_500, "answered 500"},
    {"502", &knobs::rate_502, "answered 502 (a load balancer's Bad Gateway)"},
    {"503", &knobs::rate_503, "answered 503"},
    {"504", &knobs::rate_504, "answered 504 (a load balancer's Gateway Time-out)"},
    {"reset", &knobs::rate_reset, "whose connection is closed without an answer"},
    {"truncated", &knobs::rate_truncated, "whose body is cut short of its Content-Length"},
    {"stall", &knobs::rate_stall, "held for --stall-seconds before the answer"},
    {"malformed", &knobs::rate_malformed, "answered 200 with XML that does not parse"},
    {"endless", &knobs::rate_endless, "answered 200 with a holdings list that never ends"},
    {"trickle", &knobs::rate_trickle, "whose answer is sent three bytes a second"},
};

// The knobs that take a whole number (thresholds, every Nth bib or page): the flag's name after
// "--", where the number is kept, and what it sets. The command line and /_emulator/configure
// both read it.
struct count_knob {
    char const* name;
    std::size_t knobs::*n;
    char const* sets;
};
constexpr count_knob count_knobs[] = {
    {"per-second", &knobs::per_second, "per-second threshold over a rolling 1 s window (0 = none)"},
    {"daily", &knobs::daily, "daily threshold (0 = none)"},
    {"bulk-omits-every", &knobs::bulk_omits_every,
     "bulk answers leave out every Nth bib with holdings, which the holdings list still "
     "serves (0 = never)"},
    {"set-change-after-pages", &knobs::set_change_after_pages,
     "after N pages of set members served, each set loses its first member (0 = never)"},
    {"bad-holding-id-every", &knobs::bad_holding_id_every,
     "the holdings list of every Nth bib also lists --bad-holding-id (0 = never)"},
    {"other-holding-record-every", &knobs::other_holding_record_every,
     "the holdings records of every Nth bib carry another holding's ID (0 = never)"},
    {"error-message-bytes", &knobs::error_message_bytes,
     "API errors' errorMessage padded to N bytes (0 = as it is)"},
    {"undeclared-entity-every", &knobs::undeclared_entity_every,
     "the holdings records of every Nth bib carry &lol9; in 852 $z (0 = never)"},
};

// Sets one runtime knob by its flag name (without "--"); false if unknown or out of range.
bool apply_knob(knobs& k, std::string const& name, std::string const& value) {
    try {
        std::size_t used = 0;
        auto number = [&] {
            double v = std::stod(value, &used);
            if (used != value.size() || v < 0) throw std::invalid_argument(name);
            return v;
        };
        auto fraction = [&] {
            double v = number();
            if (v > 1) throw std::out_of_range(name);
            return v;
        };
        for (auto const& f : fault_knobs)
            if (name == std::string{"fault-rate-"} + f.name) {
                k.*f.rate = fraction();
                return true;
            }
        for (auto const& c : count_knobs)
            if (name == c.name) {
                k.*c.n = static_cast<std::size_t>(number());
                return true;
            }
        if (name == "api-key") k.api_key = value;
        else if (name == "latency-ms") k.latency_ms = number();
        else if (name == "latency-jitter") k.latency_jitter = fraction();
        else if (name == "latency-bulk-ms") k.latency_bulk_ms = value == "none" ? -1 : number();
        else if (name == "json-gateway-errors") k.json_gateway_errors = number() != 0;
        else if (name == "set-churn") k.set_churn = number() != 0;
        else if (name == "stall-seconds") k.stall_seconds = number();
        else if (name == "retry-after") k.retry_after = value == "none" ? -1 : static_cast<int>(number());
        else if (name == "close-rate") k.close_rate = fraction();
        else if (name == "gzip") k.gzip = number() != 0;
        else if (name == "bad-holding-id") k.bad_holding_id = value;
        else if (name == "error-echoes-key") k.error_echoes_key = number() != 0;
        else if (name == "analytics-pending") k.analytics.pending = static_cast<std::size_t>(number());
        else if (name == "analytics-spurious-empty") k.analytics.spurious_empty = static_cast<std::size_t>(number());
        else if (name == "analytics-lost-pages") k.analytics.lost_pages = static_cast<std::size_t>(number());
        else if (name == "connections") {
            auto mode = parse_connection_mode(value);
            if (!mode) return false;
            k.connections = *mode;
        } else return false;
        return true;
    } catch (std::exception const&) {
        return false;
    }
}

enum class fault { none, http_500, http_502, http_503, http_504, reset, truncated, stall, malformed, endless, trickle };

constexpr std::string_view fault_name(fault f) {
    switch (f) {
        case fault::http_500: return "500";
        case fault::http_502: return "502";
        case fault::http_503: return "503";
        case fault::http_504: return "504";
        case fault::reset: return "reset";
        case fault::truncated: return "truncated";
        case fault::stall: return "stall";
        case fault::malformed: return "malformed";
        case fault::endless: return "endless";
        case fault::trickle: return "trickle";
        case fault::none: break;
    }
    return "none";
}

// What the server only counts, each under the name its line in the counters report has.
enum class event {
    key_in_query, unauthorized, stall_abandoned, call_refused, call_dropped, gzip_sent, unknown_path, hostile_record,
    daily_threshold };
constexpr std::array<std::string_view, 9> event_names{
    "key_in_query", "unauthorized", "stalls_abandoned", "calls_refused", "calls_dropped", "gzip_sent",
    "unknown_paths", "hostile_records", "daily_threshold"};

// What the server saw; read by tests through /_emulator/counters.
class counters {
public:
    // Records an arrival and returns how many arrivals the rolling second that ends with it
    // holds, this one included: the threshold refuses an arrival past the Nth. The window is the
    // same one Alma's threshold uses, so a client that keeps under N here keeps under N there.
    // Arrivals may be recorded a little out of their order (threads take requests late on a busy
    // machine), so they are kept sorted, and the busiest second is counted once no late arrival
    // can fall in it any more. An arrival recorded after later ones counts those of them that
    // came within `taken_late` of it too, or the arrivals of one instant, taken in another order
    // than they came, would each see fewer before them and more than N would pass.
    std::size_t arrive(clock_type::time_point at, int remote_port) {
        constexpr auto taken_late = std::chrono::milliseconds{10};  // under a client's margin
        std::lock_guard lock{mutex_};
        ++requests_;
        client_ports_.insert(remote_port);
        window_.insert(std::upper_bound(window_.begin(), window_.end(), at), at);
        if (window_.back() - window_.front() > 3 * second) settle(window_.back() - 2 * second);
        auto const from = std::upper_bound(window_.begin(), window_.end(), at - second);
        return static_cast<std::size_t>(std::upper_bound(from, window_.end(), at + taken_late) - from);
    }
    void enter() {
        std::lock_guard lock{mutex_};
        ++in_flight_;
        max_in_flight_ = std::max(max_in_flight_, in_flight_);
    }
    void leave() {
        std::lock_guard lock{mutex_};
        --in_flight_;
    }
    void sent(int status) {
        std::lock_guard lock{mutex_};
        ++per_status_[status];
    }
    // Which resource was asked for, after the gateway let the call through; tests use it to
    // see that nothing was fetched twice without need.
    void asked(std::string_view endpoint, std::string resource) {
        std::lock_guard lock{mutex_};
        ++per_endpoint_[std::string{endpoint}];
        ++per_resource_[std::move(resource)];
    }
    std::string resources() {
        std::lock_guard lock{mutex_};
        std::string out;
        for (auto const& [resource, n] : per_resource_)
            out += std::to_string(n) + ' ' + resource + '\n';
        return out;
    }
    void faulted(fault f) {
        std::lock_guard lock{mutex_};
        ++faults_[std::string{fault_name(f)}];
    }
    void count(event e) {
        std::lock_guard lock{mutex_};
        ++events_[static_cast<std::size_t>(e)];
    }
    // The latency drawn for an answer, so a test can check the spread the server chose without
    // timing calls on a machine that may be busy.
    void waited(std::chrono::milliseconds drawn) {
        std::lock_guard lock{mutex_};
        auto ms = static_cast<std::size_t>(drawn.count());
        latency_min_ms_ = latencies_ == 0 ? ms : std::min(latency_min_ms_, ms);
        latency_max_ms_ = std::max(latency_max_ms_, ms);
        ++latencies_;
    }
    // Calls that passed the gateway count against the daily threshold.
    std::optional<std::size_t> use_daily(std::size_t daily) {
        std::lock_guard lock{mutex_};
        if (daily != 0 && daily_used_ >= daily) return std::nullopt;
        ++daily_used_;
        return daily_used_;
    }
    std::size_t daily_used() {
        std::lock_guard lock{mutex_};
        return daily_used_;
    }
    std::uint64_t next_tracking() {
        std::lock_guard lock{mutex_};
        return ++tracking_;
    }

    std::string report() {
        std::lock_guard lock{mutex_};
        std::ostringstream out;
        std::size_t sent_429 = per_status_.count(429) ? per_status_.at(429) : 0;
        out << "requests " << requests_ << '\n'
            << "in_flight " << in_flight_ << '\n'
            << "max_in_flight " << max_in_flight_ << '\n'
            << "max_per_rolling_second " << busiest_second() << '\n'
            << "sent_429 " << sent_429 << '\n'
            << "daily_used " << daily_used_ << '\n'
            << "client_ports " << client_ports_.size() << '\n'
            << "latency_min_ms " << latency_min_ms_ << '\n'
            << "latency_max_ms " << latency_max_ms_ << '\n';
        for (std::size_t i = 0; i < event_names.size(); ++i)
            out << event_names[i] << ' ' << events_[i] << '\n';
        for (auto const& [status, n] : per_status_) out << "status_" << status << ' ' << n << '\n';
        for (auto endpoint : {"holdings_list", "holding", "bibs", "set", "set_members", "analytics", "other"}) {
            auto it = per_endpoint_.find(endpoint);
            out << "endpoint_" << endpoint << ' ' << (it == per_endpoint_.end() ? 0 : it->second)
                << '\n';
        }
        std::size_t faults = 0;
        for (auto f : {fault::http_500, fault::http_502, fault::http_503, fault::http_504, fault::reset, fault::truncated,
                       fault::stall, fault::malformed, fault::endless, fault::trickle}) {
            auto it = faults_.find(std::string{fault_name(f)});
            auto n = it == faults_.end() ? 0 : it->second;
            faults += n;
            out << "fault_" << fault_name(f) << ' ' << n << '\n';
        }
        out << "faults " << faults << '\n';
        return out.str();
    }

    void reset() {
        std::lock_guard lock{mutex_};
        requests_ = max_in_flight_ = max_per_second_ = daily_used_ = latency_min_ms_ =
            latency_max_ms_ = latencies_ = 0;
        events_.fill(0);
        max_in_flight_ = in_flight_;
        window_.clear();
        per_status_.clear();
        per_endpoint_.clear();
        per_resource_.clear();
        faults_.clear();
        client_ports_.clear();
    }

private:
    std::mutex mutex_;
    std::size_t requests_ = 0, in_flight_ = 0, max_in_flight_ = 0, max_per_second_ = 0,
                daily_used_ = 0, latency_min_ms_ = 0, latency_max_ms_ = 0, latencies_ = 0;
    std::array<std::size_t, event_names.size()> events_{};
    std::uint64_t tracking_ = 0;
    static constexpr auto second = std::chrono::seconds{1};

    // The most arrivals in a window [s, s + 1 s) starting at an arrival s before `upto`, and
    // those arrivals forgotten: a window that ended over a second before the newest arrival
    // is complete (no request waits a second for a thread).
    void settle(clock_type::time_point upto) {
        auto const end = std::lower_bound(window_.begin(), window_.end(), upto);
        max_per_second_ = std::max(max_per_second_, busiest_from(window_.begin(), end));
        window_.erase(window_.begin(), end);
    }
    std::size_t busiest_from(std::deque<clock_type::time_point>::const_iterator first,
                             std::deque<clock_type::time_point>::const_iterator last) const {
        std::size_t most = 0;
        auto hi = first;
        for (auto s = first; s != last; ++s) {
            while (hi != window_.end() && *hi < *s + second) ++hi;
            most = std::max(most, static_cast<std::size_t>(hi - s));
        }
        return most;
    }
    std::size_t busiest_second() const {
        return std::max(max_per_second_, busiest_from(window_.begin(), window_.end()));
    }

    std::deque<clock_type::time_point> window_;  // arrivals not yet settled, in time order
    std::map<int, std::size_t> per_status_;
    std::map<std::string, std::size_t> per_endpoint_;
    std::map<std::string, std::size_t> per_resource_;
    std::map<std::string, std::size_t> faults_;
    std::unordered_set<int> client_ports_;
};

// Random draws for faults and latency: seeded, drawn per attempt, so a failed request retried
// later meets a fresh draw and eventually succeeds.
class dice {
public:
    explicit dice(std::uint64_t seed) : rng_{seed} {}
    double uniform() {
        std::lock_guard lock{mutex_};
        return std::uniform_real_distribution<double>{0.0, 1.0}(rng_);
    }
    std::uint64_t bits() {
        std::lock_guard lock{mutex_};
        return rng_();
    }

private:
    std::mutex mutex_;
    std::mt19937_64 rng_;
};

// cpp-httplib does not hand the connection's socket to handlers; the reset and stall faults and
// the arrival time need it, so find it by the (local port, peer port) pair the request carries.
bool same_connection(int fd, int local_port, int remote_port) {
    sockaddr_in local{}, peer{};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0 || local.sin_family != AF_INET) return false;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) return false;
    return ntohs(local.sin_port) == local_port && ntohs(peer.sin_port) == remote_port;
}

int connection_socket(int local_port, int remote_port) {
    std::error_code ec;
    for (auto const& entry : std::filesystem::directory_iterator{"/proc/self/fd", ec}) {
        int fd = std::atoi(entry.path().filename().c_str());
        if (same_connection(fd, local_port, remote_port)) return fd;
    }
    return -1;
}

// When the request reached this host. Alma's gateway counts a call when it arrives; a thread of
// this server may get to it tens of milliseconds later on a busy machine, and the arrivals it
// then records bunch together into seconds that never held them. The kernel notes when a
// connection last received data (TCP_INFO, in ticks of a few milliseconds): that is the time.
clock_type::time_point arrival_time(httplib::Request const& req) {
    auto const now = clock_type::now();
    static std::mutex mutex;
    static std::unordered_map<int, int> socket_of_peer;  // remote port -> descriptor
    int fd = -1;
    {
        std::lock_guard lock{mutex};
        auto it = socket_of_peer.find(req.remote_port);
        if (it != socket_of_peer.end() && same_connection(it->second, req.local_port, req.remote_port))
            fd = it->second;
        else if ((fd = connection_socket(req.local_port, req.remote_port)) >= 0)
            socket_of_peer[req.remote_port] = fd;
    }
    tcp_info info{};
    socklen_t len = sizeof info;
    if (fd < 0 || ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return now;
    return now - std::chrono::milliseconds{info.tcpi_last_data_recv};
}

// True when the client has closed its end (it gave up waiting).
bool client_gone(int fd) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    char c;
    return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

// Close the connection under httplib's feet: its write fails and it drops the connection, so
// the client sees the connection end with no response at all.
void drop_connection(int fd) {
    if (fd < 0) return;
    linger l{1, 0};  // close() then sends RST, as a crashed peer or a load balancer would
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::shutdown(fd, SHUT_RDWR);
}

// Resets the connection at once, with no FIN before the RST, as a host answers a call to a
// server that is gone: on Linux, connecting a TCP socket to AF_UNSPEC disconnects it with a
// reset. The descriptor stays open for httplib, whose write then fails and which closes it.
void reset_connection(int fd) {
    sockaddr unspecified{};
    unspecified.sa_family = AF_UNSPEC;
    ::connect(fd, &unspecified, sizeof unspecified);
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    while (true) {
        auto i = s.find(sep);
        parts.push_back(s.substr(0, i));
        if (i == std::string_view::npos) break;
        s.remove_prefix(i + 1);
    }
    return parts;
}

// Whether a path is one of the Alma resources the emulator serves, with numeric IDs (or one of
// its own /_emulator/ calls): a client whose IDs changed its paths asks for something else.
bool alma_path(std::string_view path) {
    if (path.rfind("/_emulator/", 0) == 0) return true;
    if (path == "/almaws/v1/analytics/reports") return true;
    constexpr std::string_view sets = "/almaws/v1/conf/sets/";
    if (path.rfind(sets, 0) == 0) {
        auto parts = split(path.substr(sets.size()), '/');
        return (parts.size() == 1 || (parts.size() == 2 && parts[1] == "members")) && !parts[0].empty() &&
               parts[0] != "." && parts[0] != "..";
    }
    constexpr std::string_view prefix = "/almaws/v1/bibs";
    if (path.rfind(prefix, 0) != 0) return false;
    path.remove_prefix(prefix.size());
    if (path.empty() || path == "/") return true;
    auto parts = split(path.substr(1), '/');
    if (path.front() != '/' || parts.size() < 2 || parts.size() > 3 || parts[1] != "holdings") return false;
    return all_digits(parts[0]) && (parts.size() == 2 || all_digits(parts[2]));
}

class emulator {
public:
    explicit emulator(knobs k)
        : k_{std::move(k)}, cat_{k_.seed, k_.bibs, k_.vanished, k_.availability_gaps, k_.network_zone}, faults_{k_.fault_seed},
          latency_{k_.fault_seed ^ 0x5DEECE66DULL} {}

    void install(httplib::Server& svr) {
        svr.Get("/_emulator/counters", [this](httplib::Request const&, httplib::Response& res) {
            res.set_content(counters_.report(), "text/plain");
        });
        svr.Get("/_emulator/requests", [this](httplib::Request const&, httplib::Response& res) {
            res.set_content(counters_.resources(), "text/plain");
        });
        svr.Post("/_emulator/configure", [this](httplib::Request const& req,
                                                httplib::Response& res) { configure(req, res); });
        svr.Post("/_emulator/reset", [this](httplib::Request const&, httplib::Response& res) {
            counters_.reset();
            res.set_content("reset\n", "text/plain");
        });
        svr.Get("/almaws/.*", [this](httplib::Request const& req, httplib::Response& res) {
            api(req, res);
        });
        svr.set_pre_routing_handler([this](httplib::Request const& req, httplib::Response& res) {
            if (!alma_path(req.path)) counters_.count(event::unknown_path);
            return unreachable(req, res);
        });
    }

    void set_base_url(std::string url) { base_url_ = std::move(url); }

private:
    // Each call works with a snapshot, so a test may change the knobs while calls are in flight.
    knobs current() {
        std::lock_guard lock{knobs_mutex_};
        return k_;
    }

    // POST /_emulator/configure?per-second=25&fault-rate-500=0&…: the knobs a long test turns
    // between runs without restarting the server (whose port is part of the client's command).
    void configure(httplib::Request const& req, httplib::Response& res) {
        std::lock_guard lock{knobs_mutex_};
        knobs k = k_;
        std::string problem;
        for (auto const& [name, value] : req.params) {
            if (!apply_knob(k, name, value)) {
                problem += "unknown knob or bad value: " + name + "=" + value + "\n";
            }
        }
        if (fault_rates(k) > 1.0) problem += "the fault rates add up to more than 1\n";
        if (!problem.empty()) {
            res.status = 400;
            res.set_content(problem, "text/plain");
            return;
        }
        k_ = std::move(k);
        res.set_content("configured\n", "text/plain");
    }

    struct in_flight_guard {
        explicit in_flight_guard(counters& c) : c_{c} { c_.enter(); }
        ~in_flight_guard() { c_.leave(); }
        in_flight_guard(in_flight_guard const&) = delete;
        in_flight_guard& operator=(in_flight_guard const&) = delete;
        counters& c_;
    };

    void api(httplib::Request const& req, httplib::Response& res) {
        auto const k = current();
        auto in_window = counters_.arrive(arrival_time(req), req.remote_port);
        in_flight_guard guard{counters_};
        set_remaining(res, counters_.daily_used(), k);

        // The gateway's checks come first and answer at once, without the API's latency.
        std::string key;
        if (auto auth = req.get_header_value("Authorization"); auth.rfind("apikey ", 0) == 0)
            key = auth.substr(7);
        if (req.has_param("apikey")) {
            counters_.count(event::key_in_query);
            if (key.empty()) key = req.get_param_value("apikey");
        }
        if (!k.api_key.empty() && key != k.api_key) {
            counters_.count(event::unauthorized);
            return gateway_error(res, k, 400, "UNAUTHORIZED",
                                 "API-key not defined or not configured to allow this API.");
        }
        if (k.per_second != 0 && in_window > k.per_second) {
            if (k.retry_after >= 0) res.set_header("Retry-After", std::to_string(k.retry_after));
            return gateway_error(res, k, 429, "PER_SECOND_THRESHOLD",
                                 "HTTP requests are more than allowed per second");
        }
        auto used = counters_.use_daily(k.daily);
        if (!used) {
            counters_.count(event::daily_threshold);
            return gateway_error(res, k, 429, "DAILY_THRESHOLD", "Daily API Request Threshold has been reached.");
        }
        set_remaining(res, *used, k);
        if (k.close_rate > 0 && faults_.uniform() < k.close_rate)
            res.set_header("Connection", "close");

        auto f = draw_fault(k);
        if (f != fault::none) counters_.faulted(f);
        wait_latency(k, note_resource(req) == "bibs");
        if (f == fault::reset) {
            drop_connection(connection_socket(req.local_port, req.remote_port));
            return;
        }
        if (f == fault::http_500) {
            // Alma's 500 sometimes carries an XML body and sometimes nothing at all.
            if (faults_.bits() % 2)
                return reply(res, 500, error_xml("401652",
                                                 "General Error - An error has occurred while "
                                                 "processing the request.",
                                                 tracking_id()));
            return reply(res, 500, "", "text/plain");
        }
        if (f == fault::http_503)
            return reply(res, 503, "<html><body><h1>503 Service Unavailable</h1></body></html>",
                         "text/html");
        // What a load balancer in front of Alma says when the server behind it failed or was slow.
        if (f == fault::http_502)
            return reply(res, 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
        if (f == fault::http_504)
            return reply(res, 504, "<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html");
        if (f == fault::stall && !stall(req)) return;
        if (f == fault::endless) return endless(res);

        auto [status, body] = route(req, k);
        if (f == fault::malformed) body = garble(std::move(body)), status = 200;
        if (k.gzip && accepts_gzip(req)) {
            body = gzip(body);
            res.set_header("Content-Encoding", "gzip");
            counters_.count(event::gzip_sent);
        }
        if (f == fault::truncated) return truncate(res, status, std::move(body));
        if (f == fault::trickle) return trickle(res, status, std::move(body));
        reply(res, status, std::move(body));
    }

    // Records the resource asked for and returns its endpoint's name.
    std::string_view note_resource(httplib::Request const& req) {
        constexpr std::string_view prefix = "/almaws/v1/bibs";
        std::string_view path = req.path;
        std::string_view endpoint = "other";
        if (auto set = set_endpoint(path)) {
            endpoint = *set;
        } else if (path == "/almaws/v1/analytics/reports") {
            endpoint = "analytics";
        } else if (path == prefix || path == std::string{prefix} + "/")
            endpoint = "bibs";
        else if (path.rfind(std::string{prefix} + "/", 0) == 0) {
            auto parts = split(path.substr(prefix.size() + 1), '/');
            if (parts.size() >= 2 && parts[1] == "holdings")
                endpoint = parts.size() == 2 ? "holdings_list" : parts.size() == 3 ? "holding" : "other";
        }
        std::string resource = req.path;
        if (endpoint == "bibs") resource += "?mms_id=" + req.get_param_value("mms_id");
        if (endpoint == "set_members")
            resource += "?offset=" + req.get_param_value("offset") + "&limit=" + req.get_param_value("limit");
        if (endpoint == "analytics")
            resource += req.has_param("token") ? "?token" : "?path=" + req.get_param_value("path");
        counters_.asked(endpoint, std::move(resource));
        return endpoint;
    }

    // The gateway's own refusals. Alma's gateway answers them in JSON whatever format was asked
    // for (--json-gateway-errors); the API's errors stay XML.
    void gateway_error(httplib::Response& res, knobs const& k, int status, std::string_view code,
                       std::string_view message) {
        if (!k.json_gateway_errors) return reply(res, status, error_xml(code, message));
        reply(res, status,
              R"({"errorsExist":true,"errorList":{"error":[{"errorCode":")" + std::string{code} +
                  R"(","errorMessage":")" + std::string{message} + R"(","trackingId":"unknown"}]},"result":null})",
              "application/json;charset=UTF-8");
    }

    std::pair<int, std::string> route(httplib::Request const& req, knobs const& k) {
        constexpr std::string_view prefix = "/almaws/v1/bibs";
        std::string_view path = req.path;
        if (set_endpoint(path)) return sets(req);
        if (path == "/almaws/v1/analytics/reports")
            return analytics_.answer(cat_, k.analytics, req.get_param_value("path"), req.get_param_value("token"),
                                     req.get_param_value("limit"),
                                     [this](std::string_view code, std::string const& m) { return api_error(code, m); });
        if (path.rfind(prefix, 0) != 0) return not_found(path);
        path.remove_prefix(prefix.size());
        if (path.empty() || path == "/") {
            auto [status, body] = bibs(req, k);
            return {status, bad_holding_in_availability(k, std::move(body))};
        }
        auto parts = split(path.substr(1), '/');
        if (parts.size() < 2 || parts.size() > 3 || parts[1] != "holdings") return not_found(path);
        auto mms_id = parts[0];
        if (!all_digits(mms_id))
            return api_error("402204", "Input parameters mmsId " + std::string{mms_id} +
                                           " is not numeric.");
        auto bib = cat_.bib_index(mms_id);
        if (!bib || cat_.deleted(*bib))
            return api_error("402203", "Input parameters mmsId " + std::string{mms_id} +
                                           " is not valid.");
        if (parts.size() == 2)
            return {200, bad_holding_listed(k, *bib, holdings_list_xml(cat_, *bib, base_url_))};
        auto holding_id = parts[2];
        auto pos = cat_.find_holding(holding_id);
        if (!pos || pos->bib != *bib || cat_.vanished(pos->bib, pos->holding))
            return api_error("402208", "Search failed for Holdings ID: " +
                                           std::string{holding_id});
        return {200, undeclared_entity(k, pos->bib,
                                       other_holding_record(k, pos->bib, pos->holding,
                                                            holding_record_answer(pos->bib, pos->holding)))};
    }

    // --undeclared-entity-every N: the holdings records of every Nth bib carry `&lol9;` (the
    // last entity of a "billion laughs" document, here without its declaration) in a subfield $z
    // of their 852. XML knows no such entity: a parser that lets it through leaves it literal.
    static std::string undeclared_entity(knobs const& k, std::size_t bib, std::string body) {
        if (k.undeclared_entity_every == 0 || bib % k.undeclared_entity_every != 0) return body;
        auto const field = body.find("tag=\"852\"");
        auto const end = body.find("</datafield>", field);
        if (field == std::string::npos || end == std::string::npos) return body;
        body.insert(end, "<subfield code=\"z\">&lol9;</subfield>");
        return body;
    }

    // --bad-holding-id-every N: the holdings list of every Nth bib (0, N, 2N, ... that has
    // holdings) lists one holding more, whose ID is --bad-holding-id (`..`: asking for its record
    // would request /bibs/{mms_id}/ instead). The count says so too, so the list is not short.
    std::string bad_holding_listed(knobs const& k, std::size_t bib, std::string body) const {
        if (k.bad_holding_id_every == 0 || bib % k.bad_holding_id_every != 0) return body;
        auto const n = cat_.holdings_count(bib);
        auto const at = body.find("<bib_data");
        if (n == 0 || at == std::string::npos) return body;
        std::string holding = "<holding><holding_id>";
        append_escaped(holding, k.bad_holding_id);
        holding += "</holding_id></holding>";
        body.insert(at, holding);
        std::string const count = "total_record_count=\"" + std::to_string(n) + "\"";
        if (auto c = body.find(count); c != std::string::npos)
            body.replace(c, count.size(), "total_record_count=\"" + std::to_string(n + 1) + "\"");
        return body;
    }

    // The same in a bulk answer: those bibs get one AVA more, whose $8 is --bad-holding-id.
    std::string bad_holding_in_availability(knobs const& k, std::string body) const {
        if (k.bad_holding_id_every == 0) return body;
        std::string ava = R"(<datafield tag="AVA" ind1=" " ind2=" "><subfield code="8">)";
        append_escaped(ava, k.bad_holding_id);
        ava += "</subfield></datafield>";
        for (std::size_t at = body.find("<mms_id>"); at != std::string::npos; at = body.find("<mms_id>", at + 1)) {
            auto const from = at + 8;
            auto const id = std::string_view{body}.substr(from, body.find('<', from) - from);
            auto const bib = cat_.bib_index(id);
            auto const record_end = body.find("</record>", at);
            if (!bib || record_end == std::string::npos || *bib % k.bad_holding_id_every != 0 ||
                cat_.holdings_count(*bib) == 0)
                continue;
            body.insert(record_end, ava);
        }
        return body;
    }

    // --other-holding-record-every N: the holdings records of every Nth bib carry another
    // holding's ID in <holding_id> (that of the holding after it in the catalogue's numbering).
    std::string other_holding_record(knobs const& k, std::size_t bib, std::size_t holding,
                                     std::string body) const {
        if (k.other_holding_record_every == 0 || bib % k.other_holding_record_every != 0) return body;
        std::string const asked = "<holding_id>" + cat_.holding_id(bib, holding) + "</holding_id>";
        if (auto at = body.find(asked); at != std::string::npos)
            body.replace(at, asked.size(), "<holding_id>" + cat_.holding_id(bib, holding + 1) + "</holding_id>");
        return body;
    }

    std::string holding_record_answer(std::size_t bib, std::size_t holding) {
        auto record = cat_.holding_record(bib, holding);
        hostile_fields const hostile = current().hostile;
        if (is_hostile(hostile, bib, holding)) {
            damage(record, hostile, bib, holding);
            counters_.count(event::hostile_record);
        }
        return holding_record_xml(cat_, bib, holding, record);
    }

    std::pair<int, std::string> bibs(httplib::Request const& req, knobs const& k) {
        auto list = req.get_param_value("mms_id");
        auto ids = split(list, ',');
        if (!req.has_param("mms_id") || ids.size() > 100)
            return api_error("402203", "Input parameter mmsId list is not valid.");
        std::vector<std::size_t> found;
        for (auto id : ids) {
            auto bib = cat_.bib_index(id);
            if (bib && !cat_.deleted(*bib) &&
                std::find(found.begin(), found.end(), *bib) == found.end())
                found.push_back(*bib);
        }
        auto view = req.has_param("view") ? req.get_param_value("view") : "full";
        auto expand = req.get_param_value("expand");
        bool availability = expand.find("p_avail") != std::string::npos;
        // --bulk-omits-every N: every Nth bib (0, N, 2N, ...) that has holdings is left out of a
        // bulk answer, although Alma has it and its holdings list and records are served.
        if (availability && k.bulk_omits_every != 0)
            found.erase(std::remove_if(found.begin(), found.end(),
                                       [&](std::size_t b) {
                                           return b % k.bulk_omits_every == 0 && cat_.holdings_count(b) > 0;
                                       }),
                        found.end());
        return {200, bibs_xml(cat_, found, base_url_, view == "full", availability)};
    }

    // ---- sets (alma_sets.hpp) ---------------------------------------------------------------

    static constexpr std::string_view sets_prefix = "/almaws/v1/conf/sets/";

    // "set" or "set_members" for a set's URL, else nothing.
    static std::optional<std::string_view> set_endpoint(std::string_view path) {
        if (path.rfind(sets_prefix, 0) != 0) return std::nullopt;
        auto parts = split(path.substr(sets_prefix.size()), '/');
        if (parts.size() == 1 && !parts[0].empty()) return "set";
        if (parts.size() == 2 && parts[1] == "members") return "set_members";
        return std::nullopt;
    }

    // Alma answers an unknown set with a web_service_result; the code here is the emulator's
    // (no captured answer says which code Alma uses), the shape and status are Alma's.
    std::pair<int, std::string> sets(httplib::Request const& req) {
        std::string_view path = req.path;
        auto parts = split(path.substr(sets_prefix.size()), '/');
        auto kind = find_set(cat_, parts[0]);
        if (!kind)
            return api_error("402459", "No set found with ID " + std::string{parts[0]} + ".");
        std::size_t const left_out = left_out_;
        if (parts.size() == 1) return {200, set_xml(cat_, *kind, base_url_, left_out)};
        auto number = [&](char const* name, std::size_t fallback) -> std::optional<std::size_t> {
            if (!req.has_param(name)) return fallback;
            auto v = req.get_param_value(name);
            if (!all_digits(v) || v.size() > 9) return std::nullopt;
            return static_cast<std::size_t>(std::stoul(v));
        };
        auto limit = number("limit", 10);
        auto offset = number("offset", 0);
        if (!limit || *limit > 100 || !offset)
            return api_error("402231", "Parameter limit (0 to 100) or offset is not valid.");
        auto answer = set_members_xml(cat_, *kind, *offset, *limit, base_url_, left_out);
        // --set-change-after-pages N: someone edits the sets while a client pages through them
        // (--set-churn: and goes on editing them).
        auto const k = current();
        if (k.set_change_after_pages != 0) {
            auto const served = ++member_pages_;
            if (served == k.set_change_after_pages || (served > k.set_change_after_pages && k.set_churn)) ++left_out_;
        }
        return {200, std::move(answer)};
    }

    // --error-echoes-key puts the key the calls must carry into errorCode and trackingId (a
    // gateway that logs the request into its answer); --error-message-bytes pads errorMessage
    // to that size (a server that sends a page of debug output as the message).
    std::pair<int, std::string> api_error(std::string_view code, std::string const& message) {
        knobs const k = current();
        std::string c{code}, m = message, t = tracking_id();
        if (k.error_echoes_key) {
            c += " " + k.api_key;
            t += " apikey=" + k.api_key;
        }
        if (m.size() < k.error_message_bytes) m.append(k.error_message_bytes - m.size(), 'x');
        return {400, error_xml(c, m, t)};
    }
    static std::pair<int, std::string> not_found(std::string_view path) {
        return {404, "the emulator serves no resource at " + std::string{path} + "\n"};
    }

    // Alma tracking IDs look like E01-2807130150-8OWYS-AWAE533535741.
    std::string tracking_id() {
        auto n = counters_.next_tracking();
        static constexpr std::string_view alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        std::string tag;
        auto h = detail::mix(n ^ cat_.seed());
        for (int i = 0; i < 5; ++i, h /= alnum.size()) tag += alnum[h % alnum.size()];
        return "E01-" + detail::zero_pad(2807130150ULL + n % 1000, 10) + "-" + tag + "-AWAE" +
               std::to_string(533535741ULL + n);
    }

    fault draw_fault(knobs const& k) {
        double u = faults_.uniform();
        for (auto [rate, f] : {std::pair{k.rate_500, fault::http_500},
                               std::pair{k.rate_502, fault::http_502},
                               std::pair{k.rate_503, fault::http_503},
                               std::pair{k.rate_504, fault::http_504},
                               std::pair{k.rate_reset, fault::reset},
                               std::pair{k.rate_truncated, fault::truncated},
                               std::pair{k.rate_stall, fault::stall},
                               std::pair{k.rate_malformed, fault::malformed},
                               std::pair{k.rate_endless, fault::endless},
                               std::pair{k.rate_trickle, fault::trickle}}) {
            if (u < rate) return f;
            u -= rate;
        }
        return fault::none;
    }

    // A bulk call (`bulk`) takes --latency-bulk-ms when it is set: Alma builds a hundred bibs'
    // records with their availability for it, which takes longer than one holdings list.
    void wait_latency(knobs const& k, bool bulk) {
        auto mean = [bulk](knobs const& now) { return bulk && now.latency_bulk_ms >= 0 ? now.latency_bulk_ms : now.latency_ms; };
        if (mean(k) <= 0) return;
        double factor = 1.0 + k.latency_jitter * (2.0 * latency_.uniform() - 1.0);
        counters_.waited(std::chrono::milliseconds{std::lround(std::max(0.0, mean(k) * factor))});
        auto start = clock_type::now();
        hold([&] { return start + milliseconds(std::max(0.0, mean(current()) * factor)); },
             [] { return false; }, std::chrono::milliseconds{50});
    }

    // Holds the request past any sane client timeout. Returns false if the client gave up
    // first (the connection is then dropped), true if the stall ran out and the answer follows.
    bool stall(httplib::Request const& req) {
        int fd = connection_socket(req.local_port, req.remote_port);
        auto start = clock_type::now();
        bool ran_out = hold([&] { return start + seconds(current().stall_seconds); },
                            [&] { return fd >= 0 && client_gone(fd); },
                            std::chrono::milliseconds{20});
        if (!ran_out) {
            counters_.count(event::stall_abandoned);
            drop_connection(fd);
        }
        return ran_out;
    }

    // Calls that meet a refusing or dropping server end here, before the gateway: like calls to
    // a host that is down they never reach Alma, so they count neither as requests nor in the
    // rolling second. The control endpoints stay reachable, or nothing could switch back.
    httplib::Server::HandlerResponse unreachable(httplib::Request const& req,
                                                 httplib::Response& res) {
        using result = httplib::Server::HandlerResponse;
        if (req.path.rfind("/_emulator/", 0) == 0) return result::Unhandled;
        auto mode = current().connections;
        if (mode == connection_mode::serve) return result::Unhandled;
        int fd = connection_socket(req.local_port, req.remote_port);
        if (fd < 0) {
            // Better a visible oddity than a 200 the client would take for Alma's answer.
            res.status = 502;
            res.set_content("the emulator could not find the connection to refuse\n",
                            "text/plain");
            return result::Handled;
        }
        if (mode == connection_mode::refuse) {
            counters_.count(event::call_refused);
            reset_connection(fd);
            return result::Handled;
        }
        counters_.count(event::call_dropped);
        hold([&] {
                 return current().connections == connection_mode::drop
                            ? clock_type::time_point::max()
                            : clock_type::time_point::min();
             },
             [&] { return client_gone(fd); }, std::chrono::milliseconds{20});
        drop_connection(fd);
        return result::Handled;
    }

    // Waits until `due()`, asking again at every tick, so that a test which turns a knob down
    // (latency-ms, stall-seconds, connections) releases the calls already waiting; `give_up`
    // ends the wait early. False if it did.
    template <class Due, class GiveUp>
    static bool hold(Due due, GiveUp give_up, clock_type::duration tick) {
        while (true) {
            auto until = due();
            auto now = clock_type::now();
            if (now >= until) return true;
            if (give_up()) return false;
            std::this_thread::sleep_for(std::min<clock_type::duration>(until - now, tick));
        }
    }

    static clock_type::duration milliseconds(double ms) {
        return std::chrono::duration_cast<clock_type::duration>(
            std::chrono::duration<double, std::milli>{ms});
    }
    static clock_type::duration seconds(double s) { return milliseconds(s * 1000); }

    // A 200 whose body does not parse: cut short, or with a stray end tag in the middle.
    std::string garble(std::string body) {
        if (body.size() < 8) return "<hold";
        auto where = body.size() / 4 + faults_.bits() % (body.size() / 2);
        if (faults_.bits() % 2) {
            body.resize(where);
        } else {
            auto lt = body.find('<', where);
            body.insert(lt == std::string::npos ? body.size() / 2 : lt, "</garbled>");
        }
        return body;
    }

    // 200 and a holdings list that never ends: 64 KiB chunks of <holding> elements for as long as
    // the client reads them.
    void endless(httplib::Response& res) {
        res.status = 200;
        counters_.sent(200);
        std::string chunk;
        while (chunk.size() < 64 * 1024) chunk += "<holding><holding_id>22999999999999</holding_id></holding>";
        res.set_chunked_content_provider(
            "application/xml;charset=UTF-8", [chunk = std::move(chunk)](std::size_t offset, httplib::DataSink& sink) {
                if (offset == 0 && !sink.write("<holdings>", 10)) return false;
                return sink.is_writable() && sink.write(chunk.data(), chunk.size());
            });
    }

    // The real answer, three bytes a second: a body that never stalls outright, so only a
    // client's low-speed limit ends it early.
    void trickle(httplib::Response& res, int status, std::string body) {
        res.status = status;
        counters_.sent(status);
        res.set_chunked_content_provider(
            "application/xml;charset=UTF-8", [body = std::move(body)](std::size_t offset, httplib::DataSink& sink) {
                if (offset >= body.size()) {
                    sink.done();
                    return true;
                }
                if (!sink.is_writable() || !sink.write(body.data() + offset, std::min<std::size_t>(3, body.size() - offset)))
                    return false;
                std::this_thread::sleep_for(std::chrono::seconds(1));
                return true;
            });
    }

    // Announce the whole body, send part of it, then close: the client sees a short read.
    void truncate(httplib::Response& res, int status, std::string body) {
        res.status = status;
        counters_.sent(status);
        auto size = body.size();
        auto cut = size / 2;
        res.set_content_provider(
            size, "application/xml;charset=UTF-8",
            [body = std::move(body), cut](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                if (offset < cut) sink.write(body.data() + offset, cut - offset);
                return false;  // httplib drops the connection when a provider gives up
            });
    }

    static bool accepts_gzip(httplib::Request const& req) {
        return req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
    }

    // httplib only compresses a few exact content types, and Alma's carries a charset, so the
    // emulator compresses itself.
    static std::string gzip(std::string const& body) {
        z_stream z{};
        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK)
            throw std::runtime_error("deflateInit2 failed");
        std::string out(deflateBound(&z, static_cast<uLong>(body.size())) + 32, '\0');
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
        z.avail_in = static_cast<uInt>(body.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        auto rc = deflate(&z, Z_FINISH);
        out.resize(z.total_out);
        deflateEnd(&z);
        if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
        return out;
    }

    void reply(httplib::Response& res, int status, std::string body,
               std::string const& type = "application/xml;charset=UTF-8") {
        res.status = status;
        counters_.sent(status);
        res.set_content(std::move(body), type);
    }

    static void set_remaining(httplib::Response& res, std::size_t used, knobs const& k) {
        // Without a daily threshold, count down from a large allowance, as a real key has.
        std::size_t allowance = k.daily != 0 ? k.daily : 1'000'000'000;
        res.headers.erase("X-Exl-Api-Remaining");
        res.set_header("X-Exl-Api-Remaining", std::to_string(allowance - std::min(used, allowance)));
    }

    std::mutex knobs_mutex_;
    knobs k_;
    catalogue cat_;
    counters counters_;
    dice faults_;
    dice latency_;
    std::string base_url_;
    analytics_service analytics_;
    std::atomic<std::size_t> member_pages_{0};  // pages of set members served
    std::atomic<std::size_t> left_out_{0};      // how many of their first members the sets have lost
};

int write_export(knobs const& k, std::string const& path) {
    catalogue cat{k.seed, k.bibs};
    std::ofstream out{path, std::ios::binary};
    if (!out) {
        std::cerr << "alma-emulator: cannot open " << path << " for writing\n";
        return 2;
    }
    bool xml = path.size() >= 4 && path.compare(path.size() - 4, 4, ".xml") == 0;
    if (xml)
        write_marcxml_export(cat, out);
    else
        write_iso2709_export(cat, out);
    out.close();
    if (!out) {
        std::cerr << "alma-emulator: writing " << path << " failed\n";
        return 1;
    }
    return 0;
}

// Stdin is watched only when it is a pipe, socket or terminal: a parent holding the other end
// of a pipe (the test launcher) ends the server by closing it or by dying, while a server
// started in the background with stdin on /dev/null keeps running until a signal.
bool stdin_is_watchable() {
    struct stat st {};
    if (::fstat(0, &st) != 0) return false;
    return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || ::isatty(0);
}

// Ends the process with every call still held unanswered: _Exit takes all threads down in one
// step, and the kernel closes their connections with no response sent. Nothing is set for the
// handlers to notice first, because a handler that woke in between could still answer in full.
[[noreturn]] void end_at_once() {
    std::fflush(stdout);
    std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    knobs k;
    std::string export_path;
    CLI::App app{"Loopback Alma REST API emulator for tests, benchmarks and the demo"};
    app.option_defaults()->always_capture_default();
    // A share of the holdings, bibs, calls or answers that a quirk touches: from 0 to 1.
    auto fraction = [&app](std::string const& name, double& share, std::string const& what) {
        return app.add_option(name, share, what)->check(CLI::Range(0.0, 1.0));
    };
    app.add_option("--port", k.port, "TCP port on 127.0.0.1 (0 = pick a free one)");
    app.add_option("--seed", k.seed, "catalogue seed");
    app.add_option("--bibs", k.bibs, "number of bibs in the catalogue");
    fraction("--vanished-holdings", k.vanished,
             "fraction of holdings listed but deleted before their record is fetched (402208)");
    fraction("--hostile-fields", k.hostile.fraction,
             "fraction of holdings records served with random bytes in random fields "
             "(leader, tags, indicators, codes, values; see tests/emulator/README.md)");
    app.add_option("--hostile-seed", k.hostile.seed, "which records --hostile-fields damages, and how");
    fraction("--availability-gaps", k.availability_gaps,
             "share of bibs with each gap in their availability (AVA): a holding in a temporary "
             "location (no $8), holdings without items (no AVA), another institution's AVA, a "
             "related record's AVA");
    app.add_flag("--network-zone", k.network_zone,
                 "answer as to a Network Zone key: every bib's availability also has an AVA with $8 "
                 "of another member institution's holding");
    app.add_option("--api-key", k.api_key, "required API key (default: any request accepted)");
    app.add_option("--latency-ms", k.latency_ms, "mean latency of an API answer in ms");
    app.add_option("--latency-bulk-ms", k.latency_bulk_ms,
                   "mean latency of a bulk call (GET /bibs?mms_id=...) in ms (default: --latency-ms)");
    app.add_flag("--json-gateway-errors", k.json_gateway_errors,
                 "the gateway's errors (UNAUTHORIZED, PER_SECOND_THRESHOLD, DAILY_THRESHOLD) in JSON, as Alma's");
    for (auto const& c : count_knobs) app.add_option(std::string{"--"} + c.name, k.*c.n, c.sets);
    app.add_flag("--set-churn", k.set_churn,
                 "with --set-change-after-pages: the sets lose one more member after every later page");
    fraction("--latency-jitter", k.latency_jitter,
             "latency spread as a fraction of the mean (0.5 = ±50%)");
    app.add_option("--fault-seed", k.fault_seed, "seed for fault and latency draws");
    for (auto const& f : fault_knobs)
        fraction(std::string{"--fault-rate-"} + f.name, k.*f.rate,
                 std::string{"fraction of calls "} + f.does);
    app.add_option("--stall-seconds", k.stall_seconds, "how long a stalled call is held");
    app.add_option("--retry-after", k.retry_after,
                   "send Retry-After: N with PER_SECOND_THRESHOLD answers");
    fraction("--close-rate", k.close_rate,
             "fraction of answers sent with Connection: close, as Alma's gateway does");
    app.add_flag("--gzip", k.gzip, "gzip API answers for clients that send Accept-Encoding: gzip");
    app.add_option("--bad-holding-id", k.bad_holding_id, "the holding ID those lists carry");
    app.add_flag("--error-echoes-key", k.error_echoes_key,
                 "API errors carry the API key in errorCode and trackingId");
    std::string connections = "serve";
    app.add_option("--connections", connections,
                   "how API calls are met: serve; refuse (the connection is reset without an "
                   "answer); drop (held unanswered until the client gives up). The port stays "
                   "bound and /_emulator/ keeps answering")
        ->check(CLI::IsMember({"serve", "refuse", "drop"}));
    app.add_option("--threads", k.threads, "connections served at once (one thread each)")
        ->check(CLI::Range(1, 4096));
    app.add_option("--write-export", export_path,
                   "write the catalogue's bib export to PATH (MARCXML if it ends in .xml, "
                   "else MARC21) and exit");
    std::string analytics_export_path;
    app.add_option("--write-analytics", analytics_export_path,
                   "write the Analytics holdings report as its user interface exports it to PATH (CSV, UTF-8, if it "
                   "ends in .csv, else tab-separated UTF-16) and exit");
    app.add_option("--analytics-pending", k.analytics.pending,
                   "Analytics: answers that say 'still computing' before a reading's first rows");
    app.add_option("--analytics-spurious-empty", k.analytics.spurious_empty,
                   "Analytics: the first N readings answer finished with no rows");
    app.add_option("--analytics-lost-pages", k.analytics.lost_pages,
                   "Analytics: the first N token pages with rows are sent cut in half");
    CLI11_PARSE(app, argc, argv);
    k.connections = *parse_connection_mode(connections);

    if (fault_rates(k) > 1.0) {
        std::cerr << "alma-emulator: the fault rates add up to more than 1\n";
        return 2;
    }
    if (!export_path.empty()) return write_export(k, export_path);
    if (!analytics_export_path.empty()) {
        std::ofstream out{analytics_export_path, std::ios::binary};
        bool const csv = analytics_export_path.size() >= 4 &&
                         analytics_export_path.compare(analytics_export_path.size() - 4, 4, ".csv") == 0;
        out << analytics_export(catalogue{k.seed, k.bibs}, csv);
        return out.close(), out ? 0 : 1;
    }

    // Signals are taken by one thread with sigwait, so block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // A client that vanishes mid-answer must cost a failed write, not the process.
    std::signal(SIGPIPE, SIG_IGN);

    httplib::Server svr;
    // httplib's default pool has one thread per core (at least 8), and a keep-alive
    // connection holds its thread until it closes: 256 concurrent clients would queue behind
    // eight. A thread per connection up to --threads serves them all at once (the pool is
    // made below, once the port is known).
    // Clients reuse connections for many calls; httplib's default closes after five.
    svr.set_keep_alive_max_count(1'000'000);
    svr.set_keep_alive_timeout(10);
    svr.set_tcp_nodelay(true);
    int listen_fd = -1;
    svr.set_socket_options([&listen_fd](int fd) {
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        listen_fd = fd;
    });

    emulator emu{k};
    emu.install(svr);

    int port = k.port;
    if (port == 0) {
        port = svr.bind_to_any_port("127.0.0.1");
        if (port < 0) {
            std::cerr << "alma-emulator: cannot bind 127.0.0.1\n";
            return 1;
        }
    } else if (!svr.bind_to_port("127.0.0.1", port)) {
        std::cerr << "alma-emulator: cannot bind 127.0.0.1:" << port << '\n';
        return 1;
    }
    // httplib listens with a backlog of 5 (fixed when the library was built): a burst of 256
    // connects would see SYNs dropped and retried a second later. Linux lets listen() be
    // called again on a listening socket to raise it.
    if (listen_fd >= 0) ::listen(listen_fd, 4096);

    std::string base = "http://127.0.0.1:" + std::to_string(port);
    emu.set_base_url(base);
    // httplib makes its pool when it starts to listen, and making hundreds of threads takes a
    // while on a busy machine or under the sanitizers: the line goes out once they exist, so a
    // client that starts on it is served at once.
    svr.new_task_queue = [threads = k.threads, base] {
        auto* pool = new httplib::ThreadPool(threads);
        std::cout << "listening on " << base << std::endl;
        return pool;
    };

    std::thread([&stop_signals] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        end_at_once();
    }).detach();
    if (stdin_is_watchable()) {
        std::thread([] {
            char buf[256];
            while (::read(0, buf, sizeof buf) > 0) {
            }
            end_at_once();
        }).detach();
    }

    svr.listen_after_bind();
    return 0;
}
