// set_input: an Alma set of bibs as a run's input, in place of an export — the set's members
// read page by page (100 a call) and saved as a list of MMS IDs, one a line, which the run then
// reads like any list. Saved beside the output, the list is the run's input on --resume too:
// a resumed run goes on with the bibs the first run had, even if the set has changed since,
// and asks Alma nothing about the set.
//
//   auto ids = pipeline::set_input(client, "1234567890000541", "out.mrc.set-members", resume, std::cerr);
//   options.input = ids;   // and when the run has finished: std::filesystem::remove(ids)
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <system_error>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/ids.hpp"
#include "marcpipe/coro/sync_wait.hpp"
#include "marcpipe/marc/marcxml_writer.hpp"
#include "marcpipe/run/output_path.hpp"
#include "marcpipe/run/posix_io.hpp"
#include "marcpipe/run/setup_error.hpp"

namespace marcpipe::pipeline {

// The set cannot be the input. exit_code: 2 when Alma says what is wrong with the set (it does
// not exist, it is not of bibs); 3 when Alma could not be asked (the network, the key, the
// daily threshold) — run the command again later.
class set_error : public std::runtime_error {
public:
    set_error(std::string const& what, int code) : std::runtime_error{what}, exit_code{code} {}
    int exit_code;
};

namespace detail {

template <typename T>
T await_set_call(alma::client& client, coro::task<alma::outcome<T>> call, std::string const& set_id) {
    auto answer = coro::sync_wait(std::move(call), [&] { client.loop().run_once(std::chrono::milliseconds{1000}); });
    if (answer) return std::move(*answer);
    alma::problem const& p = answer.error();
    std::string const said = p.alma_code.empty() ? p.message : "Alma says " + p.alma_code + " " + p.message;
    // A 4xx with Alma's error, from the API rather than the gateway: the set is the problem.
    bool const about_the_set = !client.http().stopped() && p.http_status >= 400 && p.http_status < 500 &&
                               p.http_status != 429 && !p.alma_code.empty();
    if (about_the_set) throw set_error("set " + set_id + " cannot be read: " + said, 2);
    throw set_error("could not read set " + set_id + ": " + said + "; run the command again later", 3);
}

// Written aside and renamed, so a file that exists is whole; the side file is created afresh,
// never through a symbolic link (open_side_file).
inline void save_members(std::string const& path, std::string const& text) {
    std::string const part = path + ".part";
    int const fd = open_side_file(part, O_WRONLY, true);
    try {
        write_all(fd, text.data(), text.size(), part);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    std::filesystem::rename(part, path);
}

inline void save_id_list(std::string const& path, std::vector<std::string> const& ids) {
    std::string text;
    for (auto const& id : ids) text += id + '\n';
    save_members(path, text);
}

}  // namespace detail

// The MMS IDs of a set of bibs, in the set's order. Throws set_error.
inline std::vector<std::string> read_set_members(alma::client& client, std::string const& set_id) {
    alma::set_info const info = detail::await_set_call(client, client.set(set_id), set_id);
    if (info.content != alma::bib_set_content)
        throw set_error("set " + set_id + (info.name.empty() ? "" : " (" + info.name + ")") + " holds " +
                            (info.content_desc.empty() ? info.content : info.content_desc + ", " + info.content) +
                            ", not bibliographic records (" + std::string{alma::bib_set_content} + ")",
                        2);
    // Pages are asked by offset: a member added or removed while the set is read shifts those
    // after it, so a page would repeat a member or skip one, and the run would export bibs the set
    // never held together. Every page says the set's count: a reading whose count changed, or
    // that lists a member twice, is not trusted, and the set is read again from the start (the
    // set as it is now). A set that keeps changing stops the command: run it again later.
    constexpr int readings = 3;
    std::string change;
    for (int reading = 0; reading < readings; ++reading) {
        std::vector<std::string> ids;
        std::unordered_set<std::string> seen;
        std::uint64_t total = 0;
        change.clear();
        do {
            alma::set_page page = detail::await_set_call(client, client.set_members(set_id, ids.size()), set_id);
            if (!ids.empty() && page.total != total)
                change = "its count went from " + std::to_string(total) + " to " + std::to_string(page.total);
            else if (page.ids.empty() && ids.size() < page.total)
                change = "it says it has " + std::to_string(page.total) + " members but lists none from " +
                         std::to_string(ids.size()) + " on";
            total = page.total;
            for (auto& id : page.ids) {
                if (!change.empty()) break;
                if (!seen.insert(id).second) change = "member " + id + " came twice";
                ids.push_back(std::move(id));
            }
        } while (change.empty() && ids.size() < total);
        if (change.empty()) {
            if (ids.empty()) throw set_error("set " + set_id + " has no members", 2);
            return ids;
        }
    }
    throw set_error("set " + set_id + " changed while it was read, " + std::to_string(readings) + " times (last: " +
                        change + "); run the command again when the set is not being edited",
                    3);
}

namespace detail {
// The members' bib records, 100 a call, as a MARCXML export in the set's order. A bib Alma no
// longer has stays in it as a record of its MMS ID alone, so the run reports it as it would
// from a list.
inline void save_bib_records(alma::client& client, std::string const& set_id, std::string const& path,
                             std::vector<std::string> const& ids) {
    std::map<std::string, marc::record> found;
    for (std::size_t at = 0; at < ids.size(); at += alma::endpoints::max_bibs_per_call) {
        auto const end = std::min(ids.size(), at + alma::endpoints::max_bibs_per_call);
        std::vector<std::string> group(ids.begin() + static_cast<std::ptrdiff_t>(at),
                                       ids.begin() + static_cast<std::ptrdiff_t>(end));
        for (auto& b : await_set_call(client, client.bib_records(std::move(group)), set_id))
            found.insert_or_assign(std::move(b.mms_id), std::move(b.record));
    }
    std::ostringstream out;
    marc::marcxml_writer xml{out};
    for (auto const& id : ids) {
        auto it = found.find(id);
        xml.write(it != found.end() ? it->second : marc::record{"     nam a22     7i 4500", {marc::field{"001", id}}});
    }
    xml.finish();
    save_members(path, std::move(out).str());
}
}  // namespace detail

// Where a run that cannot be resumed (its output is standard output) keeps a set's members while
// it runs: a file of its own in the temporary directory, for the caller to remove.
inline std::string temporary_members_path(std::string const& program) {
    return (std::filesystem::temp_directory_path() / (program + "-set-" + std::to_string(::getpid()) + ".txt")).string();
}

// A file removed when this goes out of scope, however the scope is left: a set's members kept for
// a run that cannot be resumed.
class scoped_file {
public:
    scoped_file() = default;
    explicit scoped_file(std::string path) : path_{std::move(path)} {}
    scoped_file(scoped_file const&) = delete;
    scoped_file& operator=(scoped_file const&) = delete;
    ~scoped_file() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove(path_, ec);
    }
    std::string const& path() const noexcept { return path_; }

private:
    std::string path_;
};

// The run's input for a set: the file saved at `members_path` when resuming and it is there,
// else the set's members read from Alma and saved there — as a list of MMS IDs, or, with
// `with_records`, as a MARCXML export of their bib records (one more call per 100 bibs), for a
// run that needs the bibs' data (their OCLC numbers). Returns members_path.
inline std::string set_input(alma::client& client, std::string const& set_id, std::string const& members_path,
                             bool resume, std::ostream& log, std::string const& program, bool with_records = false) {
    if (resume && std::filesystem::exists(members_path)) return members_path;
    if (resume) log << program << ": no saved members at " << members_path << "; reading set " << set_id << " again\n";
    auto const ids = read_set_members(client, set_id);
    if (with_records)
        detail::save_bib_records(client, set_id, members_path, ids);
    else
        detail::save_id_list(members_path, ids);
    log << program << ": set " << set_id << ": " << ids.size() << " bibs\n";
    return members_path;
}

// A program's input as the user names it: a file (an export or a list of MMS IDs) or an Alma set
// of bibs (--set), exactly one of the two. A set's members are saved beside a resumable run's
// output (OUTPUT.set-members, a link's target followed), where --resume finds them; for a run
// that cannot be resumed (standard output, a device, a FIFO) or keeps nothing (a dry run: give
// no output), in a temporary file that lives as long as this.
//
//   pipeline::chosen_input in{input, set_id, "west-holdings", output};  // throws setup_error
//   options.input = in.path(client, resume, std::cerr);
//   ...
//   in.finished(result.stopped);
class chosen_input {
public:
    // `resumable_output`: the output of a run that can be resumed; empty or "-" when it cannot.
    // A set's members go beside it when it is a regular file (new or existing), so its directory
    // must be there, and the members' name fit there, before anything is asked.
    chosen_input(std::string file, std::string set_id, std::string program, std::string const& resumable_output = "")
        : file_{std::move(file)}, set_id_{std::move(set_id)}, program_{std::move(program)} {
        if (file_.empty() == set_id_.empty())
            throw setup_error(program_ + ": give an INPUT (an export or a list of MMS IDs) or --set SET_ID");
        if (set_id_.empty()) return;
        if (!alma::is_valid_id(set_id_))
            throw setup_error(program_ + ": --set takes an Alma set ID (digits), not " + alma::quoted_id(set_id_));
        output_target beside;
        if (!resumable_output.empty()) try {
                beside = resolve_output(resumable_output);
            } catch (path_refused const& e) {
                throw setup_error(program_ + ": " + e.what());
            }
        if (!beside.is_file()) {
            temporary_ = std::make_unique<scoped_file>(temporary_members_path(program_));
            members_ = temporary_->path();
            return;
        }
        members_ = beside.members_path();
        auto const dir = std::filesystem::path{members_}.parent_path();
        long const max = ::pathconf(dir.empty() ? "." : dir.c_str(), _PC_NAME_MAX);
        // Saved aside first, as MEMBERS.part.
        if (max > 0 && std::filesystem::path{members_}.filename().string().size() + 5 > static_cast<std::size_t>(max))
            throw setup_error(program_ + ": cannot save the set's members as " + members_ +
                              ".part: the name is too long for its directory; name a shorter output");
    }

    bool from_set() const noexcept { return !set_id_.empty(); }
    std::string const& set_id() const noexcept { return set_id_; }

    // The file the run reads: the one named, or the set's members (see set_input; with_records
    // saves their bib records). Throws set_error when the set cannot be read.
    std::string const& path(alma::client& client, bool resume, std::ostream& log, bool with_records = false) {
        if (from_set() && !read_) {
            set_input(client, set_id_, members_, resume, log, program_, with_records);
            read_ = true;
        }
        return from_set() ? members_ : file_;
    }

    // Once the run is over: the saved members go, unless the run stopped and can be resumed.
    void finished(bool stopped) {
        std::error_code ec;
        if (from_set() && !stopped && !temporary_) std::filesystem::remove(members_, ec);
    }

private:
    std::string file_, set_id_, program_, members_;
    std::unique_ptr<scoped_file> temporary_;
    bool read_ = false;
};

}  // namespace marcpipe::pipeline
