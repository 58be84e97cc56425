// generator<T>: a range-v3 view that yields lazily, shares its coroutine when copied and
// hands exceptions to its consumer.
#include <marcpipe/coro/generator.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>

#include "catch.hpp"
#include "counted.hpp"

using marcpipe::coro::generator;

namespace {
generator<int> iota(int from, int to) {
    for (int i = from; i < to; ++i) co_yield i;
}
generator<std::string> words() {
    std::string w = "alpha";
    co_yield w;
    co_yield std::string("beta");
    std::string const constant = "gamma";
    co_yield constant;
}
generator<int> throws_after(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
    throw std::runtime_error("boom after " + std::to_string(n));
}
generator<counted> counted_values(int n) {
    for (int i = 0; i < n; ++i) {
        counted c{i};
        co_yield c;
    }
}
}  // namespace

TEST_CASE("generator is a range-v3 input view", "[coro]") {
    STATIC_REQUIRE(ranges::view_<generator<int>>);
    STATIC_REQUIRE(ranges::input_range<generator<int>>);
    STATIC_REQUIRE(ranges::view_<generator<std::string>>);
    STATIC_REQUIRE(!ranges::forward_range<generator<int>>);
}

TEST_CASE("a temporary generator pipes into filter and transform", "[coro]") {
    auto v = iota(0, 10) | ranges::views::filter([](int i) { return i % 2 == 0; }) |
             ranges::views::transform([](int i) { return i * i; }) | ranges::to<std::vector>();
    REQUIRE(v == std::vector<int>{0, 4, 16, 36, 64});
}

TEST_CASE("generator is lazy: nothing runs before it is pulled", "[coro]") {
    int started = 0;
    auto g = [](int& s) -> generator<int> {
        ++s;
        co_yield 1;
        ++s;
        co_yield 2;
    }(started);
    REQUIRE(started == 0);
    auto it = g.begin();
    REQUIRE(started == 1);
    REQUIRE(*it == 1);
    ++it;
    REQUIRE(started == 2);
    REQUIRE(*it == 2);
}

TEST_CASE("take stops a generator early without running it to the end", "[coro]") {
    auto v = iota(0, 1'000'000'000) | ranges::views::take(3) | ranges::to<std::vector>();
    REQUIRE(v == std::vector<int>{0, 1, 2});
}

TEST_CASE("generator yields lvalues, rvalues and const values", "[coro]") {
    auto v = words() | ranges::to<std::vector>();
    REQUIRE(v == std::vector<std::string>{"alpha", "beta", "gamma"});
}

TEST_CASE("copies of a generator share one single-pass sequence", "[coro]") {
    auto a = iota(0, 4);
    auto b = a;
    auto ia = a.begin();
    REQUIRE(*ia == 0);
    ++ia;
    auto ib = b.begin();
    REQUIRE(*ib == 1);
}

TEST_CASE("an exception thrown inside reaches the consumer", "[coro]") {
    std::vector<int> seen;
    auto pull = [&] {
        for (int i : throws_after(3)) seen.push_back(i);
    };
    REQUIRE_THROWS_WITH(pull(), "boom after 3");
    REQUIRE(seen == std::vector<int>{0, 1, 2});
    REQUIRE_THROWS_WITH([] { for (int i : throws_after(0)) (void)i; }(), "boom after 0");
}

TEST_CASE("generator neither leaks nor double-destroys what it yields", "[coro]") {
    counted::reset();
    {
        int sum = 0;
        for (auto& c : counted_values(100)) sum += c.value;
        REQUIRE(sum == 4950);
    }
    REQUIRE(counted::alive == 0);
    REQUIRE(counted::constructed == counted::destroyed);
    {
        auto g = counted_values(10);
        auto it = g.begin();
        ++it;  // abandoned half way: destroying the generator destroys its frame and locals
    }
    REQUIRE(counted::alive == 0);
    REQUIRE(counted::constructed == counted::destroyed);
}
