// The task ledger as read from an audit log (policy/task_ledger.h), through an index that is
// only a cache: `task-index.json` in the log directory holds the task.* records read so far
// and where reading stopped (file, offset, and the hash of the record there). Loading reads
// the index and then only the log after it; an index that does not match the log (the record
// at its offset is not the one it names, a file is gone) is ignored and the whole log is read.
// `tollgate audit reindex` rebuilds it from the log alone.
//
// Dispatches are serialised by a lock file (tasks.lock) in the log directory, held from
// reading the ledger until the dispatch is recorded: two dispatches of one task cannot both
// find it idle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "policy/task_ledger.h"

namespace tollgate::governance {

inline constexpr const char* kTaskIndexFile = "task-index.json";
inline constexpr const char* kTaskLockFile = "tasks.lock";

struct LedgerLoadStats {
  bool index_used = false;         // the index matched the log and reading resumed from it
  std::string index_ignored_why;   // why it was not used (empty: used, or absent)
  std::uint64_t lines_read = 0;    // log lines read past the index
  std::uint64_t task_records = 0;  // task.* records in the ledger
};

// Reads the ledger of the log in `directory` (a missing directory is an empty ledger) and
// refreshes the index when anything new was read. False with `error` when the log cannot be
// read or holds a task record that is not a record.
// `events`, when given, receives the task records themselves, in log order.
bool LoadLedger(const std::string& directory, policy::TaskLedger* ledger, LedgerLoadStats* stats,
                std::string* error, std::vector<policy::TaskEvent>* events = nullptr);

// Removes the index and reads the whole log into a new one.
bool ReindexLedger(const std::string& directory, policy::TaskLedger* ledger, LedgerLoadStats* stats,
                   std::string* error);

// An exclusive lock on the log directory's tasks.lock, released when destroyed.
class DispatchLock {
 public:
  static std::unique_ptr<DispatchLock> Acquire(const std::string& directory, std::string* error);
  ~DispatchLock();
  DispatchLock(const DispatchLock&) = delete;
  DispatchLock& operator=(const DispatchLock&) = delete;

 private:
  explicit DispatchLock(int fd) : fd_(fd) {}
  int fd_;
};

// This process as a supervisor (pid, start time, boot id), for task.dispatched.
policy::Supervisor ThisSupervisor();
// Whether that supervisor is still running (same boot, same pid with the same start time).
bool SupervisorAlive(const policy::Supervisor& supervisor);

}  // namespace tollgate::governance
