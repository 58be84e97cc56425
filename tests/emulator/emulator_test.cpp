// Tests of the loopback Alma emulator: the catalogue, the XML it serves against captured Alma
// payloads, the gateway's rules (key, thresholds), faults, counters and the bib export.
#include "catch.hpp"

#include "alma_sets.hpp"
#include "catalogue.hpp"
#include "launcher.hpp"

#include <httplib.h>
#include <pugixml.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace marcpipe::emulator;
namespace fs = std::filesystem;

namespace {

std::string const key = "l7xx-test-key";

// Captured Alma payloads, by path under the test data directory.
fs::path test_data(std::string const& name) {
    char const* dir = std::getenv("MARCPIPE_TEST_DATA");
    REQUIRE(dir != nullptr);
    return fs::path{dir} / name;
}

pugi::xml_document parse_file(fs::path const& p) {
    pugi::xml_document doc;
    auto ok = doc.load_file(p.c_str());
    INFO(p << ": " << ok.description());
    REQUIRE(ok);
    return doc;
}

pugi::xml_document parse(std::string const& body) {
    pugi::xml_document doc;
    auto ok = doc.load_buffer(body.data(), body.size());
    INFO(ok.description() << " in: " << body);
    REQUIRE(ok);
    return doc;
}

// Element paths of a document (attributes as @name), to compare shapes with captured payloads.
void collect_paths(pugi::xml_node n, std::string const& prefix, std::set<std::string>& out) {
    for (auto child : n.children()) {
        if (child.type() != pugi::node_element) continue;
        auto path = prefix + "/" + child.name();
        out.insert(path);
        for (auto a : child.attributes()) out.insert(path + "/@" + a.name());
        collect_paths(child, path, out);
    }
}
std::set<std::string> paths(pugi::xml_document const& doc) {
    std::set<std::string> out;
    collect_paths(doc, "", out);
    return out;
}

httplib::Headers auth() { return {{"Authorization", "apikey " + key}}; }

httplib::Client client(emulator_process const& alma) {
    httplib::Client c{"127.0.0.1", alma.port()};
    c.set_read_timeout(10);
    return c;
}

std::string holdings_path(std::string const& mms_id) {
    return "/almaws/v1/bibs/" + mms_id + "/holdings";
}

marcpipe::marc::record record_from_xml(pugi::xml_node rec) {
    std::vector<marcpipe::marc::field> fields;
    for (auto f : rec.children()) {
        std::string name = f.name();
        if (name == "controlfield") {
            fields.emplace_back(f.attribute("tag").value(), f.text().get());
        } else if (name == "datafield") {
            std::vector<marcpipe::marc::subfield> subs;
            for (auto s : f.children("subfield"))
                subs.emplace_back(s.attribute("code").value()[0], s.text().get());
            fields.emplace_back(f.attribute("tag").value(), f.attribute("ind1").value()[0],
                                f.attribute("ind2").value()[0], std::move(subs));
        }
    }
    return marcpipe::marc::record{rec.child("leader").text().get(), std::move(fields)};
}

// The first bib matching a predicate.
template <class Pred>
std::size_t find_bib(catalogue const& cat, Pred pred) {
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (pred(b)) return b;
    FAIL("no bib in the catalogue has the wanted property");
    return 0;
}

std::string error_code(std::string const& body) {
    return parse(body).select_node("/web_service_result/errorList/error/errorCode").node().text().get();
}

}  // namespace

TEST_CASE("the same seed gives the same catalogue, another seed another one", "[emulator]") {
    catalogue a{7, 500}, b{7, 500}, c{8, 500};
    for (std::size_t i = 0; i < 500; i += 37) {
        CHECK(a.mms_id(i) == b.mms_id(i));
        CHECK(a.holding_ids(i) == b.holding_ids(i));
        for (std::size_t h = 0; h < a.holdings_count(i); ++h)
            CHECK(a.holding_record(i, h) == b.holding_record(i, h));
    }
    std::size_t differing = 0;
    for (std::size_t i = 0; i < 500; ++i) differing += a.mms_id(i) != c.mms_id(i);
    CHECK(differing == 500);
}

TEST_CASE("MMS IDs and holding IDs look like Alma's and lead back to their bib", "[emulator]") {
    catalogue cat{42, 3000};
    for (std::size_t i = 0; i < cat.size(); i += 101) {
        auto id = cat.mms_id(i);
        CHECK(id.size() >= 15);
        CHECK(id.size() <= 18);
        CHECK(id.rfind("99", 0) == 0);
        CHECK(id.substr(id.size() - 4) == cat.institution_code());
        REQUIRE(cat.bib_index(id));
        CHECK(*cat.bib_index(id) == i);
        for (std::size_t h = 0; h < cat.holdings_count(i); ++h) {
            auto hid = cat.holding_id(i, h);
            CHECK(hid.rfind("22", 0) == 0);
            REQUIRE(cat.find_holding(hid));
            CHECK(*cat.find_holding(hid) == holding_position{i, h});
        }
    }
    CHECK_FALSE(cat.bib_index("991234"));
    CHECK_FALSE(cat.bib_index(cat.mms_id(0) + "1"));
    CHECK_FALSE(catalogue(42, 10).bib_index(cat.mms_id(2000)));
    CHECK_FALSE(cat.find_holding("22000000000000000"));
}

