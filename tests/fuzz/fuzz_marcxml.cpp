// libFuzzer target for the MARCXML reader: any bytes, read in both error policies, must give
// records or reported problems, never a crash, a leak or a hang; and every record read must
// come back unchanged through the writer.
//
//   CXX=clang++ meson setup build-fuzz -Dfuzzing=true -Dtests=false -Dexamples=false -Dtools=false
//   ninja -C build-fuzz tests/fuzz/fuzz_marcxml
//   build-fuzz/tests/fuzz/fuzz_marcxml -dict=tests/fuzz/marcxml.dict CORPUS tests/data/marcxml
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <marcpipe/marc/marcxml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace marc = marcpipe::marc;

namespace {

// Writes a record and reads it back: what the reader accepted, the writer must carry exactly
// (the leader says UTF-8 afterwards), unless the writer had to replace something.
// A record with a tag the writer cannot carry is left out whole (replacement.hpp): then the
// output holds no part of it.
void check_round_trip(marc::record const& r) {
    std::string xml;
    marc::marcxml_writer w{xml};
    std::size_t replaced = 0;
    try {
        replaced = w.write(r);
    } catch (marc::marc_error const&) {
        bool const bad_tag = std::ranges::any_of(
            r.fields(), [](auto const& f) { return !marc::is_writable_tag(f.tag); });
        if (!bad_tag) __builtin_trap();
        w.finish();
        auto back = marc::marcxml_reader::from_memory(xml);
        if (back.next()) __builtin_trap();
        return;
    }
    w.finish();
    auto back = marc::marcxml_reader::from_memory(xml);
    auto again = back.next();
    if (!again || back.next()) __builtin_trap();
    if (replaced != 0) return;
    auto expected = r;
    expected.leader()[9] = 'a';
    if (!(*again == expected)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const input{reinterpret_cast<char const*>(data), size};

    // Lenient: every record or problem, up to the end.
    marc::marcxml_reader::options skip;
    skip.policy = marc::on_error::skip;
    std::uint64_t problems = 0;
    skip.on_problem = [&](marc::read_problem const& p) {
        ++problems;
        if (p.record_number == 0 || p.byte_offset > size) __builtin_trap();
    };
    std::vector<marc::record> lenient;
    auto reader = marc::marcxml_reader::from_memory(input, skip);
    while (auto r = reader.next()) lenient.push_back(std::move(*r));
    for (auto const& r : lenient) check_round_trip(r);

    // Strict: the same records, with each problem thrown instead of reported.
    std::vector<marc::record> strict;
    auto stopping = marc::marcxml_reader::from_memory(input);
    std::uint64_t thrown = 0;
    for (int guard = 0; guard < 100000; ++guard) {
        try {
            auto r = stopping.next();
            if (!r) break;
            strict.push_back(std::move(*r));
        } catch (marc::marc_error const& e) {
            ++thrown;
            if (e.problem().byte_offset > size) __builtin_trap();
        }
    }
    // Lenient reading reports a stretch where no record was found as one problem
    // (unreadable_run.hpp); strict reading throws each problem met in it.
    if (strict != lenient || thrown < problems || (thrown == 0) != (problems == 0)) __builtin_trap();
    return 0;
}
