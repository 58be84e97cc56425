// Test runner entry point, shared by every test executable.
//
// Two of Catch2's warnings are always errors here, however a suite is started (meson, the
// under-load script, by hand): a filter that matches no test case, which would let a renamed tag
// empty a suite silently, and a test case that ran no assertion, which passes without having
// checked anything (a reference tool that was missing, a loop whose table came out empty).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    Catch::Session session;
    if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
    auto& config = session.configData();
    config.warnings = static_cast<Catch::WarnAbout::What>(config.warnings | Catch::WarnAbout::NoTests |
                                                          Catch::WarnAbout::NoAssertions);
    return session.run();
}
