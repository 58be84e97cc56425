// marcxml_reader: reads MARCXML record by record, in bounded memory, from a file of any size.
//
// Accepted shapes: a `<collection>` of `<record>`s, a single `<record>`, or records inside any
// other wrapper (an Alma `<holding>`, an OAI-PMH response). A record element counts when its
// local name is `record` and it is in the MARC21/slim namespace (http://www.loc.gov/MARC21/slim),
// with a prefix (`<marc:record>`) or as the default namespace, or in no namespace at all (Alma's
// holdings records have none). Elements in other namespaces, and unknown elements, are ignored.
//
// Why not one pugixml document: pugixml parses whole documents, and an export can be gigabytes.
// So a small scanner walks the input, tracking only what lies outside records (the open
// ancestors and their namespace declarations), cuts each `<record ...> ... </record>` out of
// the stream -- minding comments, CDATA sections, processing instructions and quoted attribute
// values that contain '>' -- and hands just that chunk to pugixml, resolving its prefixes
// against the declarations the scanner saw on the ancestors. Memory is the read buffer plus the
// largest record.
//
// The parts have headers of their own: read_buffer.hpp (the window on the input),
// marcxml_tokenizer.hpp (the markup tokens), marcxml_cutter.hpp (where a record, or a run of
// them, ends), marcxml_check.hpp (what XML forbids and pugixml lets through) and
// marcxml_element.hpp (a record from a parsed element). This one keeps the reader, which tracks
// what lies outside records, chooses between a run and a single record, and numbers the
// problems.
//
// Plain runs of records (no comment, CDATA section or processing instruction among them) are
// cut at a record end up to 256 KiB long and parsed as one batch, which is most of the speed;
// anything unusual in a run sends it through the record-by-record path, with the same results.
//
// Text is taken exactly as the document has it: leader, control field and subfield values are
// not trimmed, pretty-printed or not. (One exception: whitespace-only text beside an unknown
// child element inside a subfield -- mixed content, which MARCXML does not have -- is dropped
// in plain runs.) Before pugixml sees a chunk it is checked for what XML 1.0
// forbids and pugixml lets through: bytes that are not UTF-8, control characters, references
// to characters XML does not allow, undeclared entities. The input must be UTF-8 (or ASCII);
// another declared encoding is refused with a clear message. A DOCTYPE is skipped; entities
// it declares are not expanded (they are reported as undeclared).
//
// Errors: each problem is a read_problem naming the record number (1-based, counting every
// record element met) and the byte offset in the input where it was found. With on_error::stop
// next() throws marc_error; with on_error::skip the record is reported to options::on_problem
// (or kept in problems()), and reading resumes at the next record. Either way the bad record
// has been consumed, so a caller that catches the error may call next() again. A record that is not
// closed before the next record starts, or before its parent closes, is reported and the next
// record is still read. Structural MARC rules: a record has exactly one leader of 24 bytes; tags
// are three ASCII characters, `controlfield` only for 00X tags and `datafield` only for others;
// indicators are one ASCII character (missing or empty means blank); subfield codes are one
// ASCII character.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <marcpipe/marc/detail/marcxml_check.hpp>
#include <marcpipe/marc/detail/marcxml_cutter.hpp>
#include <marcpipe/marc/detail/marcxml_element.hpp>
#include <marcpipe/marc/detail/marcxml_plain.hpp>
#include <marcpipe/marc/detail/marcxml_tokenizer.hpp>
#include <marcpipe/marc/detail/read_buffer.hpp>
#include <marcpipe/marc/error.hpp>
#include <marcpipe/marc/record.hpp>
#include <marcpipe/marc/source.hpp>
#include <marcpipe/marc/unreadable_run.hpp>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace marcpipe::marc {

class marcxml_reader {
public:
    struct options {
        options() {}  // (a default member initialiser needs a user-provided constructor here)
        on_error policy = on_error::stop;
        // Called for each problem met under on_error::skip; when empty, problems are kept in
        // problems().
        std::function<void(read_problem const&)> on_problem;
        // A record element larger than this is reported (record_too_long) and skipped, so
        // that one runaway record cannot take all memory.
        std::size_t max_record_bytes = 64u << 20;
    };

