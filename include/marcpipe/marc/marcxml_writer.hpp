// marcxml_writer: writes MARC records as a MARCXML collection, straight into a reused buffer.
//
// Output: `<?xml version="1.0" encoding="UTF-8"?>`, `<collection xmlns="http://www.loc.gov/
// MARC21/slim">`, one `<record>` per record (leader, controlfield, datafield/subfield), and
// `</collection>` from finish(). No DOM is built: each record is escaped directly into a buffer
// that is reused from record to record and handed to the stream in large blocks, so converting
// a file of any size takes a few hundred kilobytes.
//
// The leader is written as given except position 09, which becomes 'a' (UCS/Unicode): the
// output is UTF-8 whatever the input was. With `options::iso2709_leader` it is the leader the
// ISO 2709 writer would put (leader.hpp): record length and base address computed from the
// fields, 10-11 "22", 20-23 "4500". Alma's leaders come with blanks for the numbers, which
// readers of MARCXML such as yaz-marcdump warn about; the example programs set it, so their
// MARC21 and MARCXML of one record carry the same leader.
//
// What MARCXML cannot carry is replaced as replacement.hpp says, the same rule as the ISO 2709
// writer's: in the leader, indicators and subfield codes (single ASCII bytes by definition, whose
// length a reader checks) a byte that is not printable ASCII becomes the MARC fill character '|';
// in data, characters XML 1.0 cannot carry (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF,
// bytes that are not UTF-8, such as MARC-8 escape sequences) become U+FFFD (see xml_escape.hpp).
// A record that needed a replacement is a problem: with `on_error::skip` (the default) it is
// written with the replacements and reported to `options::on_problem` (code characters_replaced,
// the record's number in the output, the output byte offset where it starts, its 001, the first
// character replaced and where); with `on_error::stop` nothing of it is written and marc_error is
// thrown. A tag that is not three ASCII letters or digits is never written: the record is left
// out and marc_error (bad_directory) thrown, whatever the policy.
//
// Any record-like type can be written: marc::record, or anything with the same small surface
// (see `marcxml_writable`), or a non-owning view over ISO 2709 bytes (`marcxml_writable_view`,
// which marc::record_view satisfies) without copying it into a record first. For other shapes,
// the field-by-field calls (begin_record, control_field, begin_data_field, subfield,
// end_data_field, end_record) are public.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <marcpipe/marc/error.hpp>
#include <marcpipe/marc/leader.hpp>
#include <marcpipe/marc/record.hpp>
#include <marcpipe/marc/replacement.hpp>
#include <marcpipe/marc/xml_escape.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace marcpipe::marc {

// What the writer needs from a record: a leader, and fields in order, each with a tag, telling
// whether it is a control field (then a value) or a data field (indicators and subfields with
// a code and a value). marc::record satisfies it; so may a view over ISO 2709 bytes.
template <class F>
concept marcxml_writable_field = requires(F const& f) {
    { f.is_control() } -> std::convertible_to<bool>;
    { f.tag } -> std::convertible_to<std::string_view>;
    { f.value } -> std::convertible_to<std::string_view>;
    { f.ind1 } -> std::convertible_to<char>;
    { f.ind2 } -> std::convertible_to<char>;
    { std::begin(f.subfields)->code } -> std::convertible_to<char>;
    { std::begin(f.subfields)->value } -> std::convertible_to<std::string_view>;
};

template <class R>
concept marcxml_writable = requires(R const& r) {
    { r.leader() } -> std::convertible_to<std::string_view>;
    { *std::begin(r.fields()) } -> marcxml_writable_field;
};

// The same through accessors, as a view over ISO 2709 bytes has it (marc::record_view): the
// record iterates its fields; a field has tag(), is_control(), data() for a control field,
// ind1(), ind2() and subfields() with code() and value().
template <class F>
concept marcxml_writable_field_view = requires(F const& f) {
    { f.tag() } -> std::convertible_to<std::string_view>;
    { f.is_control() } -> std::convertible_to<bool>;
    { f.data() } -> std::convertible_to<std::string_view>;
    { f.ind1() } -> std::convertible_to<char>;
    { f.ind2() } -> std::convertible_to<char>;
    { (*std::begin(f.subfields())).code() } -> std::convertible_to<char>;
    { (*std::begin(f.subfields())).value() } -> std::convertible_to<std::string_view>;
};

