// marcpipe: the whole library in one include — MARC reading and writing, the HTTP engine, the
// Alma client and the pipeline stages.
#pragma once

#include "alma/answer_log.hpp"
#include "alma/client.hpp"
#include "alma/error.hpp"
#include "alma/holdings.hpp"
#include "alma/http_policy.hpp"
#include "alma/report.hpp"
#include "coro/generator.hpp"
#include "coro/sync_wait.hpp"
#include "coro/task.hpp"
#include "marc/error.hpp"
#include "marc/iso2709_reader.hpp"
#include "marc/iso2709_writer.hpp"
#include "marc/marcxml.hpp"
#include "marc/record.hpp"
#include "net/classify.hpp"
#include "net/event_loop.hpp"
#include "net/http_client.hpp"
#include "pipeline/journal.hpp"
#include "pipeline/stages.hpp"
