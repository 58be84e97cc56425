// task<T>: a lazy coroutine that produces one value (or an exception) for whoever awaits it.
//
// Resumption of the awaiting coroutine uses symmetric transfer when the task finishes after
// having suspended (on I/O), so long chains never nest on the stack. When the task finishes
// synchronously, while its awaiter is still inside await_suspend, nothing is resumed at all:
// await_suspend returns false and the awaiter simply carries on. That keeps a loop of a
// million immediately-ready co_awaits flat even where the compiler does not turn symmetric
// transfer into a tail call (GCC 12 at -O0 and under ASan).
//
// Tasks are single-threaded: they are resumed by the thread that drives the event loop.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace marcpipe::coro {

template <typename T = void>
class task;

namespace detail {

enum class handoff : unsigned char {
    running,        // started; the awaiter is inside await_suspend
    awaiter_parked, // the task suspended; the awaiter is suspended and waits to be resumed
    finished,       // the task ran to completion while the awaiter was inside await_suspend
};

class task_promise_base {
public:
    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
            task_promise_base& promise = self.promise();
            if (promise.handoff_ == handoff::awaiter_parked) return promise.continuation_;
            promise.handoff_ = handoff::finished;
            return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }

    void unhandled_exception() noexcept { error_ = std::current_exception(); }

    // Starts the task on behalf of `awaiter`; true when the awaiter must stay suspended.
    bool start(std::coroutine_handle<> self, std::coroutine_handle<> awaiter) {
        continuation_ = awaiter;
        handoff_ = handoff::running;
        self.resume();
        if (handoff_ == handoff::finished) return false;
        handoff_ = handoff::awaiter_parked;
        return true;
    }

protected:
    void rethrow_if_failed() const {
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::coroutine_handle<> continuation_ = std::noop_coroutine();
    handoff handoff_ = handoff::running;
    std::exception_ptr error_;
};

template <typename T>
class task_promise final : public task_promise_base {
public:
    task<T> get_return_object() noexcept;

    template <typename U>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(value));
    }

    T& result() & {
        rethrow_if_failed();
        return *value_;
    }
    T&& result() && {
        rethrow_if_failed();
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void result() const { rethrow_if_failed(); }
};

template <typename T>
class task_promise<T&> final : public task_promise_base {
public:
    task<T&> get_return_object() noexcept;
    void return_value(T& value) noexcept { value_ = std::addressof(value); }
    T& result() const {
        rethrow_if_failed();
        return *value_;
    }

private:
    T* value_ = nullptr;
};

}  // namespace detail

template <typename T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    task() noexcept = default;
    explicit task(handle_type coroutine) noexcept : coroutine_{coroutine} {}
    task(task&& other) noexcept : coroutine_{std::exchange(other.coroutine_, {})} {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            reset();
            coroutine_ = std::exchange(other.coroutine_, {});
        }
        return *this;
    }
    task(task const&) = delete;
    task& operator=(task const&) = delete;
    ~task() { reset(); }

    bool valid() const noexcept { return static_cast<bool>(coroutine_); }
    bool done() const noexcept { return !coroutine_ || coroutine_.done(); }

    auto operator co_await() & noexcept { return awaiter<false>{coroutine_}; }
    auto operator co_await() && noexcept { return awaiter<true>{coroutine_}; }

    // For sync_wait and the event loop: start without an awaiting coroutine.
    void start() { coroutine_.promise().start(coroutine_, std::noop_coroutine()); }
    decltype(auto) result() & { return coroutine_.promise().result(); }
    decltype(auto) result() && { return std::move(coroutine_.promise()).result(); }

private:
    template <bool Move>
    struct [[nodiscard]] awaiter {
        handle_type coroutine;
        bool await_ready() const noexcept { return !coroutine || coroutine.done(); }
        bool await_suspend(std::coroutine_handle<> awaiting) {
            return coroutine.promise().start(coroutine, awaiting);
        }
        decltype(auto) await_resume() {
            if constexpr (Move && !std::is_reference_v<T> && !std::is_void_v<T>)
                return std::move(coroutine.promise()).result();
            else
                return coroutine.promise().result();
        }
    };

    void reset() noexcept {
        if (coroutine_) coroutine_.destroy();
        coroutine_ = {};
    }

    handle_type coroutine_{};
};

namespace detail {
template <typename T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}
template <typename T>
task<T&> task_promise<T&>::get_return_object() noexcept {
    return task<T&>{std::coroutine_handle<task_promise<T&>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace marcpipe::coro