TEST_CASE("the catalogue mixes what real holdings look like", "[emulator]") {
    catalogue cat{1, 10000};
    std::size_t holdings = 0, none = 0, many = 0, deleted = 0, with583 = 0, non_ascii = 0,
                bad_ind = 0, dollar = 0, legacy = 0, blank_leader = 0, late005 = 0;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        auto n = cat.holdings_count(b);
        holdings += n;
        none += n == 0;
        many += n > 2;
        deleted += cat.deleted(b);
        for (std::size_t h = 0; h < n; ++h) {
            auto rec = cat.holding_record(b, h);
            with583 += rec.has("583");
            std::string all;
            for (auto const& f : rec.fields()) {
                all += f.value;
                for (auto const& s : f.subfields) all += s.value;
                bad_ind += f.ind1 == 'X';
            }
            non_ascii += std::any_of(all.begin(), all.end(),
                                     [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
            dollar += all.find('$') != std::string::npos;
            legacy += rec.has("001");
            blank_leader += rec.leader().substr(0, 5) == "     ";
            auto const& f = rec.fields();
            auto at = [&](char const* tag) {
                return std::find_if(f.begin(), f.end(), [&](auto const& x) { return x.tag == tag; });
            };
            late005 += at("005") > at("008");
        }
    }
    double mean = static_cast<double>(holdings) / static_cast<double>(cat.size());
    CHECK(mean > 1.2);
    CHECK(mean < 1.45);
    CHECK(none > 500);
    CHECK(many > 300);
    CHECK(deleted > 100);
    CHECK(deleted < 400);
    CHECK(with583 > holdings / 4);
    CHECK(with583 < holdings / 2);
    CHECK(non_ascii > holdings / 10);
    CHECK(bad_ind > 0);
    CHECK(dollar > 0);
    CHECK(legacy > holdings / 3);
    CHECK(blank_leader > holdings / 2);
    CHECK(late005 == holdings);
}

TEST_CASE("the emulator prints its port, answers, and stops with its launcher", "[emulator]") {
    pid_t pid = 0;
    {
        emulator_process alma{{"--bibs", "10"}};
        pid = alma.pid();
        CHECK(alma.port() > 0);
        CHECK(alma.base_url() == "http://127.0.0.1:" + std::to_string(alma.port()));
        auto res = client(alma).Get("/_emulator/counters");
        REQUIRE(res);
        CHECK(res->status == 200);
    }
    CHECK(::kill(pid, 0) != 0);  // reaped: the pid is gone
}

TEST_CASE("the emulator stops when its stdin closes, so it never outlives its parent",
          "[emulator]") {
    emulator_process alma{{"--bibs", "10"}};
    REQUIRE(alma.counters().requests == 0);  // serving, so it has read its stdin and waits
    CHECK_FALSE(alma.exited_within(std::chrono::milliseconds{0}));
    alma.close_stdin();
    CHECK(alma.exited_within(std::chrono::seconds{60}));
}

TEST_CASE("SIGTERM stops the emulator at once, even with calls stalled", "[emulator]") {
    // Several stalled calls, each polling for its client, widen the moment in which a handler
    // could wake during the shutdown; none may be answered.
    constexpr int stalled = 8;
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--fault-rate-stall", "1", "--stall-seconds", "600"}};
    std::atomic<int> answered{0};  // Catch2 assertions belong on the test's own thread
    std::vector<std::thread> callers;
    for (int i = 0; i < stalled; ++i)
        callers.emplace_back([&] {
            auto cli = client(alma);
            cli.set_read_timeout(600);
            if (cli.Get(holdings_path(cat.mms_id(0)))) ++answered;
        });
    REQUIRE(alma.counters_when([](auto const& c) { return c.in_flight == stalled; }).in_flight ==
            stalled);
    auto start = std::chrono::steady_clock::now();
    alma.stop();
    // "At once" is against the stall: the server must not wait for its held calls.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{60});
    for (auto& t : callers) t.join();
    CHECK(answered == 0);
}

TEST_CASE("a bad flag makes the launcher throw instead of hanging", "[emulator]") {
    CHECK_THROWS(emulator_process{{"--no-such-flag"}});
    CHECK_THROWS(emulator_process{{"--connections", "sometimes"}});
}

TEST_CASE("the holdings list has the shape of Alma's and lists every holding", "[emulator]") {
    catalogue cat{3, 200};
    emulator_process alma{{"--seed", "3", "--bibs", "200", "--api-key", key}};
    auto cli = client(alma);
    auto fixture = paths(parse_file(test_data("alma/pulibrary_holdings_list_1holding.xml")));

    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) >= 3; });
    auto res = cli.Get(holdings_path(cat.mms_id(bib)), auth());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type").rfind("application/xml", 0) == 0);
    CHECK(res->has_header("X-Exl-Api-Remaining"));
    auto doc = parse(res->body);
    auto ours = paths(doc);
    for (auto const& p : fixture) {
        // The fixture's bib_data has a few bibliographic extras the holdings workflow never reads.
        if (p.find("bib_data/") != std::string::npos && p.find("mms_id") == std::string::npos &&
            p.find("@link") == std::string::npos)
            continue;
        INFO(p);
        CHECK(ours.count(p) == 1);
    }
    auto holdings = doc.child("holdings");
    CHECK(holdings.attribute("total_record_count").as_ullong() == cat.holdings_count(bib));
    std::vector<std::string> ids;
    for (auto h : holdings.children("holding")) {
        ids.push_back(h.child("holding_id").text().get());
        CHECK(std::string{h.attribute("link").value()} ==
              alma.base_url() + holdings_path(cat.mms_id(bib)) + "/" + ids.back());
    }
    CHECK(ids == cat.listed_holding_ids(bib));
    CHECK(std::string{holdings.child("bib_data").child("mms_id").text().get()} == cat.mms_id(bib));
}

TEST_CASE("a bib without holdings answers total_record_count 0 and no holding", "[emulator]") {
    catalogue cat{3, 200};
    emulator_process alma{{"--seed", "3", "--bibs", "200", "--api-key", key}};
    auto cli = client(alma);
    std::size_t seen = 0;
    for (std::size_t b = 0; b < cat.size() && seen < 6; ++b) {
        if (cat.deleted(b) || cat.holdings_count(b) != 0) continue;
        ++seen;
        auto res = cli.Get(holdings_path(cat.mms_id(b)), auth());
        REQUIRE(res);
        CHECK(res->status == 200);
        auto doc = parse(res->body);
        CHECK(std::string{doc.child("holdings").attribute("total_record_count").value()} == "0");
        CHECK(doc.child("holdings").child("holding").empty());
    }
    CHECK(seen == 6);
}

