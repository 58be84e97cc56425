// marcpipe: the whole library in one include, layer by layer (docs/architecture.md).
#pragma once

#include "marcpipe/alma.hpp"
#include "marcpipe/coro.hpp"
#include "marcpipe/marc.hpp"
#include "marcpipe/net.hpp"
#include "marcpipe/pipeline.hpp"
#include "marcpipe/run.hpp"
#include "marcpipe/west.hpp"
