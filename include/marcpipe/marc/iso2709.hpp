// iso2709: ISO 2709 (MARC21 binary) reading and writing, in one include.
#pragma once

#include "marcpipe/marc/iso2709_reader.hpp"
#include "marcpipe/marc/iso2709_writer.hpp"
#include "marcpipe/marc/record_view.hpp"
