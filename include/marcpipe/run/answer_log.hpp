// answer_log: Alma's answers written to disk the moment they arrive, so that a run killed before
// it could write them out does not ask for them again when it is resumed.
//
// The stages read ahead: when a run is killed, hundreds of answers may have arrived for bibs
// whose output was not yet written (output goes in export order, and the journal can only say
// "the first N bibs are done"). Without this log a resumed run would ask for all of them again,
// at 25 calls a second and out of a daily allowance. With it, a resumed run asks only for what
// was still in flight.
//
// Each answer is one line, keyed by the bib's position in the export (so a bib that appears twice
// is two entries, and answers of finished bibs can be dropped) and by the IDs asked for: a bib's
// holdings list, or one holdings record, or the problem Alma answered instead. The same answer
// gives the same output, so a resumed run stays byte-identical to an uninterrupted one.
//
// Only answers that settle their question are kept (alma::settled): a request that failed for
// good is asked again by the resumed run.
//
// The log is a cache, not a record: a line that is torn or unreadable is skipped and its answer
// asked for again. It is not synced to disk (a kill -9 loses nothing the kernel has; a power
// failure costs repeated requests, not data). It lives in two generations so its size stays
// bounded: once the current file passes `rotate_bytes`, it becomes the older one (replacing a
// previous older one, whose bibs must all be done by then) and a new current file begins.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "marcpipe/alma/holdings.hpp"
#include "marcpipe/alma/report.hpp"
#include "marcpipe/marc/record.hpp"
#include "marcpipe/pipeline/answer_memo.hpp"

namespace marcpipe::pipeline {


namespace answer_text {

// A token holds no blank, no control character and no line break: those bytes, '%' and '~' are
// written as %XX, and the empty string as "~".
inline void put(std::string& line, std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    line.push_back(' ');
    if (value.empty()) {
        line.push_back('~');
        return;
    }
    for (unsigned char c : value) {
        if (c <= 0x20 || c == 0x7f || c == '%' || c == '~') {
            line.push_back('%');
            line.push_back(hex[c >> 4]);
            line.push_back(hex[c & 15]);
        } else {
            line.push_back(static_cast<char>(c));
        }
    }
}
inline void put(std::string& line, std::uint64_t n) { put(line, std::string_view{std::to_string(n)}); }

// Reads the tokens of one line back; any malformed token makes the whole line unreadable.
class reader {
public:
    explicit reader(std::string_view line) : rest_{line} {}

    std::optional<std::string> text() {
        if (!ok_) return std::nullopt;
        std::size_t const sp = rest_.find(' ');
        std::string_view token = rest_.substr(0, sp);
        rest_.remove_prefix(sp == std::string_view::npos ? rest_.size() : sp + 1);
        if (token.empty()) return fail();
        if (token == "~") return std::string{};
        std::string value;
        value.reserve(token.size());
        for (std::size_t i = 0; i < token.size(); ++i) {
            if (token[i] != '%') {
                value.push_back(token[i]);
                continue;
            }
            unsigned byte = 0;
            if (i + 2 >= token.size()) return fail();
            auto [end, ec] = std::from_chars(token.data() + i + 1, token.data() + i + 3, byte, 16);
            if (ec != std::errc{} || end != token.data() + i + 3) return fail();
            value.push_back(static_cast<char>(byte));
            i += 2;
        }
        return value;
    }
    std::optional<std::uint64_t> number() {
        auto t = text();
        if (!t) return std::nullopt;
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
        if (ec != std::errc{} || end != t->data() + t->size() || t->empty()) return fail();
        return n;
    }
    bool at_end() const noexcept { return ok_ && rest_.empty(); }

private:
    std::nullopt_t fail() {
        ok_ = false;
        return std::nullopt;
    }

