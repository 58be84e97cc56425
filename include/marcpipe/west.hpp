// marcpipe/west: WEST's rules, the archive file's name, the --west preset's stage.
#pragma once

#include "marcpipe/west/west_checks.hpp"
#include "marcpipe/west/west_output.hpp"
#include "marcpipe/west/west_stage.hpp"
