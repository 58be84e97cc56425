// Where Alma is, the API key, and the URLs of the endpoints the export uses.
#include <marcpipe/alma/client.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support/files.hpp"

namespace alma = marcpipe::alma;

TEST_CASE("each region has its API gateway, China on its own domain", "[alma][client]") {
    CHECK(alma::base_url_for_region("na") == "https://api-na.hosted.exlibrisgroup.com");
    CHECK(alma::base_url_for_region("eu") == "https://api-eu.hosted.exlibrisgroup.com");
    CHECK(alma::base_url_for_region("ap") == "https://api-ap.hosted.exlibrisgroup.com");
    CHECK(alma::base_url_for_region("aps") == "https://api-aps.hosted.exlibrisgroup.com");
    CHECK(alma::base_url_for_region("ca") == "https://api-ca.hosted.exlibrisgroup.com");
    CHECK(alma::base_url_for_region("cn") == "https://api-cn.hosted.exlibrisgroup.com.cn");
    CHECK_FALSE(alma::base_url_for_region("us").has_value());
    CHECK(alma::region_names() == "na, eu, ap, aps, ca, cn");
}

TEST_CASE("endpoint URLs are built under /almaws/v1 whatever the base URL ends with", "[alma][client]") {
    for (char const* base : {"http://127.0.0.1:8080", "http://127.0.0.1:8080/",
                             "http://127.0.0.1:8080/almaws/v1", "http://127.0.0.1:8080/almaws/v1/"}) {
        alma::endpoints e{base};
        CHECK(e.holdings_list("991227840000541") ==
              "http://127.0.0.1:8080/almaws/v1/bibs/991227840000541/holdings");
    }
    alma::endpoints e{"https://api-eu.hosted.exlibrisgroup.com"};
    CHECK(e.holding_record("991227840000541", "224991060000541") ==
          "https://api-eu.hosted.exlibrisgroup.com/almaws/v1/bibs/991227840000541/holdings/224991060000541");
    CHECK(e.bibs_availability(std::vector<std::string>{"991", "992", "993"}) ==
          "https://api-eu.hosted.exlibrisgroup.com/almaws/v1/bibs?mms_id=991,992,993&view=full&expand=p_avail");
}

TEST_CASE("no URL is built for an ID that is not an Alma ID, so it cannot change the path", "[alma][client]") {
    // `..` as a path segment names /almaws/v1/holdings after the client normalises the path,
    // whatever encoding surrounds it: the builders refuse rather than encode.
    alma::endpoints e{"https://api-na.hosted.exlibrisgroup.com"};
    CHECK_THROWS_AS(e.holdings_list("12/../34?x=1 &apikey=y"), std::invalid_argument);
    CHECK_THROWS_AS(e.holdings_list(".."), std::invalid_argument);
    CHECK_THROWS_AS(e.holding_record("991227840000541", ".."), std::invalid_argument);
    CHECK_THROWS_AS(e.holding_record(".", "224991060000541"), std::invalid_argument);
    CHECK_THROWS_AS(e.bibs_availability(std::vector<std::string>{"991", "\xEF\xBB\xBF" "992"}), std::invalid_argument);
}

using marcpipe::testing::scratch_file;

TEST_CASE("the API key comes from the file when one is named, without its newline", "[alma][client]") {
    auto p = scratch_file("key", "  l8xx0123456789abcdef\n");
    CHECK(alma::load_api_key(p.string()) == "l8xx0123456789abcdef");
}

TEST_CASE("the API key comes from ALMA_API_KEY otherwise", "[alma][client]") {
    ::setenv("MARCPIPE_TEST_KEY", "l8xxsecret", 1);
    CHECK(alma::load_api_key(std::nullopt, "MARCPIPE_TEST_KEY") == "l8xxsecret");
    ::unsetenv("MARCPIPE_TEST_KEY");
    CHECK_THROWS_AS(alma::load_api_key(std::nullopt, "MARCPIPE_TEST_KEY"), alma::config_error);
}

TEST_CASE("a bad key file is a configuration error that does not quote the key", "[alma][client]") {
    auto two_lines = scratch_file("key2", "l8xxfirst\nl8xxsecond\n");
    try {
        alma::load_api_key(two_lines.string());
        FAIL("a two-line key file was accepted");
    } catch (alma::config_error const& e) {
        std::string what = e.what();
        CHECK(what.find("l8xxfirst") == std::string::npos);
        CHECK(what.find("more than one line") != std::string::npos);
    }
    auto empty = scratch_file("key3", "\n");
    CHECK_THROWS_AS(alma::load_api_key(empty.string()), alma::config_error);
    CHECK_THROWS_AS(alma::load_api_key(std::string{"/nonexistent/marcpipe/key"}), alma::config_error);
}

TEST_CASE("a key file that is endless, oversized or a directory is a configuration error", "[alma][client]") {
    auto const refused = [](std::string const& path, std::string const& says) {
        CAPTURE(path);
        try {
            alma::load_api_key(path);
            FAIL("accepted");
        } catch (alma::config_error const& e) {
            CHECK_THAT(e.what(), Catch::Contains(says));
        }
    };
    refused("/dev/zero", "more than 4096 bytes");  // read to its end, it grew past 5 GB
    auto const dir = std::filesystem::temp_directory_path();
    refused(dir.string(), "is a directory");        // iostreams threw from inside the read (exit 134)
    auto big = scratch_file("key4", std::string(4097, 'k'));
    refused(big.string(), "more than 4096 bytes");
    auto most = scratch_file("key5", std::string(4096, 'k'));
    CHECK(alma::load_api_key(most.string()).size() == 4096);
}