    // Reads `source` to its end, in blocks.
    explicit marcxml_reader(std::unique_ptr<byte_source> source, options opts = options())
        : opts_{std::move(opts)}, input_{std::move(source)} {}

    // The file at `path` ("-" is standard input); throws std::system_error if it cannot be
    // opened.
    static marcxml_reader from_file(std::filesystem::path const& path, options o = options()) {
        return marcxml_reader{std::make_unique<file_source>(path.string()), std::move(o)};
    }
    // A file descriptor (a pipe, stdin), read to its end and not closed.
    static marcxml_reader from_fd(int fd, options o = options()) {
        return marcxml_reader{std::make_unique<fd_source>(fd), std::move(o)};
    }
    static marcxml_reader from_stream(std::istream& in, options o = options()) {
        return marcxml_reader{std::make_unique<istream_source>(in), std::move(o)};
    }
    // Bytes in memory, which must outlive the reader.
    static marcxml_reader from_memory(std::string_view bytes, options o = options()) {
        return marcxml_reader{std::make_unique<memory_source>(bytes), std::move(o)};
    }

    marcxml_reader(marcxml_reader&&) = default;
    marcxml_reader& operator=(marcxml_reader&&) = default;

    // The next record, or nullopt at the end of the input. With on_error::stop a bad record
    // throws marc_error; with skip it is reported and the next good record is returned.
    std::optional<record> next() {
        record r;
        if (!read(r)) return std::nullopt;
        return r;
    }

    // Like next(), into a record whose storage is reused: the fast way to convert a large
    // file (`record r; while (reader.read(r)) writer.write(r);`). False at the end of the
    // input; after a thrown problem `into` holds a partial record.
    bool read(record& into) {
        for (;;) {
            if (finished_) {
                end_lost_run();
                return false;
            }
            try {
                bool const got = next_record(into);
                end_lost_run();
                return got;
            } catch (problem_found& p) {
                // Problems of one record number (junk between records, where the reader meets
                // no new record element) are one problem naming the bytes they span.
                std::uint64_t const at = p.problem.byte_offset;
                if (opts_.policy == on_error::stop)
                    report(std::move(p.problem));
                else if (auto before = lost_.add(std::move(p.problem), at))
                    report(std::move(*before));
            }
        }
    }

    // Problems skipped so far, when no on_problem callback was given.
    std::vector<read_problem> const& problems() const noexcept { return problems_; }
    // How many problems were met, whether kept, handed to the callback or thrown.
    std::uint64_t problem_count() const noexcept { return problem_count_; }
    // How many record elements were met, good or bad.
    std::uint64_t records_seen() const noexcept { return record_number_; }

private:
    struct problem_found {
        read_problem problem;
    };
    struct open_element {
        std::string qname;
        std::vector<std::pair<std::string, std::string>> namespaces;  // prefix, URI
    };
    using token = detail::token;
    using token_kind = detail::token_kind;

    [[noreturn]] void fail(error_code c, std::uint64_t offset, std::string detail,
                           std::uint64_t record_number) {
        throw problem_found{read_problem{c, record_number, offset, std::move(detail)}};
    }

    void end_lost_run() {
        if (auto p = lost_.close()) report(std::move(*p));
    }

    void report(read_problem p) {
        ++problem_count_;
        if (opts_.policy == on_error::stop) throw marc_error{std::move(p)};
        if (opts_.on_problem)
            opts_.on_problem(p);
        else
            problems_.push_back(std::move(p));
    }

    // The input ends inside what the scanner was reading ("a comment", "<record> that starts at
    // byte 12", ...); nothing more can be read.
    [[noreturn]] void truncated(std::string_view what) {
        finished_ = true;
        std::string why{"input ends inside "};
        why += what;
        fail(error_code::truncated_record, input_.avail(), std::move(why),
             input_.holding() ? record_number_ : record_number_ + 1);
    }
    token read_token(std::uint64_t lt) {
        return detail::read_token(input_, lt, [this](std::string_view what) { truncated(what); });
    }

