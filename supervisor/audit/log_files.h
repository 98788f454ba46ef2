// The files of an audit log directory and their order.
//
// A log is a directory of files named audit-<first seq, 12 digits>-<UTC day YYYYMMDD>.jsonl.
// The name with the highest sequence number is the active file (mode 0600); every other file
// is sealed (mode 0400) and never written again. The hash chain runs through the files in name
// order: the first record of a file has as `prev` the hash of the last record of the file before
// it. A torn tail cut off during recovery is kept beside its file as <file>.torn-<time>.
// One lock file, audit.lock, serialises writers (several runs may share one log).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tollgate::audit {

inline constexpr const char* kLockFileName = "audit.lock";

struct LogFile {
  std::string name;  // file name within the directory
  std::uint64_t first_seq = 0;
  std::string day;  // YYYYMMDD (UTC) of its first record
};

// "audit-000000000001-20261127.jsonl"
std::string LogFileName(std::uint64_t first_seq, const std::string& day);
// nullopt when `name` is not a log file name.
std::optional<LogFile> ParseLogFileName(const std::string& name);

// The log files of `directory` in chain order. Empty when there are none; `error` set (and
// nothing returned) when the directory cannot be read.
std::vector<LogFile> ListLogFiles(const std::string& directory, std::string* error);

// YYYYMMDD of a time in ns since the epoch, UTC.
std::string UtcDay(std::int64_t unix_ns);

// The default log directory: $XDG_STATE_HOME/tollgate/audit (or ~/.local/state/tollgate/audit)
// for an ordinary user, /var/log/tollgate for root.
std::string DefaultLogDirectory();

}  // namespace tollgate::audit
