// The quota floor's arithmetic: which call may start, with the calls on their way counted.
#include <marcpipe/net/quota_floor.hpp>

#include "catch.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace quota_floor_test {

using marcpipe::net::quota_floor;
using marcpipe::net::quota_keep;

TEST_CASE("a call starts only while the calls left, less those on their way, stay above the floor", "[net][quota]") {
    quota_keep keep;
    keep.calls = 10;
    quota_floor floor{keep};
    CHECK(floor.active());
    CHECK(floor.may_start(5));  // nothing known yet: the client sends its first call alone
    floor.seen(20);
    CHECK(floor.calls_kept() == 10);
    // 20 left: nine more calls leave 11, ten leave 10, eleven would leave 9.
    CHECK(floor.may_start(0));
    CHECK(floor.may_start(9));
    CHECK_FALSE(floor.may_start(10));
    // An answer that left Alma earlier, with a higher count, arrives late: the lowest count holds.
    floor.seen(15);
    floor.seen(18);
    CHECK(floor.remaining() == 15);
    CHECK(floor.may_start(4));
    CHECK_FALSE(floor.may_start(5));
    CHECK(floor.reason().find("--resume") != std::string::npos);
}

TEST_CASE("before the first answer an exact floor lets one call go, a share one second's calls", "[net][quota]") {
    quota_keep exact;
    exact.calls = 500;
    CHECK(quota_floor{exact}.first_wave(25) == 1);
    CHECK(quota_floor{quota_keep{}}.first_wave(25) == 25);
    CHECK(quota_floor{quota_keep{}}.first_wave(2.5) == 2);
    CHECK(quota_floor{quota_keep{}}.first_wave(0.1) == 1);       // at least the first call
    CHECK(quota_floor{quota_keep{}}.first_wave(0) == 1);         // no rate limit: one, as before
    CHECK(quota_floor{quota_keep{}}.first_wave(1e6) == 1000);    // bounded however fast
}

TEST_CASE("by default a tenth of the calls left at the first answer is kept", "[net][quota]") {
    quota_floor floor{quota_keep{}};
    floor.seen(1001);
    CHECK(floor.calls_kept() == 101);  // rounded up: never less than a tenth
    floor.seen(900);
    CHECK(floor.calls_kept() == 101);  // fixed when the run starts
    CHECK(quota_floor{}.may_start(1'000'000));  // no floor asked for
    CHECK_FALSE(quota_floor{}.active());
}

}  // namespace quota_floor_test