template <class R>
concept marcxml_writable_view = requires(R const& r) {
    { r.leader() } -> std::convertible_to<std::string_view>;
    { *std::begin(r) } -> marcxml_writable_field_view;
};

class marcxml_writer {
public:
    struct options {
        options() {}  // (a default member initialiser needs a user-provided constructor here)
        // Indent elements, one per line, as people read MARCXML. Off: one record per line.
        bool indent = true;
        // Put the leader the ISO 2709 writer would put for the record (see the top of this file).
        bool iso2709_leader = false;
        // A record that needs replacements: skip = write it and report the problem, stop = write
        // nothing of it and throw marc_error.
        on_error policy = on_error::skip;
        std::function<void(read_problem const&)> on_problem;
    };

    // Writes to a stream; output is handed over in blocks of about 64 KiB and at finish().
    explicit marcxml_writer(std::ostream& out, options opts = options())
        : stream_{&out}, out_{&own_}, opts_{std::move(opts)} {
        own_.reserve(flush_threshold + 4096);
        begin_collection();
    }
    // Appends to a string (which is not cleared first).
    explicit marcxml_writer(std::string& out, options opts = options())
        : out_{&out}, opts_{std::move(opts)}, origin_{out.size()} {
        begin_collection();
    }

    marcxml_writer(marcxml_writer const&) = delete;
    marcxml_writer& operator=(marcxml_writer const&) = delete;

    // Closes the collection, unless the writer is destroyed by an exception: then the output
    // stops after the last complete record and visibly lacks `</collection>`.
    ~marcxml_writer() {
        if (finished_) return;
        try {
            if (std::uncaught_exceptions() > uncaught_at_start_)
                flush();
            else
                finish();
        } catch (...) {  // a destructor must not throw; the stream's state tells the caller
        }
    }

    // Writes one record. Returns how many characters were replaced (0: written exactly as given).
    template <marcxml_writable R>
    std::size_t write(R const& rec) {
        begin_record(rec.leader());
        for (auto const& f : rec.fields()) {
            if (f.is_control()) {
                control_field(f.tag, f.value);
            } else {
                begin_data_field(f.tag, f.ind1, f.ind2);
                for (auto const& s : f.subfields) subfield(s.code, s.value);
                end_data_field();
            }
        }
        return end_record();
    }
    template <marcxml_writable_view R>
    std::size_t write(R const& rec) {
        begin_record(rec.leader());
        for (auto const& f : rec) {
            if (f.is_control()) {
                control_field(f.tag(), f.data());
            } else {
                begin_data_field(f.tag(), f.ind1(), f.ind2());
                for (auto const& s : f.subfields()) subfield(s.code(), s.value());
                end_data_field();
            }
        }
        return end_record();
    }

