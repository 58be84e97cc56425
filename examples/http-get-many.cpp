// http-get-many: fetch many URLs concurrently, paced under a per-second rate, with retries.
//
//   ALMA_API_KEY=l8xx... http-get-many --concurrency 16 --rate 25 [-o OUTPUT|-] < urls.txt
//
// Reads one URL a line from stdin, keeps up to --concurrency requests in flight on one thread,
// never starts more than --rate requests in any rolling second, retries transient failures
// (429 PER_SECOND_THRESHOLD, 5xx, resets, timeouts, truncated bodies) with backoff, as Alma's
// classification says (alma/http_policy.hpp: the URLs are Alma's), and prints
//   STATUS BYTES URL
// for every URL in input order (URL with any apikey= redacted; STATUS 000 when no response came),
// then a summary line on stderr. The key, if set, goes in the Authorization header only.
//
// Exit status: 0 every URL answered 2xx; 1 some did not; 2 usage error; 3 stopped early
// (a bad key or the daily threshold: nothing more could succeed).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <marcpipe/alma/http_policy.hpp>
#include <marcpipe/coro/task.hpp>
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/net/http_client.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace net = marcpipe::net;
using marcpipe::coro::task;

namespace {

// A number from `lo` to `hi`, or 0 where `zero` says 0 means "no limit". CLI11's Range lets
// "nan" through (it asks `v < lo || v > hi`, and every comparison with NaN is false), and
// `--rate nan` would turn pacing off; `v >= lo && v <= hi` is false for NaN.
CLI::Validator between(double lo, double hi, bool zero = false) {
    std::ostringstream shown;
    shown << "[" << lo << " - " << hi << "]" << (zero ? " or 0" : "");
    std::string const range = shown.str();
    return {[=](std::string& text) {
                double v = 0;
                bool const fits =
                    CLI::detail::lexical_cast(text, v) && ((zero && v == 0) || (v >= lo && v <= hi));
                return fits ? std::string{} : text + " is not a number in " + range;
            },
            "NUMBER in " + range};
}

struct outcome {
    long status = 0;  // 0: no HTTP response
    std::size_t bytes = 0;
    bool ok = false;
    bool done = false;
};

struct job {
    std::vector<std::string> urls;
    std::vector<outcome> results;
    std::size_t next = 0;
};

// One of --concurrency workers: takes the next URL until none is left.
task<void> worker(net::http_client& http, job& work) {
    while (work.next < work.urls.size() && !http.stopped()) {
        std::size_t i = work.next++;
        net::result r = co_await http.get(work.urls[i]);
        outcome& o = work.results[i];
        if (r) {
            o.status = r->status;
            o.bytes = r->body.size();
            o.ok = http.options().classify(r).kind == net::outcome_class::success;
        } else if (!http.stopped()) {  // after a stop, the summary says why once
            std::cerr << "http-get-many: " << http.scrub(r.error().message) << '\n';
        }
        o.done = true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Fetch URLs from stdin concurrently under a rate limit; print STATUS BYTES URL in input "
        "order."};
    std::size_t concurrency = marcpipe::net::default_max_in_flight;
    double rate = 25;
    int max_attempts = 5;
    double timeout = 120;
    double connect_timeout = 10;
    std::string backend = "poll";
    bool quiet = false;
    std::string output = "-";
    std::string patience = "10m", cacert;
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    app.add_option("-o,--output", output, "where the lines go; - for standard output");
    app.add_option("-c,--concurrency", concurrency, "requests in flight at once")
        ->check(CLI::Range(1, 4096));
    app.add_option("-r,--rate", rate, "most request starts in any rolling second (0 = no limit)")
        ->check(between(0.1, 1000, true));
    app.add_option("--max-attempts", max_attempts, "tries per URL, the first included")
        ->check(CLI::Range(1, 100));
    app.add_option("--timeout", timeout, "seconds one attempt may take in all")
        ->check(between(1, 3600));
    app.add_option("--connect-timeout", connect_timeout, "seconds to connect")
        ->check(between(0.1, 600));
    app.add_option("--backend", backend,
                   "how the loop waits: poll (curl_multi_poll) or epoll (socket-action)")
        ->check(CLI::IsMember({"poll", "epoll"}));
    app.add_flag("-q,--quiet", quiet, "no per-URL lines, only the summary");
    // The network: how long an outage is waited out, and whom TLS trusts.
    app.add_option("--patience", patience,
                   "how long to go on while no call succeeds (network or server down): 90s, 10m, "
                   "1h or seconds; then it stops (exit 3)")
        ->type_name("DURATION")
        ->check([](std::string const& v) { return net::check_patience(v); });
    app.add_option(
           "--cacert", cacert,
           "CA bundle (PEM) to verify TLS with, e.g. the certificate of a proxy that inspects TLS")
        ->check(CLI::ExistingFile);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    marcpipe::marc::output_stream opened{output};
    if (!opened) {
        std::cerr << "http-get-many: " << opened.problem() << '\n';
        return 2;
    }
    std::ostream& lines = opened.stream();

    char const* key = std::getenv("ALMA_API_KEY");
    net::client_options options = marcpipe::alma::http_options(key ? key : "");
    options.rate = rate;
    options.retry.max_attempts = max_attempts;
    options.retry.patience = *net::parse_duration(patience);
    options.loop.ca_file = cacert;
    options.loop.max_in_flight = concurrency;
    options.loop.total_timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
    options.loop.connect_timeout =
        std::chrono::milliseconds(static_cast<long long>(connect_timeout * 1000));
    options.loop.backend = backend == "epoll" ? net::loop_backend::epoll : net::loop_backend::poll;
    net::http_client http(options);

    job work;
    for (std::string line; std::getline(std::cin, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty() && line.front() != '#') work.urls.push_back(line);
    }
    work.results.resize(work.urls.size());

    auto begin = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < concurrency && i < work.urls.size(); ++i)
        http.loop().spawn(worker(http, work));