    // Namespace bound to `prefix` by the open ancestors (innermost first).
    std::optional<std::string> outer_namespace(std::string_view prefix) const {
        for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
            for (auto const& [p, uri] : it->namespaces)
                if (p == prefix) return uri;
        return std::nullopt;
    }

    // Whether a start tag outside records opens a MARC record element.
    bool opens_record(token const& t, std::vector<std::pair<std::string, std::string>> const& own) {
        std::string_view const qname = input_.text(t.name_begin, t.name_end);
        if (detail::local_name(qname) != "record") return false;
        std::string_view const prefix = detail::name_prefix(qname);
        for (auto const& [p, uri] : own)
            if (p == prefix) return detail::is_marc_namespace(uri);
        if (auto uri = outer_namespace(prefix)) return detail::is_marc_namespace(*uri);
        if (prefix.empty()) return true;
        // An undeclared prefix: take it as a record so that the error names it.
        return true;
    }

    // Skips the byte-order mark and checks the declared encoding once, at the start.
    void check_prolog() {
        prolog_checked_ = true;
        input_.ensure(4);
        std::string_view const head = input_.text(0, std::min<std::uint64_t>(input_.avail(), 4));
        if (head.empty()) {  // an empty input holds no records, and that is no error
            finished_ = true;
            return;
        }
        if (head.substr(0, 3) == "\xEF\xBB\xBF") {
            pos_ = 3;
        } else if (head.substr(0, 2) == "\xFF\xFE" || head.substr(0, 2) == "\xFE\xFF" ||
                   (head.size() >= 2 && (head[0] == '\0' || head[1] == '\0'))) {
            fatal(error_code::not_marc, 0, "input is UTF-16 or UTF-32; MARCXML must be UTF-8");
        }
        input_.keep_from(pos_);
        if (!input_.ensure(pos_ + 5) || input_.text(pos_, pos_ + 5) != "<?xml") return;
        auto const e = input_.find("?>", pos_, pos_);
        if (!e) return;
        std::string decl{input_.text(pos_, *e)};
        auto const enc = decl.find("encoding");
        if (enc == std::string::npos) return;
        auto const q = decl.find_first_of("\"'", enc);
        if (q == std::string::npos) return;
        auto const qe = decl.find(decl[q], q + 1);
        std::string name =
            decl.substr(q + 1, qe == std::string::npos ? std::string::npos : qe - q - 1);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (name != "utf-8" && name != "utf8" && name != "us-ascii" && name != "ascii")
            fatal(error_code::not_marc, pos_,
                  "declared encoding \"" + name + "\" is not supported; MARCXML must be UTF-8");
    }

    // A problem after which nothing more can be read.
    [[noreturn]] void fatal(error_code c, std::uint64_t offset, std::string detail) {
        finished_ = true;
        fail(c, offset, std::move(detail), record_number_ + 1);
    }

