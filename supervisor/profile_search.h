// Where profiles are found by name, and a loader that reads them from the disk.
#pragma once

#include <string>
#include <vector>

#include "policy/profile_loader.h"

namespace tollgate {

// In order: ./.tollgate/profiles, $XDG_CONFIG_HOME/tollgate/profiles (or ~/.config/…), the
// installed profiles (next to the binary: <bin>/../share/tollgate/profiles, then the install
// prefix), and the source tree's profiles/. Only directories that exist are returned.
std::vector<std::string> ProfileSearchDirs();
// The same places, whether they exist or not (relative ones as given): where a profile could
// appear (profile_inputs.h).
std::vector<std::string> ProfileSearchCandidates();

// A ProfileLoader over ProfileSearchDirs() reading real files. With `file_digests`, the SHA-256
// of every file it reads is appended there, in the order read (the profile's digest); with
// `files_read`, the path of every file it reads.
policy::ProfileLoader MakeProfileLoader(std::vector<std::string>* file_digests = nullptr,
                                        std::vector<std::string>* files_read = nullptr);

}  // namespace tollgate
