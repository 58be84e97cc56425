// A net header that knows Alma: what check-layers must refuse (see tests/layers/meson.build).
#pragma once
#include "../alma/codes.hpp"