TEST_CASE("a holding record is the catalogue's record in Alma's <holding> shape", "[emulator]") {
    catalogue cat{5, 300};
    emulator_process alma{{"--seed", "5", "--bibs", "300", "--api-key", key}};
    auto cli = client(alma);
    auto fixture = paths(parse_file(test_data("alma/scriptotek_holding_record.xml")));
    std::size_t checked = 0;
    for (std::size_t b = 0; b < cat.size(); b += 3) {
        if (cat.deleted(b)) continue;
        for (std::size_t h = 0; h < cat.holdings_count(b); ++h) {
            auto res = cli.Get(holdings_path(cat.mms_id(b)) + "/" + cat.holding_id(b, h), auth());
            REQUIRE(res);
            REQUIRE(res->status == 200);
            auto doc = parse(res->body);
            auto ours = paths(doc);
            for (auto const& p : fixture) {
                INFO(p);
                CHECK(ours.count(p) == 1);
            }
            auto holding = doc.child("holding");
            CHECK(std::string{holding.child("holding_id").text().get()} == cat.holding_id(b, h));
            auto rec = holding.child("record");
            CHECK(std::string{rec.attribute("xmlns").value()}.empty());
            CHECK(record_from_xml(rec) == cat.holding_record(b, h));
            ++checked;
        }
    }
    CHECK(checked > 50);
}

TEST_CASE("the bibs call lists AVA fields with $8 = holding ID and skips unknown IDs",
          "[emulator]") {
    catalogue cat{9, 400, 0, 0};
    emulator_process alma{{"--seed", "9", "--bibs", "400", "--api-key", key, "--availability-gaps", "0"}};
    auto cli = client(alma);
    std::vector<std::string> ask;
    std::vector<std::size_t> live;
    std::size_t deleted_asked = 0;
    for (std::size_t b = 0; b < 100; ++b) {
        if (b == 50) {
            ask.push_back("99123456789013811");  // not in the catalogue
            continue;
        }
        ask.push_back(cat.mms_id(b));
        if (cat.deleted(b))
            ++deleted_asked;
        else
            live.push_back(b);
    }
    std::string list;
    for (auto const& id : ask) list += (list.empty() ? "" : ",") + id;
    auto res = cli.Get("/almaws/v1/bibs?mms_id=" + list + "&view=full&expand=p_avail", auth());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto doc = parse(res->body);
    auto bibs = doc.child("bibs");
    CHECK(bibs.attribute("total_record_count").as_ullong() == live.size());
    std::size_t i = 0;
    for (auto bib : bibs.children("bib")) {
        REQUIRE(i < live.size());
        auto b = live[i++];
        CHECK(std::string{bib.child("mms_id").text().get()} == cat.mms_id(b));
        std::vector<std::string> ava;
        for (auto f : bib.child("record").children("datafield"))
            if (std::string{f.attribute("tag").value()} == "AVA")
                ava.push_back(f.find_child_by_attribute("subfield", "code", "8").text().get());
        CHECK(ava == cat.listed_holding_ids(b));
    }
    CHECK(i == live.size());
    INFO("deleted bibs asked for: " << deleted_asked);

    SECTION("no ID known gives Alma's empty list") {
        auto none = cli.Get("/almaws/v1/bibs?mms_id=99123456789013811&view=full&expand=p_avail",
                            auth());
        REQUIRE(none);
        CHECK(none->status == 200);
        CHECK(paths(parse(none->body)) ==
              paths(parse_file(test_data("alma/pulibrary_bibs_empty_total0.xml"))));
    }
    SECTION("more than 100 IDs is refused") {
        auto many = cli.Get("/almaws/v1/bibs?mms_id=" + list + "," + cat.mms_id(200), auth());
        REQUIRE(many);
        CHECK(many->status == 400);
        CHECK(error_code(many->body) == "402203");
    }
}

TEST_CASE("availability has the gaps Alma documents, as the catalogue says", "[emulator]") {
    catalogue cat{9, 400, 0, 0.25};
    emulator_process alma{{"--seed", "9", "--bibs", "400", "--api-key", key, "--availability-gaps", "0.25"}};
    auto cli = client(alma);
    std::string list;
    std::vector<std::size_t> live;
    for (std::size_t b = 100; b < 200; ++b) {
        list += (list.empty() ? "" : ",") + cat.mms_id(b);
        if (!cat.deleted(b)) live.push_back(b);
    }
    auto res = cli.Get("/almaws/v1/bibs?mms_id=" + list + "&view=full&expand=p_avail", auth());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto doc = parse(res->body);
    std::size_t i = 0, temporary = 0, no_items = 0, other = 0, related = 0;
    for (auto bib : doc.child("bibs").children("bib")) {
        REQUIRE(i < live.size());
        auto b = live[i++];
        std::string const mms = cat.mms_id(b);
        std::vector<std::string> own, own_without_id, others, related_ids;
        for (auto f : bib.child("record").children("datafield")) {
            if (std::string{f.attribute("tag").value()} != "AVA") continue;
            std::string const id = f.find_child_by_attribute("subfield", "code", "8").text().get();
            std::string const inst = f.find_child_by_attribute("subfield", "code", "a").text().get();
            std::string const of = f.find_child_by_attribute("subfield", "code", "0").text().get();
            if (of != mms)
                related_ids.push_back(of);
            else if (inst != "01INST_" + cat.institution_code())
                others.push_back(id);
            else if (id.empty())
                own_without_id.push_back(id);
            else
                own.push_back(id);
        }
        auto const ids = cat.holding_ids(b);
        switch (cat.gap(b)) {
            case catalogue::availability_gap::none:
                CHECK(own == cat.listed_holding_ids(b));
                CHECK(own_without_id.empty());
                break;
            case catalogue::availability_gap::temporary_location:
                ++temporary;
                CHECK(own.size() + 1 == ids.size());
                CHECK(own_without_id.size() == 1);
                break;
            case catalogue::availability_gap::no_items:
                ++no_items;
                CHECK(own.empty());
                CHECK(own_without_id.empty());
                break;
        }
        if (cat.other_institution_availability(b)) {
            ++other;
            CHECK(others == std::vector<std::string>{cat.other_institution_holding_id(b), ""});
        } else {
            CHECK(others.empty());
        }
        if (cat.related_record_availability(b)) {
            ++related;
            CHECK(related_ids == std::vector<std::string>{cat.mms_id(b + 1)});
        } else {
            CHECK(related_ids.empty());
        }
        CHECK(cat.availability_vouches(b, true) == (ids.size() > 0 && cat.gap(b) == catalogue::availability_gap::none));
    }
    CHECK(i == live.size());
    // A quarter of the bibs each, drawn: every kind shows up among a hundred.
    CHECK(temporary > 0);
    CHECK(no_items > 0);
    CHECK(other > 0);
    CHECK(related > 0);
    // The gaps change availability only: the holdings list is the same with or without them.
    CHECK(cat.holding_ids(150) == catalogue(9, 400, 0, 0).holding_ids(150));
}

