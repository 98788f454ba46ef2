// A task as the supervisor identifies it: read from text or a task file, classified by the
// classes file on the profile search path, and keyed (docs/GOVERNANCE.md, "The task key").
// Shared by `tollgate classify` and `tollgate run --task`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/classifier.h"
#include "policy/profile_loader.h"

namespace tollgate::governance {

// A task file: {"title", "description", "kind", "scope": [...], "phase", "base"}; strict.
bool ParseTaskFile(const std::string& text, policy::TaskSpec* task, std::string* error);
// Reads and parses a task file; false with `error` naming the file and the problem.
bool ReadTaskFile(const std::string& path, policy::TaskSpec* task, std::string* error);

// The classes file: `given`, else the first classes.json on the profile search path.
std::string FindClassesFile(const std::string& given);

struct LoadedClasses {
  std::string file;
  policy::Classes classes;
};
// Reads and checks the classes file; nullopt with every problem in `error` (one per line).
std::optional<LoadedClasses> LoadClasses(const std::string& given, std::string* error);

// The digest `run.start` records for a profile: SHA-256 over the SHA-256 of each file loaded.
std::string ProfileDigest(const std::vector<std::string>& file_digests);

struct IdentifiedTask {
  policy::TaskSpec task;
  policy::Classification classification;  // task_class points into the LoadedClasses given
  std::vector<std::string> scope;         // normalised
  std::string text;                       // normalised
  std::string profile_file;
  std::string profile_digest;
  std::string key;
};

// Classifies `task` and computes its key (the class's profile must load: its digest is part of
// the key). nullopt with `error` set when the task names an unknown kind, its scope leaves the
// workspace, or the profile cannot be loaded.
std::optional<IdentifiedTask> IdentifyTask(const policy::TaskSpec& task,
                                           const policy::Classes& classes, std::string* error);

}  // namespace tollgate::governance
