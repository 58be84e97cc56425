// The umbrella of the test tree's alma/.
#pragma once

#include "marcpipe/alma/codes.hpp"
