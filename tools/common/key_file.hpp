// key_file: refuses an API key file that others can read, as ssh refuses such a private key: the
// key opens the institution's Alma to whoever holds it. The tools' own code, not the library's.
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <string>

#include <marcpipe/alma/client.hpp>

namespace marcpipe::tools {

// Throws alma::config_error when `path` is a regular file (after links) that its group or others
// may read. A pipe or a device (`--api-key-file <(pass alma)`) is not a file anyone else reads
// later, and is left to the reader's own checks.
inline void check_key_file_private(std::optional<std::string> const& path) {
    struct stat st{};
    if (!path || ::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    if ((st.st_mode & (S_IRGRP | S_IROTH)) == 0) return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw alma::config_error("the API key file " + *path + " can be read by its group or others (mode " + mode +
                             "); make it private: chmod 600 " + *path);
}

}  // namespace marcpipe::tools