    std::string_view rest_;
    bool ok_ = true;
};

inline void put_problem(std::string& line, alma::problem const& p) {
    put(line, "problem");
    put(line, static_cast<std::uint64_t>(p.where));
    put(line, p.mms_id);
    put(line, p.holding_id);
    put(line, static_cast<std::uint64_t>(p.http_status));
    put(line, p.alma_code);
    put(line, p.message);
    put(line, p.tracking_id);
}

inline std::optional<alma::problem> get_problem(reader& in) {
    alma::problem p;
    auto where = in.number();
    auto mms = in.text();
    auto holding = in.text();
    auto status = in.number();
    auto code = in.text();
    auto message = in.text();
    auto tracking = in.text();
    if (!tracking || *where > static_cast<std::uint64_t>(alma::stage::write_record)) return std::nullopt;
    return alma::problem{static_cast<alma::stage>(*where), std::move(*mms), std::move(*holding), static_cast<long>(*status),
                   std::move(*code),           std::move(*message), std::move(*tracking)};
}

// "ok" and the value, or "problem" and the problem.
template <typename T, typename PutValue>
void put_outcome(std::string& line, alma::outcome<T> const& answer, PutValue put_value) {
    if (answer) {
        put(line, "ok");
        put_value(*answer);
    } else {
        put_problem(line, answer.error());
    }
}

// The same read back; nothing when the line does not end right after it.
template <typename T, typename GetValue>
std::optional<alma::outcome<T>> get_outcome(reader& in, GetValue get_value) {
    auto status = in.text();
    std::optional<alma::outcome<T>> answer;
    if (status && *status == "ok") {
        if (auto value = get_value(in)) answer.emplace(std::move(*value));
    } else if (status && *status == "problem") {
        if (auto p = get_problem(in)) answer.emplace(tl::unexpected(std::move(*p)));
    }
    if (!answer || !in.at_end()) return std::nullopt;
    return answer;
}

inline void put_record(std::string& line, marc::record const& r) {
    put(line, r.leader());
    put(line, static_cast<std::uint64_t>(r.fields().size()));
    for (auto const& f : r.fields()) {
        put(line, f.tag);
        put(line, f.value);
        char const indicators[2] = {f.ind1, f.ind2};
        put(line, std::string_view{indicators, 2});
        put(line, static_cast<std::uint64_t>(f.subfields.size()));
        for (auto const& s : f.subfields) {
            std::string code_and_value(1, s.code);
            code_and_value += s.value;
            put(line, code_and_value);
        }
    }
}

inline std::optional<marc::record> get_record(reader& in) {
    auto leader = in.text();
    auto count = in.number();
    if (!count || leader->size() != marc::leader_length) return std::nullopt;
    std::vector<marc::field> fields;
    for (std::uint64_t i = 0; i < *count; ++i) {
        auto tag = in.text();
        auto value = in.text();
        auto indicators = in.text();
        auto subs = in.number();
        if (!subs || indicators->size() != 2) return std::nullopt;
        marc::field f{std::move(*tag), (*indicators)[0], (*indicators)[1]};
        f.value = std::move(*value);
        for (std::uint64_t k = 0; k < *subs; ++k) {
            auto s = in.text();
            if (!s || s->empty()) return std::nullopt;
            f.subfields.push_back(marc::subfield{(*s)[0], s->substr(1)});
        }
        fields.push_back(std::move(f));
    }
    return marc::record{std::move(*leader), std::move(fields)};
}

}  // namespace answer_text

class answer_log final : public answer_memo {
public:
    // The log at `path` (and its older generation at `path`.old). Fresh: whatever is there is
    // discarded. Otherwise the answers for bibs from `first_bib` on are loaded to be recalled.
    answer_log(std::string path, bool fresh, std::uint64_t first_bib = 0, std::uint64_t rotate_bytes = 64u << 20)
        : path_{std::move(path)}, older_path_{path_ + ".old"}, rotate_bytes_{rotate_bytes}, done_{first_bib} {
        if (fresh) {
            std::filesystem::remove(older_path_);
        } else {
            std::uint64_t complete = 0;
            older_exists_ = load(older_path_, first_bib, older_max_seq_, complete);
            // A line torn by the kill would swallow the next one appended after it.
            if (load(path_, first_bib, max_seq_, complete)) std::filesystem::resize_file(path_, complete);
        }
        open(fresh);
    }
    answer_log(answer_log const&) = delete;
    answer_log& operator=(answer_log const&) = delete;
    ~answer_log() { close(); }

    // A bib's holdings list (or the problem) received by an earlier run; taken out of the log's memory.
    std::optional<alma::outcome<std::vector<std::string>>> recall_list(std::uint64_t bib_seq, std::string const& mms_id) override {
        return take(lists_, std::make_pair(bib_seq, mms_id));
    }
    std::optional<alma::outcome<alma::holding>> recall_record(std::uint64_t bib_seq, std::string const& mms_id,
                                                  std::string const& holding_id) override {
        return take(records_, std::make_tuple(bib_seq, mms_id, holding_id));
    }

    void remember_list(std::uint64_t bib_seq, std::string const& mms_id,
                       alma::outcome<std::vector<std::string>> const& answer) override {
        std::string line{"L"};
        answer_text::put(line, bib_seq);
        answer_text::put(line, mms_id);
        answer_text::put_outcome(line, answer, [&](std::vector<std::string> const& ids) {
            answer_text::put(line, static_cast<std::uint64_t>(ids.size()));
            for (auto const& id : ids) answer_text::put(line, id);
        });
        append(bib_seq, line);
    }
    void remember_record(std::uint64_t bib_seq, std::string const& mms_id, std::string const& holding_id,
                         alma::outcome<alma::holding> const& answer) override {
        std::string line{"R"};
        answer_text::put(line, bib_seq);
        answer_text::put(line, mms_id);
        answer_text::put(line, holding_id);
        answer_text::put_outcome(line, answer, [&](alma::holding const& h) {
            answer_text::put(line, h.holding_id);
            answer_text::put_record(line, h.record);
        });
        append(bib_seq, line);
    }

    // The first `n` bibs are written out: their answers will not be asked for again.
    void bibs_done(std::uint64_t n) {
        if (n > done_) done_ = n;
        rotate_if_due();
    }

