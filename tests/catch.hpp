// Catch2 include for the tests: Catch2 v2 (2.13, Debian 12's catch2 package; see tests/meson.build).
#pragma once
#include <catch2/catch.hpp>