    // Finds the next record element and parses it; nullopt at the end of the input.
    bool next_record(record& out) {
        if (batch_next_ || plain_next_ < plain_count_) return take_from_batch(out);
        if (!prolog_checked_) check_prolog();
        if (finished_) return false;
        for (;;) {
            input_.keep_from(pos_);
            if (!saw_root_) {
                // Only whitespace may come before the root element.
                while (input_.ensure(pos_ + 1) && detail::is_space(*input_.at(pos_)))
                    input_.keep_from(++pos_);
                if (pos_ < input_.avail() && *input_.at(pos_) != '<')
                    fatal(error_code::not_marc, pos_,
                          saw_markup_ ? "text before the root element" : "input is not XML");
            }
            auto const lt = input_.find("<", pos_);
            if (!lt) return end_of_input();
            input_.keep_from(*lt);
            token const t = read_token(*lt);
            pos_ = t.end;
            saw_markup_ = true;
            switch (t.kind) {
                case token_kind::pi:
                case token_kind::comment:
                case token_kind::doctype:
                case token_kind::cdata:
                    continue;
                case token_kind::end_tag: {
                    std::string_view const name = input_.text(t.name_begin, t.name_end);
                    if (stack_.empty() || stack_.back().qname != name)
                        fail(error_code::malformed_xml, t.begin,
                             "end tag </" + std::string{name} + "> " +
                                 (stack_.empty() ? "without a start tag"
                                                 : "where </" + stack_.back().qname + "> belongs"),
                             record_number_ + 1);
                    stack_.pop_back();
                    continue;
                }
                case token_kind::start_tag:
                case token_kind::empty_tag: {
                    auto decls = detail::namespace_declarations(input_, t);
                    if (opens_record(t, decls)) {
                        saw_root_ = true;
                        if (start_batch(t)) return take_from_batch(out);
                        ++record_number_;
                        return read_record(t, out);
                    }
                    if (!saw_root_) {
                        saw_root_ = true;
                        root_name_ = input_.text(t.name_begin, t.name_end);
                    } else if (stack_.empty()) {
                        root_name_ = input_.text(t.name_begin, t.name_end);
                    } else {
                        saw_other_element_ = true;
                    }
                    if (t.kind == token_kind::start_tag) {
                        if (stack_.size() >= max_depth)
                            fatal(error_code::malformed_xml, t.begin,
                                  "elements nested deeper than " + std::to_string(max_depth));
                        stack_.push_back(open_element{
                            std::string{input_.text(t.name_begin, t.name_end)}, std::move(decls)});
                    }
                    continue;
                }
            }
        }
    }

    bool end_of_input() {
        finished_ = true;
        if (!stack_.empty()) {
            std::string const open = stack_.back().qname;
            stack_.clear();
            fail(error_code::truncated_record, input_.avail(),
                 "input ends inside <" + open + ">; the document is cut short", record_number_ + 1);
        }
        if (record_number_ == 0 && !saw_root_)
            fail(error_code::not_marc, input_.avail(), "no XML element in the input", 1);
        if (record_number_ == 0 && (saw_other_element_ || !is_collection(root_name_)))
            fail(error_code::not_marc, input_.avail(),
                 "no MARC <record> element in <" + root_name_ + ">", 1);
        return false;
    }

    static bool is_collection(std::string_view qname) {
        return detail::local_name(qname) == "collection";
    }

    // Cuts the record element that starts with `start` out of the input and parses it.
    bool read_record(token const& start, record& out) {
        std::uint64_t const begin = start.begin;
        std::string const qname{input_.text(start.name_begin, start.name_end)};
        input_.hold(begin, opts_.max_record_bytes);
        input_.keep_from(begin);
        struct leave {
            detail::read_buffer* in;
            ~leave() { in->let_go(); }
        } guard{&input_};

        std::uint64_t end = start.end;
        if (start.kind == token_kind::start_tag) {
            auto const cut = detail::cut_record(
                input_, begin, pos_, qname,
                [this](std::string_view name) {
                    for (auto const& a : stack_)
                        if (a.qname == name) return true;
                    return false;
                },
                [this](std::string_view what) { truncated(what); });
            pos_ = cut.at;
            if (!cut.closed) unclosed(qname, begin, cut.at);
            end = cut.at;
        }
        pos_ = end;
        if (end - begin > opts_.max_record_bytes || input_.over_limit())
            fail(error_code::record_too_long, begin,
                 "record element of " + std::to_string(end - begin) +
                     " bytes exceeds the limit of " + std::to_string(opts_.max_record_bytes),
                 record_number_);
        parse_record(begin, end, out);
        return true;
    }

    [[noreturn]] void unclosed(std::string const& qname, std::uint64_t begin, std::uint64_t at) {
        fail(error_code::malformed_xml, at,
             "<" + qname + "> that starts at byte " + std::to_string(begin) + " is not closed",
             record_number_);
    }

