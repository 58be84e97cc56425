// answer_memo: where a context keeps Alma's answers and takes them back, so that a run resumed
// after an interruption asks again only for what was in flight. The stages see only this; the
// run keeps the answers on disk (run/answer_log.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "marcpipe/alma/holdings.hpp"
#include "marcpipe/alma/report.hpp"

namespace marcpipe::pipeline {

class answer_memo {
public:
    virtual ~answer_memo() = default;
    // A bib's holdings list (or the problem) kept earlier; taken out of the memo.
    virtual std::optional<alma::outcome<std::vector<std::string>>> recall_list(
        std::uint64_t bib_seq, std::string const& mms_id) = 0;
    virtual std::optional<alma::outcome<alma::holding>> recall_record(
        std::uint64_t bib_seq, std::string const& mms_id, std::string const& holding_id) = 0;
    virtual void remember_list(std::uint64_t bib_seq, std::string const& mms_id,
                               alma::outcome<std::vector<std::string>> const& answer) = 0;
    virtual void remember_record(std::uint64_t bib_seq, std::string const& mms_id,
                                 std::string const& holding_id,
                                 alma::outcome<alma::holding> const& answer) = 0;
};

}  // namespace marcpipe::pipeline
