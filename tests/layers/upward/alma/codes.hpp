// An alma header the upward-pointing net header includes.
#pragma once