    [[noreturn]] void chunk_problem(std::uint64_t begin, detail::marcxml_fault const& f) {
        fail(f.code, begin + static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(f.offset, 0)),
             f.detail, record_number_);
    }

    // ---- batches: many records, one pugixml parse ----
    //
    // Cutting out and parsing record by record costs a scan of every tag and a parse per
    // record. In the common case -- records side by side with no comment, CDATA section or
    // processing instruction among them -- a run of records up to batch_bytes long is cut at
    // the last record end tag in it, checked, and parsed at once. Anything unusual in the run
    // (a section, an element that is not a record, XML that does not parse, a character XML
    // forbids) sends that run through the careful record-by-record path instead, which finds
    // and names the bad record exactly as it would have without batches.

    // Tries to parse a batch of records starting with the record whose start tag is `start`.
    bool start_batch(token const& start) {
        std::uint64_t const begin = start.begin;
        // (A batch holds whole records only, so it must not hold one over the size limit.)
        if (begin < careful_until_ || opts_.max_record_bytes < batch_bytes) return false;
        auto const run = detail::cut_run(input_, start, batch_bytes);
        auto careful = [&](std::size_t upto) {
            careful_until_ = begin + std::max<std::size_t>(upto, 1);
            return false;
        };
        if (run.bytes.empty()) return careful(run.window);
        std::string_view const bytes = run.bytes;
        std::size_t const size = bytes.size();
        if (detail::check_xml_chunk(bytes, false)) return careful(size);
        // Records in the plain shape are read straight from the bytes, with no tree (see
        // marcxml_plain.hpp); they are bare <record>s, so the default namespace must be MARC's.
        if (auto const ns = outer_namespace(""); !ns || detail::is_marc_namespace(*ns)) {
            if (plain_scan_.read_run(bytes, plain_, plain_count_)) {
                plain_next_ = 0;
                batch_begin_ = begin;
                pos_ = begin + size;
                return true;  // a run starts with a record, so it holds one at least
            }
            plain_count_ = 0;
        }

        batch_buf_.assign(batch_open);
        batch_buf_.append(bytes);
        batch_buf_.append(batch_close);
        if (!batch_doc_) batch_doc_ = std::make_unique<pugi::xml_document>();
        auto const parsed = batch_doc_->load_buffer_inplace(
            batch_buf_.data(), batch_buf_.size(),
            pugi::parse_escapes | pugi::parse_eol | pugi::parse_wconv_attribute |
                pugi::parse_ws_pcdata_single | pugi::parse_embed_pcdata,
            pugi::encoding_utf8);
        if (!parsed) return careful(size);
        auto const wrapper = batch_doc_->document_element();
        // Every element in the run must be a MARC record; text between them is ignored.
        for (auto c = wrapper.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (!detail::is_record_name(c.name())) return careful(size);
            auto ns = detail::element_namespace(
                c, [this](std::string_view prefix) { return outer_namespace(prefix); });
            if (!ns || !detail::is_marc_namespace(*ns)) return careful(size);
        }
        batch_next_ = wrapper.first_child();
        while (batch_next_ && batch_next_.type() != pugi::node_element)
            batch_next_ = batch_next_.next_sibling();
        batch_begin_ = begin;
        pos_ = begin + size;
        return true;
    }

    bool take_from_batch(record& out) {
        if (plain_next_ < plain_count_) {
            ++record_number_;
            std::swap(out, plain_[plain_next_++]);  // out's storage goes back to the pool
            return true;
        }
        pugi::xml_node const node = batch_next_;
        batch_next_ = node.next_sibling();
        while (batch_next_ && batch_next_.type() != pugi::node_element)
            batch_next_ = batch_next_.next_sibling();
        ++record_number_;
        try {
            detail::record_from_element(
                node, [this](std::string_view prefix) { return outer_namespace(prefix); }, out);
        } catch (detail::marcxml_fault const& f) {
            std::ptrdiff_t const in_batch = std::max<std::ptrdiff_t>(
                f.offset - static_cast<std::ptrdiff_t>(batch_open.size()), 0);
            fail(f.code, batch_begin_ + static_cast<std::uint64_t>(in_batch), f.detail,
                 record_number_);
        }
        return true;
    }

    void parse_record(std::uint64_t begin, std::uint64_t end, record& out) {
        char* const chunk = input_.at(begin);
        std::size_t const size = static_cast<std::size_t>(end - begin);
        if (auto bad = detail::check_xml_chunk({chunk, size})) chunk_problem(begin, *bad);
        if (!doc_) doc_ = std::make_unique<pugi::xml_document>();
        auto const parsed = doc_->load_buffer_inplace(
            chunk, size,
            pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol |
                pugi::parse_wconv_attribute | pugi::parse_ws_pcdata | pugi::parse_embed_pcdata,
            pugi::encoding_utf8);
        if (!parsed)
            chunk_problem(begin, {error_code::malformed_xml, parsed.offset,
                                  detail::describe_parse_error(parsed)});
        try {
            detail::record_from_element(
                doc_->document_element(),
                [this](std::string_view prefix) { return outer_namespace(prefix); }, out);
        } catch (detail::marcxml_fault const& f) {
            chunk_problem(begin, f);
        }
    }

    static constexpr std::size_t max_depth = 256;

    options opts_;
    detail::read_buffer input_;
    std::unique_ptr<pugi::xml_document> doc_;

    static constexpr std::size_t batch_bytes = 256 * 1024;
    static constexpr std::string_view batch_open = "<batch>";
    static constexpr std::string_view batch_close = "</batch>";
    std::unique_ptr<pugi::xml_document> batch_doc_;
    std::string batch_buf_;
    pugi::xml_node batch_next_;  // the next record of the current batch, if any
    detail::plain_marcxml_scan plain_scan_;
    std::vector<record> plain_;        // a plain batch's records, and their storage
    std::size_t plain_count_ = 0;      // how many of plain_ the batch filled
    std::size_t plain_next_ = 0;       // the next of them to hand out
    std::uint64_t batch_begin_ = 0;    // input offset of the batch's first byte
    std::uint64_t careful_until_ = 0;  // no batch starts before this offset

    std::uint64_t pos_ = 0;  // scan position
    bool finished_ = false;
    bool prolog_checked_ = false;

    std::vector<open_element> stack_;  // open elements outside records
    bool saw_root_ = false;
    bool saw_markup_ = false;
    bool saw_other_element_ = false;
    std::string root_name_;
    std::uint64_t record_number_ = 0;
    std::vector<read_problem> problems_;
    unreadable_run lost_;
    std::uint64_t problem_count_ = 0;
};

