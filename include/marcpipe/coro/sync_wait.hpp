// sync_wait: run a task to completion from ordinary (non-coroutine) code.
#pragma once

#include <stdexcept>
#include <utility>

#include "marcpipe/coro/task.hpp"

namespace marcpipe::coro {

// Starts `t` and calls `drive()` until it has finished, then returns its result or rethrows
// its exception. `drive` is what makes progress while the task waits: for network work, one
// turn of the event loop. A task that suspends with nothing to drive it is a logic error.
template <typename T, typename Drive>
decltype(auto) sync_wait(task<T>& t, Drive&& drive) {
    t.start();
    while (!t.done()) drive();
    return t.result();
}

template <typename T, typename Drive>
auto sync_wait(task<T>&& t, Drive&& drive) -> std::conditional_t<std::is_reference_v<T>, T, std::remove_cv_t<T>> {
    t.start();
    while (!t.done()) drive();
    if constexpr (std::is_void_v<T>)
        t.result();
    else
        return std::move(t).result();
}

template <typename T>
decltype(auto) sync_wait(task<T>&& t) {
    return sync_wait(std::move(t), [] {
        throw std::logic_error("sync_wait: the task suspended and nothing drives it");
    });
}

}  // namespace marcpipe::coro