TEST_CASE("unknown, deleted and non-numeric IDs get Alma's 400 errors", "[emulator]") {
    catalogue cat{11, 500};
    emulator_process alma{{"--seed", "11", "--bibs", "500", "--api-key", key}};
    auto cli = client(alma);
    auto fixture = paths(parse_file(test_data("alma-errors/pulibrary_error_402203_invalid_mmsid.xml")));
    auto check_error = [&](std::string const& path, std::string const& code,
                           std::string const& mentions) {
        auto res = cli.Get(path, auth());
        REQUIRE(res);
        CHECK(res->status == 400);
        CHECK(res->has_header("X-Exl-Api-Remaining"));
        auto doc = parse(res->body);
        CHECK(paths(doc) == fixture);
        CHECK(std::string{doc.child("web_service_result").attribute("xmlns").value()} ==
              "http://com/exlibris/urm/general/xmlbeans");
        auto error = doc.select_node("/web_service_result/errorList/error").node();
        CHECK(std::string{error.child("errorCode").text().get()} == code);
        CHECK(std::string{error.child("errorMessage").text().get()}.find(mentions) !=
              std::string::npos);
        CHECK(std::string{error.child("trackingId").text().get()}.rfind("E01-", 0) == 0);
    };
    auto deleted = find_bib(cat, [&](auto b) { return cat.deleted(b); });
    auto other = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto live = find_bib(cat, [&](auto b) { return !cat.deleted(b) && b != other; });

    check_error(holdings_path(cat.mms_id(deleted)), "402203", cat.mms_id(deleted));
    check_error(holdings_path(cat.mms_id(deleted)) + "/" + cat.holding_id(deleted, 0), "402203",
                cat.mms_id(deleted));
    check_error(holdings_path("99123456789013811"), "402203", "99123456789013811");
    check_error(holdings_path("banana"), "402204", "banana");
    check_error(holdings_path(cat.mms_id(live)) + "/" + cat.holding_id(other, 0), "402208",
                cat.holding_id(other, 0));
    check_error(holdings_path(cat.mms_id(live)) + "/22123", "402208", "22123");
}

TEST_CASE("a holding listed but deleted since answers 402208 when fetched", "[emulator]") {
    catalogue cat{13, 400, 0.1};
    CHECK(catalogue(13, 400).deliverable_holdings() > cat.deliverable_holdings());
    emulator_process alma{{"--seed", "13", "--bibs", "400", "--vanished-holdings", "0.1"}};
    auto cli = client(alma);
    std::size_t vanished = 0, fetched = 0;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        if (cat.deleted(b)) continue;
        for (std::size_t h = 0; h < cat.holdings_count(b); ++h) {
            auto res = cli.Get(holdings_path(cat.mms_id(b)) + "/" + cat.holding_id(b, h));
            REQUIRE(res);
            if (cat.vanished(b, h)) {
                ++vanished;
                CHECK(res->status == 400);
                CHECK(error_code(res->body) == "402208");
            } else {
                ++fetched;
                CHECK(res->status == 200);
            }
        }
        if (vanished > 5) break;
    }
    CHECK(vanished > 5);
    CHECK(fetched > vanished);
    // Still listed.
    auto b = find_bib(cat, [&](auto i) {
        for (std::size_t h = 0; h < cat.holdings_count(i); ++h)
            if (!cat.deleted(i) && cat.vanished(i, h)) return true;
        return false;
    });
    auto list = parse(cli.Get(holdings_path(cat.mms_id(b)))->body);
    CHECK(list.child("holdings").attribute("total_record_count").as_ullong() ==
          cat.holdings_count(b));
}

TEST_CASE("the API key is checked in the header and counted when it comes in the query",
          "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--api-key", key}};
    auto cli = client(alma);
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    auto fixture = paths(parse_file(test_data("alma-errors/gateway_error_UNAUTHORIZED.xml")));

    for (auto const& headers : {httplib::Headers{}, httplib::Headers{{"Authorization", "apikey wrong"}},
                                httplib::Headers{{"Authorization", key}}}) {
        auto res = cli.Get(path, headers);
        REQUIRE(res);
        CHECK(res->status == 400);
        CHECK(error_code(res->body) == "UNAUTHORIZED");
        CHECK(paths(parse(res->body)) == fixture);  // the gateway's shape: no trackingId
    }
    CHECK(cli.Get(path, auth())->status == 200);
    CHECK(cli.Get(path + "?apikey=" + key)->status == 200);
    CHECK(cli.Get(path + "?apikey=wrong")->status == 400);

    auto seen = alma.counters();
    CHECK(seen.requests == 6);
    CHECK(seen.unauthorized == 4);
    CHECK(seen.key_in_query == 2);
    CHECK(seen.status(200) == 2);
    CHECK(seen.status(400) == 4);
}