// The record in a `<record>` element of a document already parsed with pugixml (an Alma
// `<holding><record>`); prefixes are resolved through the element's ancestors. Throws
// marc_error naming `record_number` and the element's offset in the parsed buffer.
//
// What the document holds is what the caller's parse kept: pugi::parse_default drops
// whitespace-only text, so a subfield that is one space comes back empty; parse with
// `pugi::parse_default | pugi::parse_ws_pcdata_single` to keep it. pugixml does not check
// characters, so bytes XML forbids pass through here (the streaming reader checks them).
inline record from_marcxml(pugi::xml_node record_node, std::uint64_t record_number = 1) {
    try {
        record r;
        detail::record_from_element(record_node, nullptr, r);
        return r;
    } catch (detail::marcxml_fault const& f) {
        throw marc_error{read_problem{
            f.code, record_number,
            static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(f.offset, 0)), f.detail}};
    }
}

// The single record of a MARCXML document held in a string (a `<record>`, a `<collection>` of
// one, or a wrapper such as `<holding>` around one). Throws marc_error if there is none, more
// than one, or the document is bad.
inline record from_marcxml(std::string_view document) {
    auto reader = marcxml_reader::from_memory(document);
    auto first = reader.next();
    if (!first)
        throw marc_error{
            read_problem{error_code::not_marc, 1, 0, "no MARC record in the document"}};
    if (reader.next())
        throw marc_error{
            read_problem{error_code::not_marc, 2, 0, "expected one MARC record, found more"}};
    return std::move(*first);
}

}  // namespace marcpipe::marc
