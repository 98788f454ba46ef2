// Finds the files a sandboxed run left in its workspace (test reports, artifacts) and reads them
// from outside the sandbox, possibly as root, without ever leaving the workspace.
//
// The agent wrote the tree, so it is walked as an adversary's: every directory and file is opened
// with openat2(2) relative to its parent's descriptor, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, one name at a time, so that no symlink is followed, no
// name leads out of the workspace and no mount inside it is entered. Only regular files are read,
// opened O_NONBLOCK | O_NOFOLLOW | O_NOCTTY and checked with fstat afterwards (a FIFO put in a
// file's place never blocks the supervisor; a device is never read). Every walk is bounded
// (EvidenceLimits) so that a hostile tree can make it neither slow nor huge; a bound that was hit
// is reported, never silent.
//
// Patterns are workspace-relative and '/'-separated. Each segment is an fnmatch(3) pattern (`*`,
// `?`, `[...]`, backslash escapes) matched with FNM_PERIOD: a leading '.' of a name is matched
// only by a segment that starts with '.'. A whole segment `**` matches zero or more directories:
// every directory but `.git` (a `.git` segment named in the pattern is entered) and a symlink; a
// trailing `**` stands for `**/*`. Refused: an empty pattern, an absolute one, an empty segment
// ("a//b", a trailing '/'), a "." or ".." segment, a NUL byte.
//
// What is not followed or not read is reported in `skipped` with the reason: a symlink, a
// directory or other non-regular file whose name matches the pattern's last segment, a directory
// that is a mount point or cannot be opened, a file over the per-file bound. Symlinks met while
// `**` descends are not followed and not reported (a tree has many; none is read).
//
// A hard link is read like any file: the agent could only link a file it could already read and
// write in its own view (fs.protected_hardlinks). A kernel without openat2 (before 5.6) gets an
// error, not a walk without its guarantees.
//
// The modification time is the agent's to set (utimensat), so `modified_since_ns` only keeps a
// report left by an earlier run from counting for this one; it is no proof of when a file was
// written.
//
// No exceptions escape; errors are values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::governance {

struct EvidenceLimits {
  std::size_t max_matches = 4096;              // files and stale files together; skipped ones apart
  std::size_t max_entries = 100000;            // directory entries read, over the whole walk
  int max_depth = 32;                          // directories below the workspace
  std::uint64_t max_file_bytes = 16ull << 20;  // a larger file is skipped, not cut
  std::uint64_t max_total_bytes = 256ull << 20;  // read over the whole walk
};

struct EvidenceOptions {
  bool read_content = false;  // keep each file's bytes in EvidenceFile::content
  // Files modified before this time (ns since the epoch) are listed in `stale`, not read.
  std::optional<std::int64_t> modified_since_ns;
  EvidenceLimits limits;
};

struct EvidenceFile {
  std::string path;           // workspace-relative, '/'-separated, the name's bytes as they are
  std::uint64_t size = 0;     // bytes read (fstat's size for a stale file, which is not read)
  std::int64_t mtime_ns = 0;  // ns since the epoch
  std::string sha256;         // lower-case hex of the bytes read; empty for a stale file
  std::optional<std::string> content;  // with read_content, for a file that was read

  bool operator==(const EvidenceFile&) const = default;
};

struct SkippedEvidence {
  std::string path;
  std::string reason;  // "symbolic link, not followed", "a FIFO, not a regular file", ...

  bool operator==(const SkippedEvidence&) const = default;
};

// Which bound stopped the walk or left something out.
struct EvidenceBounds {
  bool matches = false;      // max_matches files found (or as many skipped): the walk stopped
  bool entries = false;      // max_entries directory entries read: the walk stopped
  bool depth = false;        // a directory deeper than max_depth was not entered
  bool total_bytes = false;  // max_total_bytes read: the walk stopped
  bool file_bytes = false;   // a file over max_file_bytes was skipped

  bool Any() const { return matches || entries || depth || total_bytes || file_bytes; }
  // "" when none; else e.g. "4096 matches, 100000 directory entries" given the limits in force.
  std::string Describe(const EvidenceLimits& limits) const;
  bool operator==(const EvidenceBounds&) const = default;
};

struct EvidenceScan {
  std::vector<EvidenceFile> files;       // sorted by path, each path once
  std::vector<EvidenceFile> stale;       // older than modified_since_ns; sorted by path
  std::vector<SkippedEvidence> skipped;  // sorted by path, then reason
  EvidenceBounds bounds;
};

struct EvidenceResult {
  std::optional<EvidenceScan> scan;
  std::string error;  // when `scan` is empty: every bad pattern, or why the workspace is unusable
};

// Why `pattern` is refused, or "" when it is a valid pattern.
std::string CheckEvidencePattern(std::string_view pattern);

// The files of the workspace matching any of `patterns`. `workspace_fd` is a directory
// descriptor (O_PATH is enough); it is not closed.
EvidenceResult FindEvidence(int workspace_fd, const std::vector<std::string>& patterns,
                            const EvidenceOptions& options = {});
// The same for a workspace given by path (the path itself may contain symlinks: it is the
// supervisor's, not the agent's).
EvidenceResult FindEvidence(const std::string& workspace, const std::vector<std::string>& patterns,
                            const EvidenceOptions& options = {});

}  // namespace tollgate::governance
