// csv: the cells of an RFC 4180 text, as the error reports are written: quoted cells may hold
// commas, doubled quotes and line ends; rows end in CRLF (a bare LF is taken too).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace marcpipe::testing {

using csv_row = std::vector<std::string>;

// Every row, the header included. Throws on a quote left open.
inline std::vector<csv_row> csv_rows(std::string_view text) {
    std::vector<csv_row> rows;
    csv_row row;
    std::string cell;
    bool quoted = false;
    bool row_started = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char const c = text[i];
        if (quoted) {
            if (c != '"')
                cell += c;
            else if (i + 1 < text.size() && text[i + 1] == '"')
                cell += text[++i];
            else
                quoted = false;
            continue;
        }
        row_started = true;
        if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row.push_back(std::move(cell));
            cell.clear();
        } else if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
            if (c == '\r') ++i;
            row.push_back(std::move(cell));
            cell.clear();
            rows.push_back(std::move(row));
            row.clear();
            row_started = false;
        } else {
            cell += c;
        }
    }
    if (quoted) throw std::runtime_error("CSV: a quoted cell is not closed");
    if (row_started) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
    }
    return rows;
}

// The rows after the header.
inline std::vector<csv_row> csv_records(std::string_view text) {
    auto rows = csv_rows(text);
    if (!rows.empty()) rows.erase(rows.begin());
    return rows;
}

// One column of every row after the header, found by its name in the header.
inline std::vector<std::string> csv_column(std::string_view text, std::string const& name) {
    auto rows = csv_rows(text);
    if (rows.empty()) return {};
    std::size_t col = 0;
    while (col < rows[0].size() && rows[0][col] != name) ++col;
    if (col == rows[0].size()) throw std::runtime_error("CSV: no column " + name);
    std::vector<std::string> out;
    for (std::size_t r = 1; r < rows.size(); ++r) out.push_back(col < rows[r].size() ? rows[r][col] : "");
    return out;
}

}  // namespace marcpipe::testing