    // Field-by-field writing, for record shapes `write` does not know.
    void begin_record(std::string_view leader) {
        record_start_ = out_->size();
        log_.clear();
        id_.clear();
        field_count_ = 0;
        field_bytes_ = 0;
        put("<record>\n  <leader>", "<record><leader>");
        std::size_t const n = std::min(leader.size(), leader_length);
        for (std::size_t i = 0; i < n; ++i) {
            leader_[i] = leader[i];
            if (is_code_byte(leader[i])) continue;
            // A byte the written leader does not keep is not a replacement.
            if (opts_.iso2709_leader ? !leader_position_computed(i) : i != 9)
                log_.note(1, "leader", "", leader.substr(i, 1), "'|'");
            leader_[i] = fill_character;
        }
        leader_size_ = n;
        leader_at_ = out_->size();
        put_leader(0, 0);
        put("</leader>\n", "</leader>");
    }
    void control_field(std::string_view tag, std::string_view value) {
        check_tag(tag);
        if (tag == "001") id_.assign(value);
        ++field_count_;
        put("  <controlfield tag=\"", "<controlfield tag=\"");
        *out_ += tag;
        put("\">");
        std::size_t const n = append_xml_escaped(*out_, value, xml_context::text);
        if (n != 0) note_text(value, n, tag, "");
        field_bytes_ += iso2709_size(value, n) + 1;  // the data and its field terminator
        put("</controlfield>\n", "</controlfield>");
    }
    void begin_data_field(std::string_view tag, char ind1, char ind2) {
        check_tag(tag);
        ++field_count_;
        field_bytes_ += 3;  // the two indicators and the field terminator
        tag_ = tag;
        put("  <datafield tag=\"", "<datafield tag=\"");
        *out_ += tag;
        put("\" ind1=\"");
        code_attribute(ind1, "ind1");
        put("\" ind2=\"");
        code_attribute(ind2, "ind2");
        put("\">\n", "\">");
    }
    void subfield(char code, std::string_view value) {
        put("    <subfield code=\"", "<subfield code=\"");
        // The part's name is made only for a message: most subfields need none.
        if (is_code_byte(code))
            put_code(code);
        else
            code_attribute(code, subfield_part(code));
        put("\">");
        std::size_t const n = append_xml_escaped(*out_, value, xml_context::text);
        if (n != 0) note_text(value, n, tag_, subfield_part(code));
        field_bytes_ += 2 + iso2709_size(value, n);  // delimiter, code and data
        put("</subfield>\n", "</subfield>");
    }
    void end_data_field() { put("  </datafield>\n", "</datafield>"); }
    // Ends the record; returns how many characters were replaced (see write).
    std::size_t end_record() {
        // The record's length and base address are known only now. They are the only positions
        // that change, and they are digits either way, so the leader's text keeps its length and
        // is overwritten in place.
        if (opts_.iso2709_leader) put_leader(field_count_, field_bytes_);
        put("</record>\n");
        ++records_;
        if (log_.count() != 0) {
            ++records_with_replacements_;
            read_problem p{error_code::characters_replaced, records_, record_offset(),
                           record_label(id_) + log_.describe("MARCXML")};
            if (opts_.policy == on_error::stop) {
                out_->resize(record_start_);
                --records_;
                --records_with_replacements_;
                throw marc_error{std::move(p)};
            }
            if (opts_.on_problem) opts_.on_problem(p);
        }
        if (stream_ && own_.size() >= flush_threshold) flush();
        return log_.count();
    }

    // Writes `</collection>` and hands everything to the stream. Further writes are an error.
    void finish() {
        if (finished_) return;
        put("</collection>\n");
        finished_ = true;
        flush();
        if (stream_) stream_->flush();
    }

    std::uint64_t records_written() const noexcept { return records_; }
    std::uint64_t records_with_replacements() const noexcept { return records_with_replacements_; }

private:
    static constexpr std::size_t flush_threshold = 64 * 1024;

    // Appends a literal, or the first one when indenting, else the second. Their lengths are
    // constants: a `char const*` would be measured with strlen for every element written.
    template <std::size_t N>
    void put(char const (&text)[N]) {
        out_->append(text, N - 1);
    }
    template <std::size_t I, std::size_t F>
    void put(char const (&indented)[I], char const (&flat)[F]) {
        if (opts_.indent)
            out_->append(indented, I - 1);
        else
            out_->append(flat, F - 1);
    }

