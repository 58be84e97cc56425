// File names are anyone's text: west-check shows them on standard error escaped as its CSV does,
// so a name holding a terminal escape or a bidirectional override cannot act on the terminal.
#include <filesystem>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace shown_names_test {

using namespace marcpipe::testing;

TEST_CASE("west-check shows a file name with ESC and a bidi override escaped on standard error",
          "[programs][west-check][text]") {
    scratch_dir dir;
    // ESC ] 0 ; ... BEL retitles the window; U+202E makes the rest of the line read backwards.
    std::string const hostile = "a\x1b]0;owned\x07" "b\xE2\x80\xAE" "txt.mrc";
    std::string const shown = "a\\x1B]0;owned\\x07b\\xE2\\x80\\xAEtxt.mrc";
    std::ofstream{dir / "ids.txt"} << "99123450006421\n";
    std::filesystem::copy_file(dir / "ids.txt", dir / hostile);

    for (std::string const& name : {hostile, hostile + ".missing"}) {
        auto r = run(program("west-check"), {(dir / name).string()});
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find('\x1b') == std::string::npos);
        CHECK(r.err.find('\x07') == std::string::npos);
        CHECK(r.err.find("\xE2\x80\xAE") == std::string::npos);
        CHECK(r.err.find(shown) != std::string::npos);
    }
}

}  // namespace shown_names_test
