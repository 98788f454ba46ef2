// Loading profiles: strict JSON, every error collected with its JSON path and line:column.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policy/profile.h"

namespace tollgate::policy {

struct ProfileError {
  std::string file;              // the profile file the error is in
  std::string json_path;         // "/filesystem/write/2", or "" for the whole document
  int line = 0;                  // 1-based; 0 when not known
  int column = 0;                // 1-based; 0 when not known
  std::string message;           // what is wrong
  std::string hint;              // how to fix it; may be empty
  std::string ToString() const;  // "file:line:col: /json/path: message (hint)"
};

struct LoadResult {
  std::optional<Profile> profile;    // set only when errors is empty
  std::vector<ProfileError> errors;  // every error found, in file order
  bool ok() const { return profile.has_value() && errors.empty(); }
};

// Reads a whole file; nullopt when it cannot be read. Injected so that policy/ makes no syscalls
// and tests can load profiles from memory.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
// True when a regular file exists at path.
using FileExists = std::function<bool(const std::string& path)>;

class ProfileLoader {
 public:
  // search_dirs: where profiles are found by name ("<dir>/<name>.json"), in order.
  ProfileLoader(std::vector<std::string> search_dirs, FileReader read, FileExists exists);

  // A name ("workspace-write") or a path (contains '/' or ends in ".json").
  LoadResult Load(const std::string& name_or_path) const;
  // Parse one document as if it were the file `file` (extends are still resolved by name).
  LoadResult LoadText(const std::string& file, const std::string& text) const;

  // Where a name would be found, or nullopt. Paths are returned as given.
  std::optional<std::string> Resolve(const std::string& name_or_path) const;

  const std::vector<std::string>& search_dirs() const { return search_dirs_; }

 private:
  std::vector<std::string> search_dirs_;
  FileReader read_;
  FileExists exists_;
};

// The placeholders a path may start with.
inline constexpr const char* kPlaceholders[] = {"{workspace}", "{home}", "{tmp}", "{cache}"};

// "512M" -> 536870912; "1.5G"; plain numbers are bytes. nullopt when malformed.
std::optional<std::uint64_t> ParseSize(const std::string& text);
// "30m" -> 1800; "90s", "2h", "1h30m"; plain numbers are seconds. nullopt when malformed.
std::optional<std::uint64_t> ParseDuration(const std::string& text);

}  // namespace tollgate::policy
