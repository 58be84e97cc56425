// generator<T>: a lazy, single-pass coroutine sequence that is also a range-v3 view.
//
// Copies share one coroutine (shared ownership), the way range-v3's own experimental
// generator does: range-v3 0.12 requires views to be semiregular, so a move-only generator
// could not be piped as a temporary into views::filter/views::transform.
//
// A generator cannot co_await (await_transform is deleted): a stage that needs I/O drives the
// event loop synchronously from its body until the item it wants is ready.
#pragma once

#include <coroutine>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/iterator/default_sentinel.hpp>
#include <range/v3/view/interface.hpp>

namespace marcpipe::coro {

template <typename T>
class generator : public ranges::view_base {
public:
    using value_type = std::remove_cvref_t<T>;
    using reference = std::conditional_t<std::is_reference_v<T>, T, T&>;
    using pointer = std::add_pointer_t<reference>;

    class promise_type {
    public:
        generator get_return_object() noexcept {
            return generator{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }

        // The yielded object lives in the coroutine frame (a named local or a temporary of
        // the co_yield full-expression) until the coroutine resumes, so pointing at it is safe.
        std::suspend_always yield_value(std::remove_reference_t<reference>& value) noexcept {
            current_ = std::addressof(value);
            return {};
        }
        std::suspend_always yield_value(std::remove_reference_t<reference>&& value) noexcept {
            current_ = std::addressof(value);
            return {};
        }
        // A const lvalue cannot be handed out as a mutable reference: keep a copy.
        template <typename U = value_type>
            requires(!std::is_const_v<std::remove_reference_t<reference>> &&
                     std::is_copy_constructible_v<U>)
        std::suspend_always yield_value(value_type const& value) {
            copy_.emplace(value);
            current_ = std::addressof(*copy_);
            return {};
        }

        void return_void() const noexcept {}
        void unhandled_exception() noexcept { error_ = std::current_exception(); }

        // Generators are synchronous: use a task for asynchronous work.
        template <typename U>
        std::suspend_never await_transform(U&&) = delete;

        reference value() const noexcept { return static_cast<reference>(*current_); }
        void rethrow_if_failed() {
            if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
        }

    private:
        pointer current_ = nullptr;
        std::optional<value_type> copy_;
        std::exception_ptr error_;
    };

    using handle_type = std::coroutine_handle<promise_type>;

    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using iterator_category = std::input_iterator_tag;
        using value_type = generator::value_type;
        using reference = generator::reference;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;
        explicit iterator(handle_type coroutine) noexcept : coroutine_{coroutine} {}

        reference operator*() const noexcept { return coroutine_.promise().value(); }
        pointer operator->() const noexcept { return std::addressof(**this); }

        iterator& operator++() {
            coroutine_.resume();
            if (coroutine_.done()) coroutine_.promise().rethrow_if_failed();
            return *this;
        }
        void operator++(int) { ++*this; }

        friend bool operator==(iterator const& it, ranges::default_sentinel_t) noexcept {
            return !it.coroutine_ || it.coroutine_.done();
        }
        friend bool operator==(ranges::default_sentinel_t s, iterator const& it) noexcept {
            return it == s;
        }
        friend bool operator!=(iterator const& it, ranges::default_sentinel_t s) noexcept {
            return !(it == s);
        }
        friend bool operator!=(ranges::default_sentinel_t s, iterator const& it) noexcept {
            return !(it == s);
        }

    private:
        handle_type coroutine_{};
    };

    generator() noexcept = default;

    // Single pass: begin() starts the coroutine on its first call and after that returns an
    // iterator at wherever the sequence has got to.
    iterator begin() {
        if (!state_) return iterator{};
        if (!state_->started) {
            state_->started = true;
            state_->coroutine.resume();
            if (state_->coroutine.done()) state_->coroutine.promise().rethrow_if_failed();
        }
        return iterator{state_->coroutine};
    }
    ranges::default_sentinel_t end() const noexcept { return {}; }

private:
    struct state {
        explicit state(handle_type h) noexcept : coroutine{h} {}
        state(state const&) = delete;
        state& operator=(state const&) = delete;
        ~state() { coroutine.destroy(); }
        handle_type coroutine;
        bool started = false;
    };

    explicit generator(handle_type coroutine) : state_{std::make_shared<state>(coroutine)} {}

    std::shared_ptr<state> state_;
};

}  // namespace marcpipe::coro
