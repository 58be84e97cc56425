// west-holdings and the day's calls: bulk mode on availability with gaps, --dry-run's estimate
// against the emulator's catalogue, --keep-calls and the share of the day's calls kept.
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/net/event_loop.hpp>

#include <alma_sets.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "catch.hpp"
#include "dry_run_output.hpp"
#include "reference_tool.hpp"
#include "west_program.hpp"

using marcpipe::testing::dry_run_value;
using namespace west_test;

// ---- bulk mode's gaps and the daily quota ---------------------------------------------------

namespace {


// Calls a run makes in list mode for the catalogue's first `n` bibs: one list call per bib, one
// call per holding of each live bib.
long list_mode_calls(catalogue const& cat, std::size_t n) {
    long calls = 0;
    for (std::size_t b = 0; b < n; ++b) calls += 1 + (cat.deleted(b) ? 0 : static_cast<long>(cat.holdings_count(b)));
    return calls;
}

}  // namespace

TEST_CASE("bulk mode on availability with gaps gives list mode's bytes with fewer calls", "[programs][west][bulk]") {
    std::size_t const bibs = 400;
    west_setting s{"west-bulk-gaps", bibs, {"--availability-gaps", "0.1"}};
    // The gaps this test is about are all there (and without an institution code, availability
    // vouches for nothing).
    REQUIRE(s.cat.bibs_availability_leaves_open(true) < s.cat.bibs_availability_leaves_open(false));
    std::size_t temporary = 0, no_items = 0, related = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        temporary += s.cat.gap(b) == catalogue::availability_gap::temporary_location;
        no_items += s.cat.gap(b) == catalogue::availability_gap::no_items;
        related += s.cat.related_record_availability(b).has_value();
    }
    REQUIRE(temporary > 0);
    REQUIRE(no_items > 0);
    REQUIRE(related > 0);
    auto west_run = [&](std::string const& out, std::vector<std::string> more) {
        auto args = s.args({"-o", out, "--errors", out + ".csv", "export.mrc"});
        args.insert(args.end(), more.begin(), more.end());
        s.server.reset();
        auto r = run(west, args, env_with_key(), s.dir, out);
        INFO(r.err);
        CHECK(r.status == 1);  // the deleted bibs
        CHECK(report_mms_ids(slurp(s.dir / (out + ".csv"))) == deleted_ids(s.cat));
        return std::make_pair(r, s.server.counters().requests);
    };
    auto [list, list_calls] = west_run("list.mrc", {});
    auto [bulk, bulk_calls] = west_run("bulk.mrc", {"--holdings-source", "bibs"});
    auto [own, own_calls] = west_run("own.mrc", {"--holdings-source", "bibs", "--institution",
                                                 s.cat.availability_institution()});

    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "list.mrc") == "");
    CHECK(slurp(s.dir / "bulk.mrc") == slurp(s.dir / "list.mrc"));
    CHECK(slurp(s.dir / "own.mrc") == slurp(s.dir / "list.mrc"));
    long const holdings = static_cast<long>(s.cat.deliverable_holdings());
    long const groups = static_cast<long>((bibs + 99) / 100);
    CHECK(list_calls == static_cast<long>(bibs) + holdings);
    CHECK(bulk_calls == groups + static_cast<long>(s.cat.bulk_mode_lists(false)) + holdings);
    CHECK(own_calls == groups + static_cast<long>(s.cat.bulk_mode_lists(true)) + holdings);
    // Without --institution no AVA can say it is this institution's: bulk mode saves calls only with it.
    CHECK(own_calls < list_calls);
    CHECK(bulk.err.find(std::to_string(s.cat.bulk_mode_lists(false)) +
                        " bibs asked for their holdings list") != std::string::npos);
    CHECK(own.err.find(std::to_string(s.cat.bulk_mode_lists(true)) +
                       " bibs asked for their holdings list") != std::string::npos);
    CHECK(list.err.find("asked for their holdings list") == std::string::npos);
    std::printf(
        "bulk vs list on a catalogue with gaps (%zu bibs, %ld holdings): list %ld calls, bibs %ld "
        "calls "
        "(%zu bibs listed), bibs --institution %ld calls (%zu listed)\n",
        bibs, holdings, list_calls, bulk_calls, s.cat.bibs_availability_leaves_open(false),
        own_calls, s.cat.bibs_availability_leaves_open(true));
}

