// marcpipe/net: HTTP: the curl-multi event loop, the client with its rate limiter and retry policy.
#pragma once

#include "marcpipe/net/body_budget.hpp"
#include "marcpipe/net/ca_bundle.hpp"
#include "marcpipe/net/classify.hpp"
#include "marcpipe/net/duration.hpp"
#include "marcpipe/net/event_loop.hpp"
#include "marcpipe/net/http.hpp"
#include "marcpipe/net/http_client.hpp"
#include "marcpipe/net/printable.hpp"
#include "marcpipe/net/quota_floor.hpp"
#include "marcpipe/net/rate_limiter.hpp"
#include "marcpipe/net/retry.hpp"
#include "marcpipe/net/url.hpp"
