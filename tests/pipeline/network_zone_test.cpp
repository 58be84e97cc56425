// Bulk mode against a Network Zone key: the availability of every bib also shows another member
// institution's holding. Whatever the run knows of its own institution, the output and the
// report are list mode's, and --dry-run's figures hold; what is expected comes from the
// emulator's catalogue.
#include <catalogue.hpp>

#include <algorithm>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "dry_run_output.hpp"
#include "program.hpp"
#include "west_setting.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace network_zone_test {

using marcpipe::emulator::catalogue;
using marcpipe::testing::dry_run_value;
using marcpipe::testing::run;
using marcpipe::testing::slurp;
using marcpipe::testing::west_setting;

namespace {

std::string const west = MARCPIPE_WEST_HOLDINGS;

std::vector<std::string> env() { return {std::string{"ALMA_API_KEY="} + marcpipe::testing::test_api_key}; }

// The MMS ID and holding ID of each row of the report (its second and third columns, which
// hold digits only). The other columns name the call that found the problem, which differs
// between the modes for a deleted bib.
std::vector<std::string> report_rows(std::string const& csv) {
    std::vector<std::string> rows;
    std::istringstream in{csv};
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        auto const mms = line.find(',') + 1;
        auto const holding = line.find(',', mms) + 1;
        rows.push_back(line.substr(mms, line.find(',', holding) - mms));
    }
    return rows;
}

}  // namespace

TEST_CASE("bulk mode with a Network Zone key writes list mode's holdings, with or without --institution",
          "[programs][west][bulk][network-zone]") {
    std::size_t const bibs = 364;
    double const gaps = 0.1;
    catalogue const cat{marcpipe::testing::test_seed, bibs, 0, gaps, true};
    west_setting s{"west-network-zone", bibs, {"--availability-gaps", "0.1", "--network-zone"}};
    // Bibs whose own holdings show no AVA, so that another institution's is all their availability
    // names: the bibs a run that took that AVA for its own would lose.
    std::size_t only_other = 0, holdings = 0, live = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (cat.deleted(b)) continue;
        ++live;
        holdings += cat.holdings_count(b);
        only_other += cat.holdings_count(b) > 0 && cat.gap(b) == catalogue::availability_gap::no_items;
    }
    REQUIRE(only_other > 0);

    auto west_run = [&](std::string const& name, std::vector<std::string> more) {
        more.insert(more.end(), {"-o", name + ".mrc", "--errors", name + ".csv", "export.mrc"});
        s.server.reset();
        auto r = run(west, s.args(more), env(), s.dir, name);
        INFO(name << ": " << r.err);
        CHECK(r.status == s.clean_status());
        return s.server.counters().requests;
    };
    long const list_calls = west_run("list", {});
    long const bulk_calls = west_run("bulk", {"--holdings-source", "bibs"});
    long const own_calls =
        west_run("own", {"--holdings-source", "bibs", "--institution", cat.availability_institution()});

    // The records each output holds, and whether its bytes are list mode's.
    auto records = [](std::string const& mrc) { return std::count(mrc.begin(), mrc.end(), '\x1d'); };
    std::string const list = slurp(s.dir / "list.mrc");
    std::string const bulk = slurp(s.dir / "bulk.mrc"), own = slurp(s.dir / "own.mrc");
    CHECK(records(bulk) == records(list));
    CHECK(records(own) == records(list));
    CHECK((bulk == list));
    CHECK((own == list));
    CHECK(report_rows(slurp(s.dir / "bulk.csv")) == report_rows(slurp(s.dir / "list.csv")));
    CHECK(report_rows(slurp(s.dir / "own.csv")) == report_rows(slurp(s.dir / "list.csv")));
    long const groups = static_cast<long>((bibs + 99) / 100);
    CHECK(list_calls == static_cast<long>(bibs + holdings));
    // Without --institution no AVA can say whose holding it is: every live bib gets its list, and
    // so does every bib the bulk answer leaves out (a deleted one answers 402203).
    CHECK(bulk_calls == groups + static_cast<long>(cat.bulk_mode_lists(false) + holdings));
    CHECK(bulk_calls == groups + static_cast<long>(bibs + holdings));
    CHECK(own_calls == groups + static_cast<long>(cat.bulk_mode_lists(true) + holdings));

    // --dry-run: the bibs left open, and lower bounds that hold.
    auto dry = [&](std::string const& name, std::vector<std::string> more) {
        more.insert(more.end(), {"--dry-run", "export.mrc"});
        auto r = run(west, s.args(more), env(), s.dir, name);
        INFO(name << ": " << r.out << r.err);
        CHECK(r.status == 0);
        return r.out;
    };
    std::string const plain = dry("dry", {"--holdings-source", "bibs"});
    CHECK(dry_run_value(plain, "bibs whose availability cannot vouch for their holdings") ==
          static_cast<long>(cat.bibs_availability_leaves_open(false)));
    CHECK(dry_run_value(plain, "holdings found") <= static_cast<long>(holdings));
    CHECK(dry_run_value(plain, "calls a full run needs, --holdings-source list") <= list_calls);
    CHECK(dry_run_value(plain, "calls a full run needs, --holdings-source bibs") <= bulk_calls);
    std::string const own_dry = dry("dry-own", {"--holdings-source", "bibs", "--institution", cat.availability_institution()});
    CHECK(dry_run_value(own_dry, "bibs whose availability cannot vouch for their holdings") ==
          static_cast<long>(cat.bibs_availability_leaves_open(true)));
    CHECK(dry_run_value(own_dry, "holdings found") <= static_cast<long>(holdings));
    CHECK(dry_run_value(own_dry, "calls a full run needs, --holdings-source list") <= list_calls);
    CHECK(dry_run_value(own_dry, "calls a full run needs, --holdings-source bibs") <= own_calls);
}

}  // namespace network_zone_test
