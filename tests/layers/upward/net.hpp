// The umbrella of the test tree's net/.
#pragma once

#include "marcpipe/net/leaky.hpp"
