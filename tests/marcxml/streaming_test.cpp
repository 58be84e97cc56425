// marcxml_reader streams: a collection of 100,000 records, produced on demand by the stream the
// reader pulls from, is read record by record while only a bounded window of it exists.
#include <algorithm>
#include <cstdint>
#include <istream>
#include <marcpipe/marc/marcxml.hpp>
#include <streambuf>
#include <string>
#include <vector>

#include "catch.hpp"

namespace marc = marcpipe::marc;

namespace {

// A MARCXML collection that is written only as the reader asks for more: each underflow makes
// the next record. It counts how many records it has made so far.
class generated_collection : public std::streambuf {
public:
    // Every `comment_every`th record holds a comment, every `bad_every`th has no leader.
    explicit generated_collection(std::uint64_t records, std::uint64_t comment_every = 0,
                                  std::uint64_t bad_every = 0)
        : total_{records}, comment_every_{comment_every}, bad_every_{bad_every} {
        chunk_ =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<marc:collection xmlns:marc=\"http://www.loc.gov/MARC21/slim\">\n";
        setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    }
    std::uint64_t records_made() const noexcept { return made_; }
    std::uint64_t bytes_made() const noexcept { return bytes_; }
    // Where each record without a leader starts in the stream.
    std::vector<std::uint64_t> const& bad_offsets() const noexcept { return bad_offsets_; }

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        bytes_ += chunk_.size();
        if (made_ == total_) {
            if (closed_) return traits_type::eof();
            chunk_ = "</marc:collection>\n";
            closed_ = true;
        } else {
            ++made_;
            std::string const id = std::to_string(made_);
            bool const comment = comment_every_ && made_ % comment_every_ == 0;
            bool const bad = bad_every_ && made_ % bad_every_ == 0;
            if (bad) bad_offsets_.push_back(bytes_ + 2);
            chunk_ = std::string{"  <marc:record>\n"} +
                     (bad ? "" : "    <marc:leader>00000nx  a2200000un 4500</marc:leader>\n") +
                     (comment ? "    <!-- checked </marc:record> -->\n" : "") +
                     "    <marc:controlfield tag=\"001\">" + id +
                     "</marc:controlfield>\n"
                     "    <marc:controlfield tag=\"004\">99" +
                     id +
                     "</marc:controlfield>\n"
                     "    <marc:datafield tag=\"852\" ind1=\"0\" ind2=\" \">\n"
                     "      <marc:subfield code=\"b\">MAIN</marc:subfield>\n"
                     "      <marc:subfield code=\"h\">QA76.73 &amp; copy " +
                     id +
                     "</marc:subfield>\n"
                     "    </marc:datafield>\n"
                     "    <marc:datafield tag=\"583\" ind1=\"1\" ind2=\" \">\n"
                     "      <marc:subfield code=\"a\">committed to retain</marc:subfield>\n"
                     "      <marc:subfield code=\"f\">WEST</marc:subfield>\n"
                     "    </marc:datafield>\n"
                     "  </marc:record>\n";
        }
        setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
        return traits_type::to_int_type(*gptr());
    }

private:
    std::uint64_t total_;
    std::uint64_t comment_every_ = 0;
    std::uint64_t bad_every_ = 0;
    std::uint64_t made_ = 0;
    std::vector<std::uint64_t> bad_offsets_;
    std::uint64_t bytes_ = 0;
    bool closed_ = false;
    std::string chunk_;
};

}  // namespace

TEST_CASE("a collection of 100,000 records streams through a bounded window", "[marcxml]") {
    constexpr std::uint64_t total = 100'000;
    generated_collection source{total};
    std::istream in{&source};
    auto reader = marc::marcxml_reader::from_stream(in);

    std::uint64_t n = 0;
    std::uint64_t most_ahead = 0;
    std::string out;
    marc::marcxml_writer writer{out};
    bool all_match = true;
    marc::record rec;
    marc::record const* r = &rec;
    while (reader.read(rec)) {
        ++n;
        all_match = all_match && r->control_value("001") == std::to_string(n) &&
                    r->control_value("004") == "99" + std::to_string(n) && r->find("583") &&
                    r->fields().size() == 4;
        most_ahead = std::max(most_ahead, source.records_made() - n);
        // The writer, too, works record by record: its output is checked and dropped.
        if (n % 10'000 == 0) {
            writer.write(*r);
            out.clear();
        }
    }
    CHECK(n == total);
    CHECK(all_match);
    CHECK(reader.problem_count() == 0);
    // About 550 bytes a record: the reader never runs more than a couple of MiB ahead of the
    // record it hands out, while the whole collection is over 50 MB.
    CHECK(source.bytes_made() > 50'000'000);
    CHECK(most_ahead < 4'000);
    CAPTURE(most_ahead);
}

TEST_CASE("comments and bad records among 20,000 records are met where they are", "[marcxml]") {
    generated_collection source{20'000, 997, 4'001};
    std::istream in{&source};
    marc::marcxml_reader::options o;
    o.policy = marc::on_error::skip;
    auto reader = marc::marcxml_reader::from_stream(in, o);
    marc::record rec;
    std::vector<std::string> ids;
    while (reader.read(rec)) ids.emplace_back(rec.control_value("001"));
    // Records 4001, 8002, ... have no leader; all others come out, in order.
    std::vector<std::string> expected;
    for (int i = 1; i <= 20'000; ++i)
        if (i % 4'001 != 0) expected.push_back(std::to_string(i));
    CHECK(ids == expected);
    REQUIRE(reader.problems().size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(reader.problems()[k].record_number == 4'001 * (k + 1));
        CHECK(reader.problems()[k].code == marc::error_code::bad_leader);
        CHECK(reader.problems()[k].byte_offset == source.bad_offsets().at(k));
    }
}