TEST_CASE("--dry-run estimates the calls of a run from availability alone", "[programs][west][quota]") {
    std::size_t const bibs = 250;
    long const daily = 100'000;
    auto gaps = GENERATE(std::string{"0"}, std::string{"0.1"});
    INFO("--availability-gaps " << gaps);
    west_setting s{
        "west-dry-run", bibs, {"--availability-gaps", gaps, "--daily", std::to_string(daily)}};
    // With the institution, whose AVA the estimate may take for the run's holdings.
    std::vector<std::string> const base{"--base-url",    s.server.base_url(),
                                        "--rate",        "1000",
                                        "--institution", s.cat.availability_institution(),
                                        "export.mrc"};
    auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), base.begin(), base.end());
        return more;
    };

    auto dry = run(west, with({"--dry-run"}), env_with_key(), s.dir, "dry");
    INFO(dry.out << dry.err);
    CHECK(dry.status == 0);
    long const groups = static_cast<long>((bibs + 99) / 100);
    auto seen = s.server.counters();
    CHECK(seen.requests == groups);
    CHECK(seen.get("endpoint_bibs") == groups);
    CHECK(dry_run_value(dry.out, "bibs") == static_cast<long>(bibs));
    CHECK(dry_run_value(dry.out, "bibs Alma no longer knows") ==
          static_cast<long>(deleted_ids(s.cat).size()));
    CHECK(dry_run_value(dry.out, "bibs whose availability cannot vouch for their holdings") ==
          static_cast<long>(s.cat.bibs_availability_leaves_open(true)));
    CHECK(dry_run_value(dry.out, "calls left today") == daily - groups);
    CHECK(dry_run_value(dry.out, "calls to keep") == (daily - groups + 9) / 10);
    long const list_estimate = dry_run_value(dry.out, "calls a full run needs, --holdings-source list");
    long const bulk_estimate = dry_run_value(dry.out, "calls a full run needs, --holdings-source bibs");

    s.server.reset();
    auto list = run(west, with({"-o", "list.mrc"}), env_with_key(), s.dir, "list");
    CHECK(list.status == 1);
    long const list_calls = s.server.counters().requests;
    s.server.reset();
    auto bulk = run(west, with({"-o", "bulk.mrc", "--holdings-source", "bibs"}), env_with_key(),
                    s.dir, "bulk");
    CHECK(bulk.status == 1);
    long const bulk_calls = s.server.counters().requests;
    CHECK(list_calls == list_mode_calls(s.cat, bibs));
    if (gaps == "0") {
        // Every holding has an AVA with $8: the only bibs left open have no holdings at all,
        // whose cost the estimate knows.
        CHECK(list_estimate == list_calls);
        CHECK(bulk_estimate == bulk_calls);
    } else {
        CHECK(list_estimate < list_calls);  // holdings availability cannot see are missing from it
        CHECK(bulk_estimate < bulk_calls);
    }
    CHECK(list_estimate <= list_calls);
    CHECK(bulk_estimate <= bulk_calls);
    std::printf("--dry-run (gaps %s): estimate list %ld / bibs %ld calls; the runs made list %ld / bibs %ld\n",
                gaps.c_str(), list_estimate, bulk_estimate, list_calls, bulk_calls);
}

TEST_CASE("--dry-run with --west from a list counts the calls for the bibs' records", "[programs][west][quota][west-preset]") {
    // No availability gaps: the estimate is exact, so it must equal the calls the run makes.
    std::size_t const bibs = 250;
    west_setting s{"west-dry-run-list", bibs, {"--availability-gaps", "0"}, export_as::none};
    write_id_list(s.cat, s.dir / "ids.txt");
    auto dry = west_preset_run(
        s.server, s.dir, "dry",
        {"--dry-run", "--institution", s.cat.availability_institution(), "ids.txt"});
    INFO(dry.out << dry.err);
    CHECK(dry.status == 0);
    long const estimate = dry_run_value(dry.out, "calls a full run needs, --holdings-source list");
    s.server.reset();
    auto full = west_preset_run(s.server, s.dir, "full", {"ids.txt"});
    INFO(full.err);
    CHECK(full.status == 1);
    long const made = s.server.counters().requests;
    // The records: one call per 100 bibs, on top of what a run without --west makes.
    CHECK(made == list_mode_calls(s.cat, bibs) + static_cast<long>((bibs + 99) / 100));
    CHECK(estimate == made);
}

