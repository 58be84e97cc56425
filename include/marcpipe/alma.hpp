// marcpipe/alma: Alma's API: where it is, its calls, answers and errors.
#pragma once

#include "marcpipe/alma/analytics.hpp"
#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/error.hpp"
#include "marcpipe/alma/holdings.hpp"
#include "marcpipe/alma/http_policy.hpp"
#include "marcpipe/alma/ids.hpp"
#include "marcpipe/alma/report.hpp"
#include "marcpipe/alma/sets.hpp"
