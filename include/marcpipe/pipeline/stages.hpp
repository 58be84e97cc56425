// stages: every pipeline stage in one include —
//   bibs(input, problems) / marc_records(input, problems) | mms_ids(problems)
//   | with_bib_records(run) | holdings_ids(client) | holdings_records(client) | rewrite_001_004 | copy_oclc_number()
//   | require_field("583") | write_marc21(out, problems) / write_marcxml(out, problems)
// and the closure that makes a segment of them a stage of its own (stage.hpp).
#pragma once

#include "bib_records_stage.hpp"
#include "io_stages.hpp"
#include "run.hpp"
#include "items.hpp"
#include "sources.hpp"
#include "stage.hpp"
#include "transforms.hpp"
#include "writers.hpp"