TEST_CASE("--dry-run exits 3 and says how many bibs fit when today's calls do not suffice", "[programs][west][quota]") {
    std::size_t const bibs = 250;
    long const daily = 300;
    west_setting s{
        "west-dry-run-short", bibs, {"--availability-gaps", "0", "--daily", std::to_string(daily)}};
    auto dry = run(west,
                   {"--base-url", s.server.base_url(), "--dry-run", "--institution",
                    s.cat.availability_institution(), "export.mrc"},
                   env_with_key(), s.dir);
    INFO(dry.out << dry.err);
    CHECK(dry.status == 3);
    long const left = daily - 3;
    long const budget = left - (left + 9) / 10;
    std::size_t fit = 0;
    while (fit < bibs && list_mode_calls(s.cat, fit + 1) <= budget) ++fit;
    CHECK(dry.out.find("the first " + std::to_string(fit) + " of " + std::to_string(bibs) + " bibs would fit") !=
          std::string::npos);
    CHECK(s.server.counters().get("daily_threshold") == 0);

    auto enough = run(west,
                      {"--base-url", s.server.base_url(), "--dry-run", "--keep-calls", "0",
                       "--holdings-source", "bibs", "--institution",
                       s.cat.availability_institution(), "--max-attempts", "1", "export.mrc"},
                      env_with_key(), s.dir, "enough");
    INFO(enough.out << enough.err);
    // Bulk mode needs a call per 100 bibs, a holdings list for each bib whose availability cannot
    // vouch for its holdings (here: the bibs without holdings) and for each bib the bulk answer
    // leaves out (the deleted ones), and one per holding: more than the 294 calls left.
    long const bulk_needed = static_cast<long>((bibs + 99) / 100 + s.cat.bulk_mode_lists(true) +
                                               s.cat.deliverable_holdings());
    CHECK(dry_run_value(enough.out, "calls a full run needs, --holdings-source bibs") == bulk_needed);
    CHECK(bulk_needed > daily - 6);
    CHECK(enough.status == 3);
}

TEST_CASE("--keep-calls stops the run before the day's last calls, and --resume finishes it", "[programs][west][quota][resume]") {
    std::size_t const bibs = 200;
    // The day's calls are set below, before each run.
    west_setting s{"west-keep-calls", bibs, {"--latency-ms", "5"}};
    long const needed = list_mode_calls(s.cat, bibs);
    long const daily = needed / 2 + 60;  // half the run fits, and the 60 calls to keep
    long const keep = 60;
    std::vector<std::string> args{"--base-url", s.server.base_url(), "--rate",
                                  "1000",       "--concurrency",     "8",
                                  "-o",         "out.mrc",           "--errors",
                                  "errors.csv", "--keep-calls",      std::to_string(keep),
                                  "export.mrc"};

    // An undisturbed run, for the bytes to compare with.
    fs::create_directory(s.dir / "whole");
    fs::copy_file(s.dir / "export.mrc", s.dir / "whole" / "export.mrc");
    s.server.configure({{"daily", "0"}});
    auto whole = run(west, args, env_with_key(), s.dir / "whole", "whole");
    REQUIRE(whole.status == 1);

    s.server.configure({{"daily", std::to_string(daily)}});
    s.server.reset();
    auto first = run(west, args, env_with_key(), s.dir, "first");
    INFO(first.err);
    CHECK(first.status == 3);
    auto seen = s.server.counters();
    CHECK(seen.get("daily_threshold") == 0);
    CHECK(seen.get("daily_used") <= daily - keep);
    CHECK(seen.get("daily_used") >= daily - keep - 8 - 1);  // it went as far as the floor allows
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK(first.err.find("day rolls over") != std::string::npos);
    CHECK(first.err.find("bibs finished and saved") != std::string::npos);
    CHECK(fs::exists(s.dir / "out.mrc.journal"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc"));

    // Alma's day rolls over: the quota is back.
    s.server.configure({{"daily", std::to_string(10 * needed)}});
    s.server.reset();
    args.push_back("--resume");
    auto last = run(west, args, env_with_key(), s.dir, "last");
    INFO(last.err);
    CHECK(last.status == 1);
    CHECK(s.server.counters().get("daily_threshold") == 0);
    CHECK(slurp(s.dir / "out.mrc") == slurp(s.dir / "whole" / "out.mrc"));
    CHECK(report_mms_ids(slurp(s.dir / "errors.csv")) ==
          report_mms_ids(slurp(s.dir / "whole" / "errors.csv")));
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    std::printf("--keep-calls %ld with %ld calls a day: stopped after %ld calls, no DAILY_THRESHOLD; --resume "
                "finished\n",
                keep, daily, seen.get("daily_used"));
}

TEST_CASE("without --keep-calls a tenth of the day's calls is kept", "[programs][west][quota]") {
    std::size_t const bibs = 120;
    west_setting s{"west-keep-default", bibs};
    long const daily = list_mode_calls(s.cat, bibs) / 2;
    s.server.configure({{"daily", std::to_string(daily)}});
    auto r = run(west, s.args({"--concurrency", "8", "-o", "out.mrc", "export.mrc"}),
                 env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 3);
    auto seen = s.server.counters();
    CHECK(seen.get("daily_threshold") == 0);
    // A tenth of what the first answer said was left; up to 8 calls (--concurrency, within the
    // first second's 1000) may have been counted before it.
    long const kept_least = (daily - 8 + 9) / 10, kept_most = (daily + 9) / 10;
    CHECK(seen.get("daily_used") <= daily - kept_least);
    CHECK(seen.get("daily_used") >= daily - kept_most - 8 - 1);
}
