// Fuzz target for the ISO 2709 reader and writer.
//
// Seed with the files of tests/data/iso2709, e.g.
//   fuzz_iso2709 -max_len=20000 CORPUS_DIR tests/data/iso2709 tests/data/iso2709/mrrc
//
// Beyond "no crash, no sanitizer report", it checks properties the library promises:
// - reading from memory and reading through a source that returns a few bytes per call (the
//   buffered path) give the same records and the same problems;
// - stop and skip agree on the first problem;
// - every record read writes back (from the view and from the record alike) into a record that
//   reads again to the same fields, unless the writer refuses it with record/field too long.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <marcpipe/marc/iso2709.hpp>

namespace marc = marcpipe::marc;

namespace {

// Hands out the input a few bytes at a time, as a pipe might.
class trickle_source : public marc::byte_source {
public:
    explicit trickle_source(std::string_view bytes) : bytes_{bytes} {}
    std::size_t read(char* out, std::size_t n) override {
        std::size_t k = std::min({n, bytes_.size() - pos_, std::size_t{7} + pos_ % 5});
        std::memcpy(out, bytes_.data() + pos_, k);
        pos_ += k;
        return k;
    }
    std::string name() const override { return "trickle"; }

private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

struct outcome {
    std::vector<std::string> records;
    std::vector<std::string> problems;
    std::optional<marc::read_problem> first;
};

outcome read_all(marc::iso2709_reader& reader) {
    outcome o;
    while (auto v = reader.next()) o.records.emplace_back(v->bytes());
    for (auto const& p : reader.problems()) o.problems.push_back(p.message());
    if (!reader.problems().empty()) o.first = reader.problems().front();
    return o;
}

// Stopping throws the first problem met; skipping may report it inside a run of unreadable bytes
// that starts where it was met and names it as the first of the run (unreadable_run.hpp).
bool same_first_problem(marc::read_problem const& skipped, marc::read_problem const& thrown) {
    if (skipped.message() == thrown.message()) return true;
    if (skipped.code != marc::error_code::unreadable_bytes) return false;
    if (skipped.record_number != thrown.record_number || skipped.byte_offset != thrown.byte_offset)
        return false;
    std::string first = "the first: " + std::string{marc::to_string(thrown.code)};
    if (!thrown.detail.empty()) first += ": " + thrown.detail;
    return skipped.detail.find(first + ")") != std::string::npos;
}

void require(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const bytes{reinterpret_cast<char const*>(data), size};

    auto in_memory = marc::iso2709_reader::from_memory(bytes, marc::on_error::skip);
    auto const a = read_all(in_memory);
    marc::iso2709_reader streamed{std::make_unique<trickle_source>(bytes),
                                  marc::reader_options{marc::on_error::skip}};
    auto const b = read_all(streamed);
    require(a.records == b.records);
    require(a.problems == b.problems);

    auto strict = marc::iso2709_reader::from_memory(bytes, marc::on_error::stop);
    try {
        while (strict.next()) {
        }
        require(a.problems.empty());
    } catch (marc::marc_error const& e) {
        require(a.first && same_first_problem(*a.first, e.problem()));
    }

    for (auto const& rec : a.records) {
        marc::record_view view{rec};  // read once, so it must check again
        auto owned = view.to_record();
        for (auto f : view)
            if (!f.is_control())
                for (auto s : f.subfields()) require(s.value().size() < rec.size());
        std::string from_view, from_record;
        std::optional<marc::read_problem> view_replaced, record_replaced;
        try {
            view_replaced = marc::append_iso2709(view, from_view);
            record_replaced = marc::append_iso2709(owned, from_record);
        } catch (marc::marc_error const& e) {
            auto c = e.problem().code;
            require(c == marc::error_code::record_too_long || c == marc::error_code::field_too_long);
            continue;
        }
        // A view is copied as the reader took it; a record's fields follow the writer's rule
        // (replacement.hpp), so they agree when that rule had nothing to replace in the fields.
        if (record_replaced && (!view_replaced || record_replaced->detail != view_replaced->detail)) {
            require(marc::record_view{from_record}.size() == view.size());
            continue;
        }
        require(from_view == from_record);
        require(marc::record_view{from_view}.to_record().fields() == owned.fields());
    }
    return 0;
}