    // Print each result as soon as every URL before it is done, so output streams in input order.
    std::size_t printed = 0;
    std::string out;
    auto flush_ready = [&] {
        out.clear();
        while (printed < work.urls.size() && work.results[printed].done) {
            outcome const& o = work.results[printed];
            if (!quiet) {
                char status[8];
                std::snprintf(status, sizeof status, "%03ld", o.status);
                out += status;
                out += ' ';
                out += std::to_string(o.bytes);
                out += ' ';
                out += net::redact(work.urls[printed]);
                out += '\n';
            }
            ++printed;
        }
        if (!out.empty()) lines.write(out.data(), static_cast<std::streamsize>(out.size())).flush();
    };
    while (http.loop().pending()) {
        http.loop().run_once(std::chrono::milliseconds(1000));
        flush_ready();
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();

    std::size_t errors = 0, unanswered = 0;
    for (outcome& o : work.results) {
        if (!o.done)
            ++unanswered;
        else if (!o.ok)
            ++errors;
        o.done = true;  // a URL never tried still gets its line, as 000
    }
    flush_ready();
    lines.flush();
    net::client_stats const& s = http.stats();
    std::fprintf(
        stderr,
        "http-get-many: %zu URLs, requests %llu, retries %llu, errors %zu, 429s %llu, %.1f req/s, "
        "elapsed %.3f s, paced %.2f starts/s\n",
        work.urls.size(), static_cast<unsigned long long>(s.requests),
        static_cast<unsigned long long>(s.retries), errors + unanswered,
        static_cast<unsigned long long>(s.slowdowns), elapsed > 0 ? s.requests / elapsed : 0.0,
        elapsed, s.paced_rate());
    if (http.stopped()) {
        std::fprintf(stderr, "http-get-many: stopped early, %zu URLs not fetched: %s\n", unanswered,
                     http.stop_reason().c_str());
        return 3;
    }
    return errors + unanswered == 0 ? 0 : 1;
}
