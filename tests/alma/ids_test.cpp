// The rule an MMS ID or holding ID must meet before it goes into a request path.
#include <marcpipe/alma/ids.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "catch.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace ids_test {

namespace alma = marcpipe::alma;

TEST_CASE("an Alma ID is 1 to 19 ASCII digits, and nothing that could change a path", "[alma][ids]") {
    // Expected values written by hand: real IDs from Alma's answers, the edges of the length
    // limit, and what a hostile export, list or server puts where an ID belongs.
    auto [id, valid] = GENERATE(table<std::string, bool>({
        {"991227840000541", true},       // an MMS ID from a real holdings list (15 digits)
        {"990006312214702204", true},    // the longest seen in real answers (18)
        {"22264001610001234", true},     // a holding ID (17)
        {"1", true},                     // the shortest
        {"1234567890123456789", true},   // 19 digits: the most a 64-bit ID has
        {"12345678901234567890", false}, // 20
        {"", false},
        {".", false},
        {"..", false},
        {"../x", false},
        {"abc", false},
        {"99123/holdings", false},
        {"991?apikey=x", false},
        {" 991234560001234", false},     // blanks are the reader's to remove, not the rule's
        {"991234560001234\r", false},
        {"\xEF\xBB\xBF" "991234560001234", false},  // a byte order mark
        {"99%2E%2E", false},
        {"-991", false},
        {"+991", false},
        {"9\xD9\xA1", false},            // an Arabic-Indic digit is not an ASCII digit
        {std::string("99\0" "1", 4), false},
    }));
    CAPTURE(id);
    CHECK(alma::is_valid_id(id) == valid);
    CHECK(alma::id_number(id).has_value() == valid);
}

TEST_CASE("a valid ID's number is the one its digits spell, so 0991 and 991 are one bib", "[alma][ids]") {
    auto [id, number] = GENERATE(table<std::string, std::uint64_t>({
        {"991", 991},
        {"0991", 991},
        {"991227840000541", 991227840000541ULL},
        {"9999999999999999999", 9999999999999999999ULL},
        {"0", 0},
    }));
    CAPTURE(id);
    CHECK(alma::id_number(id) == std::optional<std::uint64_t>{number});
}

TEST_CASE("an invalid ID is shown escaped and cut, so a message stays one readable line", "[alma][ids]") {
    CHECK(alma::quoted_id("..") == "\"..\"");
    CHECK(alma::quoted_id("\xEF\xBB\xBF" "99\x1B[2J") == "\"\\xEF\\xBB\\xBF99\\x1B[2J\"");
    CHECK(alma::quoted_id(std::string(50, '7')) == "\"" + std::string(40, '7') + "\" (its first 40 bytes)");
    CHECK(alma::invalid_id_message("holding ID", "..") == "holding ID \"..\" is not an Alma ID (1 to 19 digits)");
}

}  // namespace ids_test
