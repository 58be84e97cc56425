// marc-bench: times the MARC programs against yaz-marcdump and dd on the same inputs, and prints
// one Markdown table: MB/s, records/s, peak RSS, and the ratio against each peer.
//
//   marc-bench --mms-ids PATH --marc-convert PATH [--yaz yaz-marcdump] [--runs 3]
//              MARC21 MARCXML [MARC21 MARCXML ...]
//
// Each pair of inputs holds the same records, as ISO 2709 and as MARCXML; give pairs of several
// sizes to show that peak memory does not grow with the input. Speed is reported for the
// largest pair; peak RSS for every pair.
//
// Tasks, each against the peer that does the same work:
//   MMS IDs (every record's structure checked)  mms-ids MARC21            yaz-marcdump -n MARC21
//   MARC21 -> MARCXML                           marc-convert --to marcxml yaz-marcdump -o marcxml
//   MARCXML -> MARC21                           marc-convert --to marc21  yaz-marcdump -i marcxml
//   -o marc read bandwidth                              dd bs=1M (the ceiling for any reader)
//
// Fairness: the inputs are read once first so that every program reads them from the page cache;
// every program writes to /dev/null; the programs run interleaved (ours, peer, ours, peer, ...)
// round after round, so a burst of load from elsewhere hits both sides alike, and the best of
// the rounds counts. Wall time is what the ratios use; CPU time (user + system, from wait4) is
// shown beside it because it moves less when the machine is busy. Peak RSS is the program's own
// high-water mark (VmHWM, read as it exits; see run()), the largest seen over the rounds.
//
// Before timing anything, the records of each input are counted with the library's readers in
// strict mode: a broken input, or a pair whose two files do not hold the same number of
// records, stops the benchmark, since its figures would mean nothing.
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <marcpipe/marc/iso2709_reader.hpp>
#include <marcpipe/marc/marcxml_reader.hpp>
#include <marcpipe/marc/record.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace marc = marcpipe::marc;

namespace {

struct input_pair {
    std::string marc21, marcxml;
    std::uint64_t marc21_bytes = 0, marcxml_bytes = 0;
    std::uint64_t records = 0;
};

// One program run as a task on one input, and the best of its rounds.
struct measurement {
    std::string task;
    std::string program;  // as shown in the table
    std::vector<std::string> argv;
    std::size_t input = 0;  // index into the input pairs
    std::uint64_t bytes = 0;
    bool ours = false;
    int peer = -1;     // index of the measurement it is compared with
    int ceiling = -1;  // index of dd reading the same file
    double best_wall = std::numeric_limits<double>::infinity();
    double cpu_at_best = 0;
    long peak_rss_kb = 0;
    int failures = 0;
    int last_status = 0;
};

std::uint64_t file_size(std::string const& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot stat " + path);
    return static_cast<std::uint64_t>(st.st_size);
}

// Reads a file once so that every program then finds it in the page cache.
void warm(std::string const& path) {
    marc::file_source in{path};
    auto buffer = std::make_unique<char[]>(1 << 20);
    while (in.read(buffer.get(), 1 << 20) != 0) {
    }
}

std::uint64_t count_marc21(std::string const& path) {
    auto reader = marc::iso2709_reader::from_file(path);  // strict: a broken record throws
    std::uint64_t n = 0;
    while (reader.next()) ++n;
    return n;
}

std::uint64_t count_marcxml(std::string const& path) {
    auto reader = marc::marcxml_reader::from_file(path);  // strict: a broken record throws
    marc::record r;
    std::uint64_t n = 0;
    while (reader.read(r)) ++n;
    return n;
}

std::string load_average() {
    std::ifstream in{"/proc/loadavg"};
    std::string one, five, fifteen;
    if (!(in >> one >> five >> fifteen)) return "unknown";
    return one + " " + five + " " + fifteen;
}

struct run_result {
    double wall = 0, cpu = 0;
    long rss_kb = 0;
    int status = 0;  // exit status, or 128 + signal
    bool traced = false;
};

// The peak resident set of a stopped process, from /proc (VmHWM, in KiB); 0 if unreadable.
long vm_hwm_kb(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmHWM:")) return std::atol(line.c_str() + 6);
    return 0;
}

// Runs argv with standard input and output on /dev/null; standard error stays ours, so a
// complaint from any program shows.
//
// Peak RSS: wait4's ru_maxrss also counts the pages the child had before exec (a copy of this
// process), so a small program would seem to need as much memory as the benchmark itself. So
// the child is traced, stopped as it exits (PTRACE_O_TRACEEXIT, before its memory is freed),
// and its VmHWM read then: the high-water mark of the program alone. Nothing else is traced,
// so the program runs at full speed. Where tracing is refused, ru_maxrss is used.
run_result run(std::vector<std::string> const& argv) {
    std::vector<char*> args;
    for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    auto const start = std::chrono::steady_clock::now();
    pid_t const pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        int const null_in = ::open("/dev/null", O_RDONLY);
        int const null_out = ::open("/dev/null", O_WRONLY);
        if (null_in < 0 || null_out < 0 || ::dup2(null_in, 0) < 0 || ::dup2(null_out, 1) < 0)
            ::_exit(126);
        ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);  // if refused, the child just runs
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "marc-bench: cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    run_result r;
    int status = 0;
    rusage usage{};
    for (;;) {
        if (::wait4(pid, &status, 0, &usage) < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "wait4");
        }
        if (!WIFSTOPPED(status)) break;
        int forward = 0;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
            r.rss_kb = vm_hwm_kb(pid);
        } else if (WSTOPSIG(status) == SIGTRAP && !r.traced) {
            // The stop after exec: from here on, stop once more at exit only.
            r.traced = true;
            ::ptrace(PTRACE_SETOPTIONS, pid, nullptr,
                     reinterpret_cast<void*>(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
        } else {
            forward = WSTOPSIG(status);  // a signal meant for the program
        }
        ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(forward)));
    }
    auto const stop = std::chrono::steady_clock::now();
    r.wall = std::chrono::duration<double>(stop - start).count();
    auto seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    r.cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    if (r.rss_kb == 0) r.rss_kb = usage.ru_maxrss;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string fixed(double v, int decimals) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(decimals);
    s << v;
    return s.str();
}

