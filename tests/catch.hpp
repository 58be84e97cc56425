// Catch2 include shim: the tests build against Catch2 v2 (Debian 12) and v3 alike.
#pragma once
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
