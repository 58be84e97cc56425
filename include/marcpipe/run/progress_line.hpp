// progress_line: the line a program shows on a terminal while a run goes on — bibs, holdings,
// the request rate, the time left and the errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "marcpipe/pipeline/progress.hpp"

namespace marcpipe::pipeline {

// "1:05" or "2:03:07"; "--:--" for a time not yet known.
inline std::string format_duration(double seconds) {
    if (seconds < 0 || seconds > 1e7) return "--:--";
    auto total = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60,
                      total % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
    return buf;
}

// The progress line, redrawn in place ("\r", erase line). The time left is extrapolated from the
// bibs listed so far by this run (a resumed run skips `first_bib` bibs without asking for them).
class progress_line {
public:
    progress_line(run_progress const& p, std::optional<std::uint64_t> total_bibs,
                  std::uint64_t first_bib)
        : progress_{&p},
          total_{total_bibs},
          first_{first_bib},
          started_{std::chrono::steady_clock::now()} {}

    std::string line(std::uint64_t requests, std::uint64_t errors) const {
        double const elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        run_progress const& p = *progress_;
        std::uint64_t const listed = first_ + p.bibs_listed;
        double const rate = elapsed > 0 ? static_cast<double>(requests) / elapsed : 0;
        double eta = -1;
        if (total_ && p.bibs_listed > 0 && *total_ >= listed)
            eta = static_cast<double>(*total_ - listed) * elapsed /
                  static_cast<double>(p.bibs_listed);
        char text[256];
        std::snprintf(text, sizeof text,
                      "\r\x1b[Kbibs %llu/%s  holdings %llu/%llu  %.1f req/s  ETA %s  errors %llu",
                      static_cast<unsigned long long>(listed),
                      total_ ? std::to_string(*total_).c_str() : "?",
                      static_cast<unsigned long long>(p.holdings_fetched),
                      static_cast<unsigned long long>(p.holdings_listed), rate,
                      format_duration(eta).c_str(), static_cast<unsigned long long>(errors));
        return text;
    }

private:
    run_progress const* progress_;
    std::optional<std::uint64_t> total_;
    std::uint64_t first_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace marcpipe::pipeline