TEST_CASE("past the per-second threshold the gateway answers 429 PER_SECOND_THRESHOLD",
          "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--per-second", "5", "--retry-after", "1"}};
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));

    // Twelve clients, connected beforehand, call at once.
    constexpr int callers = 12;
    std::vector<httplib::Client> clients;
    for (int i = 0; i < callers; ++i) {
        clients.push_back(client(alma));
        clients.back().set_keep_alive(true);
        REQUIRE(clients.back().Get("/_emulator/counters"));
    }
    struct answer {
        bool arrived = false;
        int status = 0;
        std::string body, retry_after;
        bool remaining = false;
    };
    std::vector<answer> answers(callers);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&, i] {
            ++ready;
            while (ready < callers) std::this_thread::yield();
            auto res = clients[static_cast<std::size_t>(i)].Get(path);
            auto& a = answers[static_cast<std::size_t>(i)];
            if (!res) return;
            a = answer{true, res->status, res->body, res->get_header_value("Retry-After"),
                       res->has_header("X-Exl-Api-Remaining")};
        });
    for (auto& t : threads) t.join();
    auto seen = alma.counters();
    // Usually all twelve share one rolling second (then exactly five get through). On a busy
    // machine they may spread wider; the rule still says: in the busiest second, every arrival
    // past the fifth was refused, and the first five of any second got through.
    INFO("busiest rolling second at the server: " << seen.max_per_rolling_second);
    REQUIRE(seen.max_per_rolling_second > 5);

    int ok = 0, refused = 0;
    for (auto const& a : answers) {
        REQUIRE(a.arrived);
        if (a.status == 200) ++ok;
        if (a.status != 429) continue;
        ++refused;
        CHECK(error_code(a.body) == "PER_SECOND_THRESHOLD");
        CHECK(a.retry_after == "1");
        CHECK(a.remaining);
    }
    CHECK(ok + refused == callers);
    CHECK(ok >= 5);
    CHECK(refused >= seen.max_per_rolling_second - 5);
    CHECK(seen.sent_429 == refused);

    // Once the window has moved on, calls get through again.
    std::this_thread::sleep_for(std::chrono::milliseconds{1100});
    CHECK(clients[0].Get(path)->status == 200);
}

TEST_CASE("past the daily threshold every call is refused with DAILY_THRESHOLD", "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--daily", "3"}};
    auto cli = client(alma);
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    std::vector<std::string> remaining;
    for (int i = 0; i < 3; ++i) {
        auto res = cli.Get(path);
        REQUIRE(res);
        CHECK(res->status == 200);
        remaining.push_back(res->get_header_value("X-Exl-Api-Remaining"));
    }
    CHECK(remaining == std::vector<std::string>{"2", "1", "0"});
    auto res = cli.Get(path);
    REQUIRE(res);
    CHECK(res->status == 429);
    CHECK(error_code(res->body) == "DAILY_THRESHOLD");
    CHECK(res->get_header_value("X-Exl-Api-Remaining") == "0");
}

TEST_CASE("counters see concurrent requests and reset to zero", "[emulator]") {
    catalogue cat{1, 50};
    // A latency longer than any test: the calls wait at the server until all eight are there,
    // then turning the latency down lets them go, however slowly this machine started them.
    emulator_process alma{{"--bibs", "50", "--latency-ms", "600000"}};
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&] {
            auto cli = client(alma);
            cli.set_read_timeout(600);
            if (auto res = cli.Get(path); res && res->status == 200) ++ok;
        });
    auto waiting = alma.counters_when([](auto const& c) { return c.in_flight == 8; });
    alma.configure({{"latency-ms", "0"}});
    for (auto& t : clients) t.join();
    CHECK(waiting.in_flight == 8);
    CHECK(ok == 8);
    auto seen = alma.counters();
    CHECK(seen.requests == 8);
    CHECK(seen.max_in_flight == 8);
    CHECK(seen.in_flight == 0);
    CHECK(seen.max_per_rolling_second >= 1);  // all eight in one second only on an idle machine
    CHECK(seen.max_per_rolling_second <= 8);
    CHECK(seen.status(200) == 8);

    CHECK(seen.get("endpoint_holdings_list") == 8);
    CHECK(alma.requests() == std::map<std::string, long>{{path, 8}});

    alma.reset();
    CHECK(alma.requests().empty());
    seen = alma.counters();
    CHECK(seen.requests == 0);
    CHECK(seen.max_in_flight == 0);
    CHECK(seen.status(200) == 0);
}

TEST_CASE("the request log names each resource and the endpoint counters add up", "[emulator]") {
    catalogue cat{2, 80};
    emulator_process alma{{"--seed", "2", "--bibs", "80"}};
    auto cli = client(alma);
    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto list = holdings_path(cat.mms_id(bib));
    auto one = list + "/" + cat.holding_id(bib, 0);
    auto bibs = "/almaws/v1/bibs?mms_id=" + cat.mms_id(bib) + "&view=full&expand=p_avail";
    for (auto const& p : {list, one, one, bibs}) REQUIRE(cli.Get(p));
    auto seen = alma.counters();
    CHECK(seen.get("endpoint_holdings_list") == 1);
    CHECK(seen.get("endpoint_holding") == 2);
    CHECK(seen.get("endpoint_bibs") == 1);
    CHECK(alma.requests() ==
          std::map<std::string, long>{{list, 1},
                                      {one, 2},
                                      {"/almaws/v1/bibs?mms_id=" + cat.mms_id(bib), 1}});
}

TEST_CASE("with --close-rate 1 every answer says Connection: close", "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--close-rate", "1"}};
    auto res = client(alma).Get(holdings_path(cat.mms_id(0)));
    REQUIRE(res);
    CHECK(res->get_header_value("Connection") == "close");
}

TEST_CASE("with --gzip, answers to clients that accept gzip come compressed", "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--gzip"}};
    auto cli = client(alma);
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    auto plain = cli.Get(path);
    REQUIRE(plain);
    CHECK_FALSE(plain->has_header("Content-Encoding"));
    cli.set_decompress(true);
    auto packed = cli.Get(path, httplib::Headers{{"Accept-Encoding", "gzip"}});
    REQUIRE(packed);
    CHECK(packed->get_header_value("Content-Encoding") == "gzip");
    CHECK(packed->body == plain->body);  // httplib inflated it
    CHECK(alma.counters().get("gzip_sent") == 1);
}

