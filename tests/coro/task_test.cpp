// task<T> and sync_wait: lazy start, values and exceptions reach the awaiter, no leak, and a
// long chain of immediately-ready awaits does not grow the stack.
#include <marcpipe/coro/sync_wait.hpp>
#include <marcpipe/coro/task.hpp>

#include <coroutine>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "counted.hpp"

using marcpipe::coro::sync_wait;
using marcpipe::coro::task;

namespace {
task<int> ready(int v) { co_return v; }
task<std::string> concat(std::string a, std::string b) { co_return a + b; }
task<void> fails() {
    throw std::runtime_error("task failed");
    co_return;
}
task<int> awaits_failure() {
    co_await fails();
    co_return 1;
}
task<counted> make_counted(int v) { co_return counted{v}; }

// A hand-made suspension point resumed from outside, as the event loop will do.
struct external_event {
    std::coroutine_handle<> waiting;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { waiting = h; }
    void await_resume() const noexcept {}
};
task<int> waits_for(external_event& e, int v) {
    co_await e;
    co_return v;
}
task<int> sums_suspending(external_event& e, int n) {
    int total = 0;
    for (int i = 0; i < n; ++i) total += co_await waits_for(e, i);
    co_return total;
}
task<long> million_ready_awaits() {
    long total = 0;
    for (int i = 0; i < 1'000'000; ++i) total += co_await ready(1);
    co_return total;
}
}  // namespace

TEST_CASE("task is lazy and returns its value", "[coro]") {
    bool ran = false;
    auto t = [](bool& r) -> task<int> {
        r = true;
        co_return 42;
    }(ran);
    REQUIRE_FALSE(ran);
    REQUIRE(sync_wait(std::move(t)) == 42);
    REQUIRE(ran);
    REQUIRE(sync_wait(concat("holding", "_id")) == "holding_id");
}

TEST_CASE("an exception propagates through every awaiter", "[coro]") {
    REQUIRE_THROWS_WITH(sync_wait(awaits_failure()), "task failed");
}

TEST_CASE("a task resumed from outside finishes when driven", "[coro]") {
    external_event e;
    int turns = 0;
    auto total = sync_wait(sums_suspending(e, 5), [&] {
        ++turns;
        e.waiting.resume();
    });
    REQUIRE(total == 0 + 1 + 2 + 3 + 4);
    REQUIRE(turns == 5);
}

TEST_CASE("sync_wait without a driver refuses a task that suspends", "[coro]") {
    external_event e;
    REQUIRE_THROWS_AS(sync_wait(waits_for(e, 1)), std::logic_error);
}

TEST_CASE("task results are neither leaked nor destroyed twice", "[coro]") {
    counted::reset();
    {
        auto c = sync_wait(make_counted(7));
        REQUIRE(c.value == 7);
    }
    {
        auto t = make_counted(8);  // never started: destroying it frees the frame
    }
    REQUIRE(counted::alive == 0);
    REQUIRE(counted::constructed == counted::destroyed);
}

TEST_CASE("a million immediately-ready co_awaits do not overflow the stack", "[coro]") {
    REQUIRE(sync_wait(million_ready_awaits()) == 1'000'000);
}
