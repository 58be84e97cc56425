// Errors found in MARC input, and the policy that decides whether reading goes on after one.
//
// Every problem names where it is: the record number (1-based, counting every record met,
// good or bad) and the byte offset in the input where the problem was seen, so a librarian
// can open the file at that spot.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace marcpipe::marc {

enum class error_code {
    truncated_record,      // input ended inside a record
    bad_record_length,     // leader 00-04 not digits, too small, or not where the terminator is
    bad_leader,            // other leader positions that structure depends on (10-11, 12-16, 20-23)
    bad_base_address,      // leader 12-16 not digits or outside the record
    bad_directory,         // directory not a multiple of 12, non-digit entry, entry outside the data
    missing_field_terminator,
    missing_record_terminator,
    bad_indicator,         // a data field shorter than its indicators
    bad_subfield,          // a data field whose data does not start with a subfield delimiter
    record_too_long,       // writer: the record would exceed 99,999 bytes
    field_too_long,        // writer: a field would exceed 9,999 bytes
    invalid_utf8,          // UTF-8 required but the bytes are not
    malformed_xml,         // MARCXML that does not parse
    not_marc,              // XML that is not MARCXML, or bytes that are neither format
    missing_001,           // a record with no 001 where one is needed
    invalid_001,           // a 001 (or a line of an ID list) that is not an MMS ID where one is needed
    repeated_001,          // an MMS ID the input already named
    unreadable_bytes,      // a stretch of input holding no record (see unreadable_run.hpp)
    characters_replaced,   // writer: characters the output format cannot carry were replaced
};

constexpr std::string_view to_string(error_code c) noexcept {
    switch (c) {
        case error_code::truncated_record: return "truncated record";
        case error_code::bad_record_length: return "bad record length";
        case error_code::bad_leader: return "bad leader";
        case error_code::bad_base_address: return "bad base address";
        case error_code::bad_directory: return "bad directory";
        case error_code::missing_field_terminator: return "missing field terminator";
        case error_code::missing_record_terminator: return "missing record terminator";
        case error_code::bad_indicator: return "bad indicators";
        case error_code::bad_subfield: return "bad subfield";
        case error_code::record_too_long: return "record too long";
        case error_code::field_too_long: return "field too long";
        case error_code::invalid_utf8: return "invalid UTF-8";
        case error_code::malformed_xml: return "malformed XML";
        case error_code::not_marc: return "not MARC";
        case error_code::missing_001: return "no 001";
        case error_code::invalid_001: return "001 is not an MMS ID";
        case error_code::repeated_001: return "repeated MMS ID";
        case error_code::unreadable_bytes: return "unreadable bytes";
        case error_code::characters_replaced: return "characters replaced";
    }
    return "unknown error";
}

// What a reader does when a record is bad: stop (throw marc_error), or report it and carry on
// with the next record.
enum class on_error { stop, skip };

struct read_problem {
    error_code code{};
    std::uint64_t record_number = 0;  // 1-based
    std::uint64_t byte_offset = 0;    // from the start of the input
    std::string detail;

    std::string message() const {
        std::string m = "record ";
        m += std::to_string(record_number);
        m += " at byte ";
        m += std::to_string(byte_offset);
        m += ": ";
        m += to_string(code);
        if (!detail.empty()) {
            m += ": ";
            m += detail;
        }
        return m;
    }
};

class marc_error : public std::runtime_error {
public:
    explicit marc_error(read_problem p) : std::runtime_error{p.message()}, problem_{std::move(p)} {}
    read_problem const& problem() const noexcept { return problem_; }

private:
    read_problem problem_;
};

}  // namespace marcpipe::marc