TEST_CASE("knobs can be turned while the server runs", "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--fault-rate-503", "1", "--daily", "2"}};
    auto cli = client(alma);
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    CHECK(cli.Get(path)->status == 503);
    CHECK(cli.Get(path)->status == 503);
    CHECK(cli.Get(path)->status == 429);  // daily threshold reached
    alma.configure({{"fault-rate-503", "0"}, {"daily", "0"}});
    CHECK(cli.Get(path)->status == 200);
    alma.configure({{"api-key", key}});
    CHECK(cli.Get(path)->status == 400);
    CHECK(cli.Get(path, auth())->status == 200);
    CHECK_THROWS(alma.configure({{"no-such-knob", "1"}}));
    CHECK_THROWS(alma.configure({{"fault-rate-500", "0.7"}, {"fault-rate-reset", "0.7"}}));
    CHECK_THROWS(alma.configure({{"latency-ms", "fast"}}));
}

TEST_CASE("switched to refuse, the server resets every API call on its own port, then serves again",
          "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50"}};
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    auto kept = client(alma);
    kept.set_keep_alive(true);
    REQUIRE(kept.Get(path)->status == 200);

    alma.configure({{"connections", "refuse"}});
    auto refused = client(alma).Get(path);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() != httplib::Error::Connection);  // connected, then reset: the port is held
    CHECK_FALSE(client(alma).Get(path));
    CHECK_FALSE(kept.Get(path));  // a kept-alive connection meets the same end
    auto seen = alma.counters();  // the control endpoints still answer
    CHECK(seen.get("calls_refused") >= 3);
    CHECK(seen.requests == 1);  // refused calls never reach the gateway

    alma.configure({{"connections", "serve"}});
    CHECK(client(alma).Get(path)->status == 200);
    CHECK(alma.counters().requests == 2);
}

TEST_CASE("switched to drop, a call is held unanswered until its client gives up or the switch goes "
          "back", "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--connections", "drop"}};
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));

    auto impatient = client(alma);
    impatient.set_read_timeout(0, 300'000);
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(impatient.Get(path));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{300});  // held

    std::atomic<bool> answered{false};
    std::thread patient([&] {
        auto cli = client(alma);
        cli.set_read_timeout(600);
        answered = static_cast<bool>(cli.Get(path));
    });
    auto seen = alma.counters_when([](auto const& c) { return c.get("calls_dropped") == 2; });
    CHECK(seen.get("calls_dropped") == 2);
    alma.configure({{"connections", "serve"}});
    patient.join();
    CHECK_FALSE(answered);  // a dropped call stays unanswered
    CHECK(client(alma).Get(path)->status == 200);
    CHECK(alma.counters().requests == 1);
}

TEST_CASE("latency is the mean plus or minus the jitter", "[emulator]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50"}};
    auto cli = client(alma);
    cli.set_keep_alive(true);
    auto path = holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
    auto timed = [&] {
        auto start = std::chrono::steady_clock::now();
        REQUIRE(cli.Get(path));
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    };
    // What a call costs without latency on this machine (sanitizers make it slow).
    double overhead = 0;
    for (int i = 0; i < 3; ++i) overhead = std::max(overhead, timed());

    alma.configure({{"latency-ms", "200"}, {"latency-jitter", "0.5"}});
    for (int i = 0; i < 12; ++i) {
        auto ms = timed();
        INFO("call took " << ms << " ms, overhead " << overhead << " ms");
        CHECK(ms >= 100);  // the server waits at least the mean less the jitter
        // And not far longer: a busy machine may add to a call, never take from it, so the
        // bound leaves a second of room.
        CHECK(ms <= 300 + 2 * overhead + 1000);
    }
    // What the server drew, which no load on this machine can blur.
    auto seen = alma.counters();
    CHECK(seen.get("latency_min_ms") >= 100);
    CHECK(seen.get("latency_max_ms") <= 300);
    CHECK(seen.get("latency_max_ms") - seen.get("latency_min_ms") > 20);  // jittered, not constant
}

TEST_CASE("each fault kind fails the call the way the network or gateway would", "[emulator]") {
    catalogue cat{1, 50};
    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto path = holdings_path(cat.mms_id(bib));

    SECTION("500") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-500", "1"}};
        auto res = client(alma).Get(path);
        REQUIRE(res);
        CHECK(res->status == 500);
        CHECK(res->has_header("X-Exl-Api-Remaining"));
        CHECK(alma.counters().fault("500") == 1);
    }
    SECTION("503") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-503", "1"}};
        auto res = client(alma).Get(path);
        REQUIRE(res);
        CHECK(res->status == 503);
        CHECK(res->has_header("X-Exl-Api-Remaining"));
    }
    SECTION("reset: the connection closes with no answer") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-reset", "1"}};
        auto res = client(alma).Get(path);
        CHECK_FALSE(res);
        auto seen = alma.counters();
        CHECK(seen.fault("reset") == 1);
        CHECK(seen.status(200) == 0);
    }
    SECTION("truncated: fewer bytes than Content-Length, then close") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-truncated", "1"}};
        auto res = client(alma).Get(path);
        CHECK_FALSE(res);
        CHECK(alma.counters().fault("truncated") == 1);
    }
    SECTION("malformed: a 200 whose XML does not parse") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-malformed", "1"}};
        auto cli = client(alma);
        for (int i = 0; i < 10; ++i) {
            auto res = cli.Get(path);
            REQUIRE(res);
            CHECK(res->status == 200);
            pugi::xml_document doc;
            CHECK_FALSE(doc.load_buffer(res->body.data(), res->body.size()));
        }
    }
    SECTION("stall: held until the client gives up") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-stall", "1", "--stall-seconds", "600"}};
        auto cli = client(alma);
        cli.set_read_timeout(0, 500'000);
        auto start = std::chrono::steady_clock::now();
        CHECK_FALSE(cli.Get(path));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{300});  // not the stall
        auto seen = alma.counters_when([](auto const& c) { return c.in_flight == 0; });
        CHECK(seen.fault("stall") == 1);
        CHECK(seen.get("stalls_abandoned") == 1);
        CHECK(seen.in_flight == 0);
    }
    SECTION("stall: answered after the stall when the client waits") {
        emulator_process alma{{"--bibs", "50", "--fault-rate-stall", "1", "--stall-seconds", "0.3"}};
        auto res = client(alma).Get(path);
        REQUIRE(res);
        CHECK(res->status == 200);
    }
}