    void begin_collection() {
        put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"");
        *out_ += marcxml_namespace;
        put("\">\n");
    }

    // The leader's text at leader_at_: appended when nothing follows it yet, else overwritten.
    void put_leader(std::size_t field_count, std::size_t field_bytes) {
        char l[leader_length];
        std::size_t n = leader_size_;
        if (opts_.iso2709_leader) {
            canonical_leader({leader_, leader_size_}, iso2709_layout{field_count, field_bytes}, l);
            n = leader_length;
        } else {
            std::copy_n(leader_, n, l);
            // MARCXML is UTF-8 by definition, so leader/09 says so (as yaz-marcdump writes it).
            if (n == leader_length) l[9] = 'a';
        }
        if (leader_at_ == out_->size()) {
            append_xml_escaped(*out_, {l, n}, xml_context::text);
            leader_text_size_ = out_->size() - leader_at_;
        } else {
            // Escaped into a buffer kept from record to record: a leader does not fit a short
            // string's own storage, and this runs once per record.
            leader_text_.clear();
            append_xml_escaped(leader_text_, {l, n}, xml_context::text);
            out_->replace(leader_at_, leader_text_size_, leader_text_);
        }
    }

    // The size of a value as the ISO 2709 writer writes it: a delimiter in it becomes U+FFFD.
    // Delimiters are C0 controls, which XML cannot carry either, so a value written here with
    // no replacement (`replaced` 0) has none and is not looked at again.
    static std::size_t iso2709_size(std::string_view value, std::size_t replaced) noexcept {
        if (replaced == 0) return value.size();
        return value.size() + (replacement_character_utf8.size() - 1) * detail::count_marks(value);
    }

    // Where the record being written starts in the whole output.
    std::uint64_t record_offset() const noexcept { return written_ + record_start_ - origin_; }

    // A tag is never replaced (replacement.hpp): the record is left out instead.
    void check_tag(std::string_view tag) {
        if (is_writable_tag(tag)) return;
        std::uint64_t const offset = record_offset();
        out_->resize(record_start_);
        throw marc_error{read_problem{
            error_code::bad_directory, records_ + 1, offset,
            record_label(id_) + "tag \"" + detail::printable(tag) +
                "\" is not three ASCII letters or digits"}};
    }

    // Notes the `n` replacements append_xml_escaped made in `s`.
    void note_text(std::string_view s, std::size_t n, std::string_view tag,
                   std::string_view part) {
        // The first character replaced, to show it: a non-character is three bytes, the rest one.
        auto const bad = find_non_xml_char(s);
        std::size_t const at = bad ? bad.offset : 0;
        log_.note(n, tag, part, s.substr(at, bad.what.starts_with("U+") ? 3 : 1),
                  bad.what == "invalid UTF-8" ? "U+FFFD (not UTF-8)" : "U+FFFD");
    }
    // Indicators and subfield codes are single bytes in ISO 2709 and must stay so.
    void code_attribute(char c, std::string_view part) {
        char const b = is_code_byte(c) ? c : fill_character;
        if (b != c) log_.note(1, tag_, part, {&c, 1}, "'|'");
        put_code(b);
    }
    // A printable ASCII byte in an attribute: most go out as they are, a few as an entity.
    void put_code(char b) {
        if (detail::byte_classes[static_cast<unsigned char>(b)] == detail::byte_plain)
            out_->push_back(b);
        else
            append_xml_escaped(*out_, {&b, 1}, xml_context::attribute);
    }

    void flush() {
        if (!stream_ || own_.empty()) return;
        stream_->write(own_.data(), static_cast<std::streamsize>(own_.size()));
        written_ += own_.size();
        own_.clear();
    }

    std::ostream* stream_ = nullptr;
    std::string own_;  // the reused buffer when writing to a stream
    std::string* out_;
    options opts_;
    int uncaught_at_start_ = std::uncaught_exceptions();
    bool finished_ = false;

    std::size_t origin_ = 0;     // size of the target string before the first byte written
    std::uint64_t written_ = 0;  // bytes already handed to the stream
    std::size_t record_start_ = 0;
    std::uint64_t records_ = 0;
    std::uint64_t records_with_replacements_ = 0;
    replacement_log log_;  // of the record being written
    char leader_[leader_length] = {};  // the given leader, its bytes made single ASCII ones
    std::size_t leader_size_ = 0;
    std::size_t leader_at_ = 0;         // where the leader's text is in *out_
    std::size_t leader_text_size_ = 0;  // and its length there, escaped
    std::string leader_text_;           // the final leader's text, escaped
    std::size_t field_count_ = 0;
    std::size_t field_bytes_ = 0;  // the record's field data as ISO 2709 would hold it
    std::string tag_;  // tag of the open data field, for problem reports
    std::string id_;   // the record's 001, for problem reports
};

}  // namespace marcpipe::marc
