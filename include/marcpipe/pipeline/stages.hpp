// stages: every pipeline stage in one include —
//   bibs(input) / marc_records(input) | mms_ids | holdings_ids(client) | holdings_records(client)
//   | rewrite_001_004 | require_field("583") | write_marc21(out) / write_marcxml(out)
// and the closure that makes a segment of them a stage of its own (stage.hpp).
#pragma once

#include "io_stages.hpp"
#include "items.hpp"
#include "sources.hpp"
#include "stage.hpp"
#include "transforms.hpp"
#include "writers.hpp"
