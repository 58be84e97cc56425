// counted: a value that tracks how many of its kind are alive, to prove no leak and no
// double destroy.
#pragma once

struct counted {
    static inline int alive = 0;
    static inline int constructed = 0;
    static inline int destroyed = 0;
    static void reset() { alive = constructed = destroyed = 0; }

    int value = 0;
    explicit counted(int v) : value{v} { ++alive, ++constructed; }
    counted(counted const& o) : value{o.value} { ++alive, ++constructed; }
    counted(counted&& o) noexcept : value{o.value} { ++alive, ++constructed; }
    counted& operator=(counted const&) = default;
    counted& operator=(counted&&) = default;
    ~counted() {
        --alive, ++destroyed;
        value = -1;
    }
};