TEST_CASE("faults are transient: a retried call gets through", "[emulator]") {
    catalogue cat{1, 50};
    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto path = holdings_path(cat.mms_id(bib));
    emulator_process alma{{"--bibs", "50", "--fault-seed", "4", "--fault-rate-500", "0.15",
                           "--fault-rate-503", "0.15", "--fault-rate-reset", "0.15",
                           "--fault-rate-truncated", "0.15", "--fault-rate-malformed", "0.15"}};
    int failures = 0;
    for (int call = 0; call < 20; ++call) {
        bool done = false;
        for (int attempt = 0; attempt < 40 && !done; ++attempt) {
            auto res = client(alma).Get(path);
            pugi::xml_document doc;
            done = res && res->status == 200 && doc.load_buffer(res->body.data(), res->body.size());
            failures += !done;
        }
        CHECK(done);
    }
    CHECK(failures > 10);
    auto seen = alma.counters();
    for (auto kind : {"500", "503", "reset", "truncated", "malformed"}) {
        INFO(kind);
        CHECK(seen.fault(kind) > 0);
    }
}

TEST_CASE("the bib export holds every bib, deleted ones included", "[emulator]") {
    catalogue cat{21, 120};
    auto dir = fs::temp_directory_path() / ("emulator-export-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto run = [&](fs::path const& out) {
        auto cmd = default_emulator_path() + " --seed 21 --bibs 120 --write-export '" +
                   out.string() + "'";
        return std::system(cmd.c_str());
    };

    SECTION("MARC21: one ISO 2709 record per bib with 001 = MMS ID") {
        auto out = dir / "bibs.mrc";
        REQUIRE(run(out) == 0);
        std::ifstream in{out, std::ios::binary};
        std::string data{std::istreambuf_iterator<char>{in}, {}};
        std::size_t offset = 0, n = 0;
        while (offset < data.size()) {
            auto length = std::stoul(data.substr(offset, 5));
            REQUIRE(offset + length <= data.size());
            auto rec = data.substr(offset, length);
            CHECK(rec.back() == '\x1D');
            CHECK(rec[9] == 'a');
            auto base = std::stoul(rec.substr(12, 5));
            CHECK(rec.substr(24, 3) == "001");
            auto len001 = std::stoul(rec.substr(27, 4));
            CHECK(rec.substr(base, len001 - 1) == cat.mms_id(n));
            offset += length;
            ++n;
        }
        CHECK(n == cat.size());
    }
    SECTION("MARCXML: a collection with the same records") {
        auto out = dir / "bibs.xml";
        REQUIRE(run(out) == 0);
        auto doc = parse_file(out);
        std::size_t n = 0;
        for (auto rec : doc.child("collection").children("record")) {
            CHECK(std::string{rec.find_child_by_attribute("controlfield", "tag", "001").text().get()} ==
                  cat.mms_id(n));
            CHECK(record_from_xml(rec) == cat.bib_record(n));
            ++n;
        }
        CHECK(n == cat.size());
    }
    fs::remove_all(dir);
}