// 1234567 -> "1,234,567"
std::string grouped(std::uint64_t v) {
    std::string digits = std::to_string(v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string megabytes(std::uint64_t bytes) { return fixed(static_cast<double>(bytes) / 1e6, 0); }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Times mms-ids and marc-convert against yaz-marcdump and dd; prints a Markdown "
        "table."};
    std::string mms_ids, marc_convert, yaz = "yaz-marcdump", dd = "dd";
    int runs = 3;
    std::vector<std::string> files;
    app.add_option("--mms-ids", mms_ids, "the mms-ids program")->required();
    app.add_option("--marc-convert", marc_convert, "the marc-convert program")->required();
    app.add_option("--yaz", yaz, "yaz-marcdump")->capture_default_str();
    app.add_option("--dd", dd, "dd")->capture_default_str();
    app.add_option("--runs", runs, "rounds; the best of them counts")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    app.add_option("inputs", files,
                   "pairs of files holding the same records: MARC21 MARCXML [MARC21 MARCXML ...]")
        ->required();
    try {
        app.parse(argc, argv);
        if (files.size() % 2 != 0)
            throw CLI::ValidationError("inputs", "give the inputs as MARC21 MARCXML pairs");
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    std::vector<input_pair> inputs;
    try {
        for (std::size_t i = 0; i < files.size(); i += 2) {
            input_pair p;
            p.marc21 = files[i];
            p.marcxml = files[i + 1];
            p.marc21_bytes = file_size(p.marc21);
            p.marcxml_bytes = file_size(p.marcxml);
            warm(p.marc21);
            warm(p.marcxml);
            p.records = count_marc21(p.marc21);
            std::uint64_t const xml_records = count_marcxml(p.marcxml);
            if (xml_records != p.records) {
                std::cerr << "marc-bench: " << p.marc21 << " holds " << p.records << " records, "
                          << p.marcxml << " holds " << xml_records << ": not the same records\n";
                return 2;
            }
            inputs.push_back(std::move(p));
        }
    } catch (marc::marc_error const& e) {
        std::cerr << "marc-bench: an input is not clean MARC, figures would mean nothing: "
                  << e.what() << '\n';
        return 2;
    } catch (std::exception const& e) {
        std::cerr << "marc-bench: " << e.what() << '\n';
        return 2;
    }
    // Speed is shown for the largest input, memory for all of them.
    std::size_t const main_input =
        static_cast<std::size_t>(std::max_element(inputs.begin(), inputs.end(),
                                                  [](auto const& a, auto const& b) {
                                                      return a.marc21_bytes < b.marc21_bytes;
                                                  }) -
                                 inputs.begin());

    std::vector<measurement> ms;
    auto add = [&](std::size_t in, std::string task, std::string program,
                   std::vector<std::string> args, std::uint64_t bytes, bool ours) {
        measurement m;
        m.task = std::move(task);
        m.program = std::move(program);
        m.argv = std::move(args);
        m.input = in;
        m.bytes = bytes;
        m.ours = ours;
        ms.push_back(std::move(m));
        return static_cast<int>(ms.size() - 1);
    };
    // Our program then its peer, task by task; dd first as the ceiling.
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        auto const& p = inputs[i];
        int const dd_marc21 = add(i, "read MARC21 (ceiling)", "`dd bs=1M`",
                                  {dd, "if=" + p.marc21, "of=/dev/null", "bs=1M", "status=none"},
                                  p.marc21_bytes, false);
        int const dd_marcxml = add(i, "read MARCXML (ceiling)", "`dd bs=1M`",
                                   {dd, "if=" + p.marcxml, "of=/dev/null", "bs=1M", "status=none"},
                                   p.marcxml_bytes, false);
        struct pair_spec {
            std::string task, ours_name;
            std::vector<std::string> ours_argv;
            std::string peer_name;
            std::vector<std::string> peer_argv;
            std::uint64_t bytes;
            int ceiling;
        };
        std::vector<pair_spec> const specs = {
            {"MMS IDs, full structural checks",
             "`mms-ids`",
             {mms_ids, p.marc21},
             "`yaz-marcdump -n`",
             {yaz, "-n", p.marc21},
             p.marc21_bytes,
             dd_marc21},
            {"MARC21 → MARCXML",
             "`marc-convert --to marcxml`",
             {marc_convert, p.marc21, "-o", "-", "--to", "marcxml"},
             "`yaz-marcdump -o marcxml`",
             {yaz, "-o", "marcxml", p.marc21},
             p.marc21_bytes,
             dd_marc21},
            {"MARCXML → MARC21",
             "`marc-convert --to marc21`",
             {marc_convert, p.marcxml, "-o", "-", "--to", "marc21"},
             "`yaz-marcdump -i marcxml -o marc`",
             {yaz, "-i", "marcxml", "-o", "marc", p.marcxml},
             p.marcxml_bytes,
             dd_marcxml},
        };
        for (auto const& s : specs) {
            int const o = add(i, s.task, s.ours_name, s.ours_argv, s.bytes, true);
            int const q = add(i, s.task, s.peer_name, s.peer_argv, s.bytes, false);
            ms[static_cast<std::size_t>(o)].peer = q;
            ms[static_cast<std::size_t>(o)].ceiling = s.ceiling;
            ms[static_cast<std::size_t>(q)].ceiling = s.ceiling;
        }
    }

    std::string const load_before = load_average();
    for (int round = 0; round < runs; ++round) {
        for (auto& m : ms) {
            run_result const r = run(m.argv);
            if (r.status != 0) {
                ++m.failures;
                m.last_status = r.status;
            }
            if (r.wall < m.best_wall) {
                m.best_wall = r.wall;
                m.cpu_at_best = r.cpu;
            }
            m.peak_rss_kb = std::max(m.peak_rss_kb, r.rss_kb);
        }
    }
    std::string const load_after = load_average();

    auto const& big = inputs[main_input];
    std::time_t const now = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::cout << "marc-bench, " << when << ", " << ::sysconf(_SC_NPROCESSORS_ONLN)
              << " CPUs, load average " << load_before << " before, " << load_after << " after\n\n";
    std::cout << "Input: " << grouped(big.records) << " records, MARC21 "
              << megabytes(big.marc21_bytes) << " MB, MARCXML " << megabytes(big.marcxml_bytes)
              << " MB (MB = 10^6 bytes). Best of " << runs
              << " interleaved rounds; output to /dev/null; inputs in the page cache.\n\n";

    std::cout << "| task | program | MB/s | records/s | wall s | CPU s | peak RSS, MiB (";
    for (std::size_t i = 0; i < inputs.size(); ++i)
        std::cout << (i == 0 ? "" : " / ") << megabytes(inputs[i].marc21_bytes);
    std::cout << " MB input) | vs yaz (wall) | vs yaz (CPU) | share of `dd` |\n";
    std::cout << "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n";
    auto rss_cells = [&](measurement const& m) {
        std::string cells;
        for (auto const& other : ms)
            if (other.task == m.task && other.program == m.program) {
                if (!cells.empty()) cells += " / ";
                cells += fixed(static_cast<double>(other.peak_rss_kb) / 1024.0, 1);
            }
        return cells;
    };
    bool any_failure = false;
    for (auto const& m : ms) {
        if (m.input != main_input) continue;
        double const mbs = static_cast<double>(m.bytes) / 1e6 / m.best_wall;
        bool const is_dd = m.task.starts_with("read ");
        std::string const rps = is_dd ? ""
                                      : grouped(static_cast<std::uint64_t>(
                                            static_cast<double>(big.records) / m.best_wall));
        std::string vs_wall, vs_cpu;
        if (m.peer >= 0) {
            auto const& q = ms[static_cast<std::size_t>(m.peer)];
            vs_wall = "**" + fixed(q.best_wall / m.best_wall, 1) + "×**";
            vs_cpu = fixed(q.cpu_at_best / m.cpu_at_best, 1) + "×";
        }
        // The share of the read bandwidth: how close to reading the file and nothing else.
        std::string share;
        if (m.ceiling >= 0)
            share =
                fixed(100 * ms[static_cast<std::size_t>(m.ceiling)].best_wall / m.best_wall, 0) +
                " %";
        std::cout << "| " << m.task << " | " << m.program << " | " << fixed(mbs, 0) << " | " << rps
                  << " | " << fixed(m.best_wall, 3) << " | " << fixed(m.cpu_at_best, 3) << " | "
                  << rss_cells(m) << " | " << vs_wall << " | " << vs_cpu << " | " << share
                  << " |\n";
    }
    for (auto const& m : ms)
        if (m.failures != 0) {
            any_failure = true;
            std::cout << "\nFAILED: " << m.program << " on input " << m.input + 1 << " exited with "
                      << m.last_status << " in " << m.failures << " of " << runs << " rounds";
        }
    if (any_failure) std::cout << '\n';

    // The targets, and where each of our programs stands against its read ceiling.
    std::cout << '\n';
    struct target {
        std::string task;
        double at_least;
    };
    double const rss_limit_mib = 32;
    bool all_met = !any_failure;
    for (auto const& t : {target{"MMS IDs, full structural checks", 5},
                          target{"MARC21 → MARCXML", 3}, target{"MARCXML → MARC21", 2}}) {
        for (auto const& m : ms) {
            if (m.input != main_input || !m.ours || m.task != t.task) continue;
            double const ratio = ms[static_cast<std::size_t>(m.peer)].best_wall / m.best_wall;
            bool const met = ratio >= t.at_least;
            all_met = all_met && met;
            std::cout << "- " << t.task << ": " << fixed(ratio, 1) << "× yaz-marcdump, target "
                      << t.at_least << "×: " << (met ? "met" : "MISSED") << '\n';
        }
    }
    long worst_kb = 0;
    for (auto const& m : ms)
        if (m.ours) worst_kb = std::max(worst_kb, m.peak_rss_kb);
    bool const rss_met = static_cast<double>(worst_kb) / 1024.0 <= rss_limit_mib;
    all_met = all_met && rss_met;
    std::cout << "- peak RSS of our programs, any input: " << fixed(worst_kb / 1024.0, 1)
              << " MiB, limit " << rss_limit_mib << " MiB: " << (rss_met ? "met" : "MISSED")
              << '\n';
    return all_met ? 0 : 1;
}
