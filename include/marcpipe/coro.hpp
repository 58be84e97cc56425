// marcpipe/coro: coroutines: generator, task, sync_wait.
#pragma once

#include "marcpipe/coro/generator.hpp"
#include "marcpipe/coro/sync_wait.hpp"
#include "marcpipe/coro/task.hpp"