namespace {

// 256 keep-alive clients hammering one resource for `seconds`; returns the answers.
long load(emulator_process const& alma, std::string const& path, int connections, double seconds,
          long& failures) {
    std::atomic<long> ok{0}, bad{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int i = 0; i < connections; ++i)
        clients.emplace_back([&] {
            auto cli = client(alma);
            cli.set_keep_alive(true);
            while (!stop) {
                auto res = cli.Get(path);
                ++(res && res->status == 200 ? ok : bad);
            }
        });
    std::this_thread::sleep_for(std::chrono::duration<double>{seconds});
    stop = true;
    for (auto& t : clients) t.join();
    failures = bad;
    return ok;
}

// Processor time a process has used (user and system), from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
    std::string stat{std::istreambuf_iterator<char>{in}, {}};
    // Fields after the command name, which is in parentheses and may hold spaces.
    std::istringstream fields{stat.substr(stat.rfind(')') + 2)};
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
        if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("the emulator serves 256 connections at once and thousands of requests a second",
          "[emulator][slow]") {
    catalogue cat{1, 1000};
    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto path = holdings_path(cat.mms_id(bib)) + "/" + cat.holding_id(bib, 0);
    long failures = 0;

    SECTION("unthrottled: at least 2,000 requests per second of its processor time") {
        // Counted against the server's own processor time, not the clock: on a busy machine the
        // server waits for a core, which says nothing about what it costs per request.
        emulator_process alma{{"--bibs", "1000"}};
        auto cpu_before = cpu_seconds(alma.pid());
        auto start = std::chrono::steady_clock::now();
        auto answered = load(alma, path, 256, 2.0, failures);
        std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        auto cpu = cpu_seconds(alma.pid()) - cpu_before;
        WARN("256 connections: " << answered / elapsed.count() << " requests/s, "
                                 << answered / cpu << " per processor second");
        CHECK(failures == 0);
        REQUIRE(cpu > 0);
        CHECK(static_cast<double>(answered) / cpu >= 2000);  // the emulator is always optimised
        CHECK(alma.counters().get("client_ports") == 256);  // every connection kept alive
    }
    SECTION("with latency: all 256 requests are in flight at once") {
        // Held at the server until all 256 are there, then let go: no start-up race to win.
        emulator_process alma{{"--bibs", "1000", "--latency-ms", "600000"}};
        std::atomic<long> ok{0};
        std::vector<std::thread> clients;
        for (int i = 0; i < 256; ++i)
            clients.emplace_back([&] {
                auto cli = client(alma);
                cli.set_read_timeout(600);
                if (auto res = cli.Get(path); res && res->status == 200) ++ok;
            });
        auto waiting = alma.counters_when([](auto const& c) { return c.in_flight == 256; },
                                          std::chrono::seconds{300});
        alma.configure({{"latency-ms", "0"}});
        for (auto& t : clients) t.join();
        CHECK(waiting.in_flight == 256);
        CHECK(ok == 256);
        CHECK(alma.counters().max_in_flight == 256);
    }
}

TEST_CASE("the ID knobs: a list naming '..', a record carrying another holding's ID, and paths Alma does not have",
          "[emulator][ids]") {
    catalogue cat{1, 50};
    emulator_process alma{{"--bibs", "50", "--bad-holding-id-every", "1", "--other-holding-record-every", "1"}};
    auto cli = client(alma);
    auto const b = find_bib(cat, [&](auto i) { return !cat.deleted(i) && cat.holdings_count(i) > 0; });
    auto const n = cat.holdings_count(b);

    auto list = cli.Get(holdings_path(cat.mms_id(b)));
    REQUIRE(list);
    auto doc = parse(list->body);
    CHECK(doc.child("holdings").attribute("total_record_count").as_ullong() == n + 1);
    std::vector<std::string> listed;
    for (auto h : doc.child("holdings").children("holding")) listed.push_back(h.child_value("holding_id"));
    REQUIRE(listed.size() == n + 1);
    CHECK(listed.back() == "..");

    auto bulk = cli.Get("/almaws/v1/bibs?mms_id=" + cat.mms_id(b) + "&view=full&expand=p_avail");
    REQUIRE(bulk);
    CHECK(bulk->body.find(R"(<subfield code="8">..</subfield>)") != std::string::npos);

    auto record = cli.Get(holdings_path(cat.mms_id(b)) + "/" + cat.holding_id(b, 0));
    REQUIRE(record);
    CHECK(parse(record->body).child("holding").child_value("holding_id") == cat.holding_id(b, 1));

    CHECK(alma.counters().get("unknown_paths") == 0);
    cli.Get(holdings_path(cat.mms_id(b)) + "/..");  // httplib sends the path as it is
    cli.Get("/almaws/v1/holdings");
    cli.Get(holdings_path("abc"));
    CHECK(alma.counters().get("unknown_paths") == 3);
}

TEST_CASE("sets: content type, members page by page with total_record_count, Alma's errors", "[emulator][sets]") {
    catalogue cat{9, 400};
    emulator_process alma{{"--seed", "9", "--bibs", "400", "--api-key", key}};
    auto cli = client(alma);
    std::string const prefix = "/almaws/v1/conf/sets/";
    for (auto [kind, content] : {std::pair{set_kind::all_bibs, "BIB_MMS"}, std::pair{set_kind::slice, "BIB_MMS"},
                                 std::pair{set_kind::items, "ITEM"}}) {
        auto const id = set_id(cat, kind);
        auto res = cli.Get(prefix + id, auth());
        REQUIRE(res);
        REQUIRE(res->status == 200);
        auto doc = parse(res->body);
        CHECK(std::string{doc.child("set").child_value("id")} == id);
        CHECK(std::string{doc.child("set").child_value("content")} == content);
        // Paging through 37 at a time gives every member once, in order.
        std::vector<std::string> seen;
        std::size_t total = 0;
        for (std::size_t offset = 0;; offset += 37) {
            auto page = cli.Get(prefix + id + "/members?limit=37&offset=" + std::to_string(offset), auth());
            REQUIRE(page);
            REQUIRE(page->status == 200);
            auto members = parse(page->body);
            total = members.child("members").attribute("total_record_count").as_ullong();
            std::size_t n = 0;
            for (auto m : members.child("members").children("member")) {
                seen.push_back(m.child_value("id"));
                ++n;
            }
            if (n < 37) break;
        }
        CHECK(total == seen.size());
        CHECK(seen == set_mms_ids(cat, kind));
        CHECK(std::string{doc.child("set").child_value("number_of_members")} == std::to_string(total));
    }
    // All live bibs; every third from the second, deleted ones too.
    std::vector<std::string> live, thirds;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        if (!cat.deleted(b)) live.push_back(cat.mms_id(b));
        if (b % 3 == 1) thirds.push_back(cat.mms_id(b));
    }
    CHECK(set_mms_ids(cat, set_kind::all_bibs) == live);
    CHECK(set_mms_ids(cat, set_kind::slice) == thirds);

    auto too_many = cli.Get(prefix + set_id(cat, set_kind::all_bibs) + "/members?limit=101", auth());
    REQUIRE(too_many);
    CHECK(too_many->status == 400);
    auto missing = cli.Get(prefix + "11999999999990000", auth());
    REQUIRE(missing);
    CHECK(missing->status == 400);
    CHECK(missing->body.find("<errorCode>402459</errorCode>") != std::string::npos);
    CHECK(missing->body.find("<trackingId>") != std::string::npos);
    auto const counted = alma.counters();
    CHECK(counted.get("endpoint_set") == 4);
    CHECK(counted.get("endpoint_set_members") > 12);
}

TEST_CASE("a few holdings with a 583 fail WEST's checks, most pass", "[emulator][west]") {
    catalogue cat{1, 10000};
    std::size_t with583 = 0, flawed = 0;
    std::map<catalogue::west_flaw, std::size_t> kinds;
    for (std::size_t b = 0; b < cat.size(); ++b)
        for (std::size_t h = 0; h < cat.holdings_count(b); ++h) {
            if (!cat.has_583(b, h)) continue;
            ++with583;
            auto const f = cat.flaw(b, h);
            if (f == catalogue::west_flaw::none) continue;
            ++flawed;
            ++kinds[f];
            auto rec = cat.holding_record(b, h);
            auto const* f583 = rec.find("583");
            auto const* f852 = rec.find("852");
            switch (f) {
                case catalogue::west_flaw::no_583f: CHECK(f583->subfield_value('f').empty()); break;
                case catalogue::west_flaw::bad_583c: CHECK(f583->subfield_value('c') == "2019-01-15"); break;
                case catalogue::west_flaw::d_before_c: CHECK(f583->subfield_value('d') < f583->subfield_value('c')); break;
                case catalogue::west_flaw::no_852b: CHECK(f852->subfield_value('b').empty()); break;
                default: break;
            }
        }
    CHECK(flawed > with583 / 50);
    CHECK(flawed < with583 / 12);
    CHECK(kinds.size() == 4);
}
