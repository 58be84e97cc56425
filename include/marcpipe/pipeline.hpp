// marcpipe/pipeline: what a composition needs: sources, the stages that ask Alma, transforms, writers, the context a stage is given.
#pragma once

#include "marcpipe/pipeline/answer_memo.hpp"
#include "marcpipe/pipeline/bib_records_stage.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/pipeline/io_stages.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/pairs.hpp"
#include "marcpipe/pipeline/pairs_source.hpp"
#include "marcpipe/pipeline/progress.hpp"
#include "marcpipe/pipeline/sources.hpp"
#include "marcpipe/pipeline/stage.hpp"
#include "marcpipe/pipeline/transforms.hpp"
#include "marcpipe/pipeline/writers.hpp"