    // The run is over: both generations go.
    void remove() {
        close();
        remove_files(path_);
    }
    // The files of a log at `path`, without opening it.
    static void remove_files(std::string const& path) {
        std::filesystem::remove(path);
        std::filesystem::remove(path + ".old");
    }

    std::string const& path() const noexcept { return path_; }
    std::uint64_t loaded() const noexcept { return loaded_; }      // answers an earlier run left for this one
    std::uint64_t recalled() const noexcept { return recalled_; }  // of those, used
    std::uint64_t written() const noexcept { return written_; }

private:
    using list_key = std::pair<std::uint64_t, std::string>;
    using record_key = std::tuple<std::uint64_t, std::string, std::string>;

    template <typename Map, typename Key>
    auto take(Map& m, Key const& key) -> std::optional<typename Map::mapped_type> {
        auto it = m.find(key);
        if (it == m.end()) return std::nullopt;
        auto value = std::move(it->second);
        m.erase(it);
        ++recalled_;
        return value;
    }

    // Reads one generation; false when the file is not there. `complete` is set to the bytes
    // of its complete lines.
    bool load(std::string const& file, std::uint64_t first_bib, std::uint64_t& max_seq, std::uint64_t& complete) {
        std::ifstream in{file, std::ios::binary};
        if (!in) return false;
        complete = 0;
        std::string line;
        while (std::getline(in, line)) {
            if (in.eof()) break;  // no newline after it: torn by the kill
            complete += line.size() + 1;
            parse(line, first_bib, max_seq);
        }
        return true;
    }

    void parse(std::string_view line, std::uint64_t first_bib, std::uint64_t& max_seq) {
        if (line.size() < 2 || line[1] != ' ') return;
        char const kind = line[0];
        answer_text::reader in{line.substr(2)};
        auto seq = in.number();
        auto mms = in.text();
        if (!mms) return;
        if (*seq > max_seq) max_seq = *seq;
        if (*seq < first_bib) return;  // written out already
        if (kind == 'L') {
            auto answer = answer_text::get_outcome<std::vector<std::string>>(in, [](answer_text::reader& r) {
                auto n = r.number();
                std::optional<std::vector<std::string>> ids;
                if (!n) return ids;
                ids.emplace();
                for (std::uint64_t i = 0; i < *n; ++i) {
                    auto id = r.text();
                    if (!id) return decltype(ids){};
                    ids->push_back(std::move(*id));
                }
                return ids;
            });
            if (!answer) return;
            lists_.insert_or_assign(list_key{*seq, std::move(*mms)}, std::move(*answer));
            ++loaded_;
        } else if (kind == 'R') {
            auto holding_id = in.text();
            auto answer = answer_text::get_outcome<alma::holding>(in, [](answer_text::reader& r) {
                auto id = r.text();
                auto record = answer_text::get_record(r);
                std::optional<alma::holding> h;
                if (id && record) h.emplace(std::move(*id), std::move(*record));
                return h;
            });
            if (!answer) return;
            records_.insert_or_assign(record_key{*seq, std::move(*mms), std::move(*holding_id)}, std::move(*answer));
            ++loaded_;
        }
    }

    void open(bool fresh) {
        // Never through a symbolic link, and a fresh log created exclusively: see open_side_file()
        // in posix_io.hpp, which the run's other side files use.
        if (fresh) ::unlink(path_.c_str());
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (fresh ? O_EXCL : 0), 0666);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path_);
        std::error_code ec;
        bytes_ = fresh ? 0 : std::filesystem::file_size(path_, ec);
    }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    void append(std::uint64_t bib_seq, std::string& line) {
        line.push_back('\n');
        char const* data = line.data();
        std::size_t n = line.size();
        while (n > 0) {
            ssize_t const w = ::write(fd_, data, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                throw std::system_error(errno, std::generic_category(), "cannot write " + path_);
            }
            data += w;
            n -= static_cast<std::size_t>(w);
        }
        bytes_ += line.size();
        if (bib_seq > max_seq_) max_seq_ = bib_seq;
        ++written_;
        rotate_if_due();
    }

    // The older generation may be replaced only when every bib it has answers for is done.
    void rotate_if_due() {
        if (bytes_ < rotate_bytes_) return;
        if (older_exists_ && older_max_seq_ >= done_) return;
        close();
        std::filesystem::rename(path_, older_path_);
        older_exists_ = true;
        older_max_seq_ = max_seq_;
        max_seq_ = 0;
        open(true);
    }

    std::string path_;
    std::string older_path_;
    std::uint64_t rotate_bytes_;
    std::uint64_t done_;
    int fd_ = -1;
    std::uint64_t bytes_ = 0;
    std::uint64_t max_seq_ = 0;
    bool older_exists_ = false;
    std::uint64_t older_max_seq_ = 0;
    std::map<list_key, alma::outcome<std::vector<std::string>>> lists_;
    std::map<record_key, alma::outcome<alma::holding>> records_;
    std::uint64_t loaded_ = 0;
    std::uint64_t recalled_ = 0;
    std::uint64_t written_ = 0;
};

}  // namespace marcpipe::pipeline
