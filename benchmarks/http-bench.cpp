// http-bench: http-get-many against curl --parallel on one loopback Alma emulator, then the
// throttled case (25/s threshold, 1 s latency), printed as one table.
//
//   http-bench --emulator PATH --http-get-many PATH [--curl curl] [--requests 8000] [--concurrency
//   64]
//
// Part 1 (unthrottled): the same list of holdings-list URLs is fetched by http-get-many (both
// loop backends: epoll socket-action and curl_multi_poll) and by `curl --parallel
// --parallel-max N`, alternating, several rounds; the median requests/s and CPU seconds (user +
// system of the client process, from wait4) per 1,000 requests are reported.
// Part 2 (throttled): the emulator enforces 25 calls per rolling second and answers after 1 s;
// http-get-many --rate 25 must reach at least 0.97 x 25 requests/s with no 429 at all.
//
// The emulator is started here and stopped at the end; its counters are read with the library's
// own event loop.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <marcpipe/coro/sync_wait.hpp>
#include <marcpipe/net/event_loop.hpp>
#include <pugixml.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
namespace net = marcpipe::net;

namespace {

std::string const key = "l8xx-bench-key";

struct run_stats {
    double seconds = 0;
    double cpu_seconds = 0;
    int exit_code = -1;
};

// Runs argv with stdin/stdout/stderr redirected to files; wall time and the child's CPU time.
run_stats run(std::vector<std::string> argv, std::string const& in, std::string const& out,
              std::string const& err, std::vector<std::string> extra_env = {}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (auto& e : extra_env) env_store.push_back(e);
    std::vector<char*> env;
    for (auto& e : env_store) env.push_back(e.data());
    env.push_back(nullptr);
    pid_t pid = 0;
    auto begin = std::chrono::steady_clock::now();
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0)
        if (errno != EINTR) throw std::runtime_error("wait4 failed");
    run_stats s;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    s.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return s;
}

// The emulator as a child process: started with flags, port read from its first line.
class emulator {
public:
    emulator(std::string const& program, std::vector<std::string> flags, fs::path const& dir) {
        std::string out = (dir / "emulator.out").string();
        std::vector<std::string> argv{program};
        argv.insert(argv.end(), flags.begin(), flags.end());
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0)
            throw std::runtime_error("cannot start the emulator " + program + ": " +
                                     std::strerror(rc));
        std::string const banner = "listening on ";
        for (int i = 0; i < 2000 && base_url_.empty(); ++i) {
            std::ifstream in(out);
            std::string line;
            if (std::getline(in, line) && in.good() && line.rfind(banner, 0) == 0)
                base_url_ = line.substr(banner.size());
            if (base_url_.empty()) ::usleep(10'000);
        }
        if (base_url_.empty()) {
            stop();
            throw std::runtime_error("the emulator did not report its address");
        }
        // It reports its port before its worker threads exist; one answered request means the
        // first timed batch will not queue behind their creation.
        counters();
    }
    emulator(emulator const&) = delete;
    emulator& operator=(emulator const&) = delete;
    ~emulator() { stop(); }
    std::string const& base_url() const { return base_url_; }

    std::map<std::string, long> counters() const {
        net::event_loop loop;
        net::result r = marcpipe::coro::sync_wait(loop.get(base_url_ + "/_emulator/counters"), [&] {
            loop.run_once(std::chrono::milliseconds(100));
        });
        if (!r || r->status != 200) throw std::runtime_error("cannot read the emulator's counters");
        std::map<std::string, long> c;
        std::istringstream lines(r->body);
        std::string name;
        long value = 0;
        while (lines >> name >> value) c[name] = value;
        return c;
    }

private:
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }
    pid_t pid_ = -1;
    std::string base_url_;
};

std::vector<std::string> mms_ids_of_export(std::string const& program, fs::path const& dir,
                                           std::size_t bibs) {
    fs::path xml = dir / "export.xml";
    run_stats s = run({program, "--bibs", std::to_string(bibs), "--write-export", xml.string()},
                      "/dev/null", (dir / "export.out").string(), (dir / "export.err").string());
    if (s.exit_code != 0) throw std::runtime_error("the emulator could not write its bib export");
    pugi::xml_document doc;
    if (!doc.load_file(xml.c_str()))
        throw std::runtime_error("cannot parse the emulator's bib export");
    std::vector<std::string> ids;
    for (pugi::xpath_node n : doc.select_nodes("//*[local-name()='controlfield'][@tag='001']"))
        ids.emplace_back(n.node().text().get());
    if (ids.empty()) throw std::runtime_error("no 001 in the emulator's bib export");
    return ids;
}

