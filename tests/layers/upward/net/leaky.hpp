// A net header that knows Alma: what check-layers must refuse (tests/layers/refuses-upward).
#pragma once
#include "../alma/codes.hpp"
