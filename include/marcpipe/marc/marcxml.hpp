// MARCXML: reading (marcxml_reader, from_marcxml) and writing (marcxml_writer) in one include.
#pragma once

#include <marcpipe/marc/marcxml_reader.hpp>
#include <marcpipe/marc/marcxml_writer.hpp>