void write_lists(std::vector<std::string> const& ids, std::string const& base, std::size_t count,
                 fs::path const& urls, fs::path const& curl_config) {
    std::ofstream u(urls), c(curl_config);
    for (std::size_t i = 0; i < count; ++i) {
        std::string url = base + "/almaws/v1/bibs/" + ids[i % ids.size()] + "/holdings";
        u << url << '\n';
        c << "url = \"" << url << "\"\noutput = \"/dev/null\"\n";
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

std::string read_file(fs::path const& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Benchmark http-get-many against curl --parallel on the loopback Alma emulator"};
    std::string emulator_path, get_many_path, curl_path = "curl";
    std::size_t requests = 8000, concurrency = 64, rounds = 3, throttled_requests = 500;
    app.add_option("--emulator", emulator_path, "the alma-emulator program")->required();
    app.add_option("--http-get-many", get_many_path, "the http-get-many program")->required();
    app.add_option("--curl", curl_path, "the curl program");
    app.add_option("--requests", requests, "GETs per unthrottled run");
    app.add_option("--concurrency", concurrency, "requests in flight (both tools)");
    app.add_option("--rounds", rounds, "runs of each tool (the median is reported)");
    app.add_option("--throttled-requests", throttled_requests,
                   "GETs in the 25/s run (20 s at 500)");
    CLI11_PARSE(app, argc, argv);

    fs::path dir =
        fs::temp_directory_path() / ("marcpipe-http-bench." + std::to_string(::getpid()));
    fs::create_directories(dir);
    int verdict = 0;
    try {
        std::vector<std::string> ids = mms_ids_of_export(emulator_path, dir, 1000);
        std::string const n = std::to_string(concurrency);

        // ---- part 1: unthrottled ------------------------------------------------------------
        {
            emulator alma(emulator_path, {"--bibs", "1000", "--api-key", key, "--threads", "512"},
                          dir);
            write_lists(ids, alma.base_url(), requests, dir / "urls.txt", dir / "curl.cfg");
            struct tool {
                std::string name;
                std::vector<std::string> argv;
                std::vector<double> rps, cpu;
            };
            std::vector<tool> tools{
                {"http-get-many (curl_multi_poll, default)",
                 {get_many_path, "--quiet", "--rate", "0", "--concurrency", n, "--backend", "poll"},
                 {},
                 {}},
                {"http-get-many (epoll socket-action)",
                 {get_many_path, "--quiet", "--rate", "0", "--concurrency", n, "--backend",
                  "epoll"},
                 {},
                 {}},
                {"curl --parallel --parallel-max " + n,
                 {curl_path, "--silent", "--parallel", "--parallel-immediate", "--parallel-max", n,
                  "-H", "Authorization: apikey " + key, "-H", "Accept: application/xml", "--config",
                  (dir / "curl.cfg").string()},
                 {},
                 {}},
            };
            for (std::size_t round = 0; round < rounds; ++round) {
                for (std::size_t k = 0; k < tools.size(); ++k) {
                    tool& t = tools[(k + round) % tools.size()];  // alternate who goes first
                    run_stats s = run(t.argv, (dir / "urls.txt").string(), "/dev/null",
                                      (dir / "tool.err").string(), {"ALMA_API_KEY=" + key});
                    if (s.exit_code > 1)
                        throw std::runtime_error(t.name + " failed (exit " +
                                                 std::to_string(s.exit_code) +
                                                 "): " + read_file(dir / "tool.err"));
                    t.rps.push_back(static_cast<double>(requests) / s.seconds);
                    t.cpu.push_back(s.cpu_seconds * 1000.0 / static_cast<double>(requests));
                }
            }
            auto seen = alma.counters();
            double curl_rps = median(tools.back().rps);
            std::printf(
                "unthrottled: %zu GETs per run, %zu in flight, median of %zu runs, one loopback "
                "emulator\n",
                requests, concurrency, rounds);
            std::printf("  %-40s %10s %18s %14s\n", "client", "req/s", "CPU s / 1000 req",
                        "req/s vs curl");
            for (tool const& t : tools)
                std::printf("  %-40s %10.0f %18.3f %14.2f\n", t.name.c_str(), median(t.rps),
                            median(t.cpu), median(t.rps) / curl_rps);
            std::printf("  (server: %ld requests, %ld unauthorized, %ld key in query)\n",
                        seen["requests"], seen["unauthorized"], seen["key_in_query"]);
            if (median(tools.front().rps) / curl_rps < 1.0) verdict = 1;  // the default backend
        }

        // ---- part 2: throttled --------------------------------------------------------------
        {
            emulator alma(emulator_path,
                          {"--bibs", "1000", "--api-key", key, "--per-second", "25", "--latency-ms",
                           "1000", "--latency-jitter", "0.2"},
                          dir);
            write_lists(ids, alma.base_url(), throttled_requests, dir / "urls.txt",
                        dir / "curl.cfg");
            run_stats s = run({get_many_path, "--quiet", "--rate", "25", "--concurrency", n},
                              (dir / "urls.txt").string(), "/dev/null", (dir / "tool.err").string(),
                              {"ALMA_API_KEY=" + key});
            auto seen = alma.counters();
            std::string summary = read_file(dir / "tool.err");
            // The steady pace: starts per second between the first and the last start, as
            // http-get-many reports it. The whole run's requests / elapsed also pays the last
            // answers' 1 s latency once, which a longer run spreads thinner.
            double paced = 0;
            if (auto at = summary.find("paced "); at != std::string::npos)
                paced = std::atof(summary.c_str() + at + 6);
            double overall = static_cast<double>(throttled_requests) / s.seconds;
            std::printf(
                "throttled: threshold 25/s, latency 1000 ms +-20%%, %zu GETs, --rate 25 "
                "--concurrency %zu\n",
                throttled_requests, concurrency);
            std::printf(
                "  achieved pace %.2f req/s = %.3f x 25 (target >= 0.97); whole run incl. the last "
                "1 s "
                "answers %.2f req/s\n",
                paced, paced / 25.0, overall);
            std::printf("  429s sent: %ld, busiest rolling second at the server: %ld, exit %d\n",
                        seen["sent_429"], seen["max_per_rolling_second"], s.exit_code);
            std::printf("  %s", summary.c_str());
            // Exit 1 is fine: the export has a few bibs deleted since, answered 400 (permanent).
            if (paced < 0.97 * 25 || seen["sent_429"] != 0 || seen["max_per_rolling_second"] > 25 ||
                s.exit_code > 1)
                verdict = 1;
        }
    } catch (std::exception const& e) {
        std::fprintf(stderr, "http-bench: %s\n", e.what());
        verdict = 2;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    std::printf("%s\n", verdict == 0 ? "targets met" : "TARGETS MISSED");
    return verdict;
}
