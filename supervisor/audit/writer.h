// AuditWriter: appends records to an audit log directory (log_files.h), chained and durable.
//
// Several runs may write one log at the same time: every append takes the directory's lock
// (flock on audit.lock), notices what other writers appended or rotated since its own last
// record, and continues the one chain. Each record reaches its file in a single write(2) of a
// whole line; a failed or short write is cut back off, so no half record is ever left behind.
//
// No record, no action: Append returns false when the record could not be written, and the
// caller must then refuse the action the record describes. After the first failure the writer
// stays failed (every later Append fails) until it is closed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "supervisor/audit/record.h"

namespace tollgate::audit {

enum class SyncMode {
  kNone,   // write(2) only: the kernel writes back when it likes (tens of seconds)
  kBatch,  // group commit: fdatasync at most every batch_interval or batch_records records
  kEvery,  // fdatasync after every record, before Append returns
};
const char* SyncModeName(SyncMode mode);
std::optional<SyncMode> ParseSyncMode(std::string_view text);

struct WriterOptions {
  std::string directory;  // created (mode 0700) when missing
  SyncMode sync = SyncMode::kBatch;
  std::uint64_t rotate_bytes = 64ull << 20;  // start a new file past this size
  bool rotate_daily = true;                  // and when the UTC day changes
  std::chrono::milliseconds batch_interval{5};
  std::size_t batch_records = 1024;
  // Copied into every record.
  std::string run;
  std::string profile;
  std::string task;  // empty: no `task` field
  // Batch mode: start the sync thread only at the first ResumeBackgroundSync() (a caller about
  // to fork saves starting and joining one thread).
  bool defer_sync_thread = false;
  // Wall-clock time in ns since the epoch; tests replace it to cross a day.
  std::function<std::int64_t()> clock;
};

class AuditWriter {
 public:
  // Opens (creating if needed) the log directory, recovers a torn last line left by a crash
  // (kept aside as <file>.torn-<time> and recorded as log.recovered), and positions the chain.
  // nullptr with `error` set when the directory cannot be used: not creatable, not a
  // directory, writable by others, not writable, or its newest record cannot be read.
  static std::unique_ptr<AuditWriter> Open(const WriterOptions& options, std::string* error);
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Writes one record. False when it could not be written (the reason is in failure()).
  bool Append(const Event& event);

  // Makes every record written so far durable (fdatasync, whatever the mode but kNone) and
  // stops the batch thread. In kBatch mode the final fdatasync may be handed to a detached
  // process (`detach_final_sync`) so the caller can exit at once; it completes within the same
  // few milliseconds a batch would. False when a sync failed.
  bool Close(bool detach_final_sync = false);

  // Batch mode syncs from a thread of its own. A process that forks (clone3 of the sandbox)
  // must be single-threaded at that moment: the child of a multi-threaded process may find a
  // lock (malloc's) held by a thread that does not exist in it. Suspend joins the thread
  // (records wait, unsynced); Resume starts it again and it syncs what waited.
  void SuspendBackgroundSync();
  void ResumeBackgroundSync();

  bool failed() const;
  std::string failure() const;
  std::uint64_t records_written() const;
  std::uint64_t last_seq() const;
  const std::string& directory() const { return options_.directory; }
  // The file the last record went to (absolute path).
  std::string current_file() const;

 private:
  explicit AuditWriter(WriterOptions options);
  bool OpenDirectory(std::string* error);
  bool Lock(std::string* error);
  void Unlock();
  // Finds the newest file and the chain's last seq and hash (caller holds the lock).
  bool SyncWithDirectory(std::string* error);
  // Re-reads the last record of the current file after another writer appended.
  bool ReadLastRecordOfCurrentFile(std::string* error);
  bool RecoverTornTail(std::uint64_t good_size, std::uint64_t file_size, std::string* error);
  bool StartNewFile(std::int64_t now_ns, std::string* error);
  bool Seal(std::string* error);
  // The line for `event` as the next record of the chain (seq and prev from the state above).
  std::string EncodeRecord(const Event& event, std::int64_t now_ns, bool drop_details,
                           std::string* hash) const;
  bool WriteLocked(const Event& event, std::int64_t now_ns, std::string* error);
  void Fail(const std::string& why);
  void SyncLoop();

  WriterOptions options_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
  int fd_ = -1;                  // the active file, O_APPEND
  std::string file_name_;        // its name
  std::string file_day_;         // its UTC day
  std::uint64_t file_size_ = 0;  // its size after our last write (or read)
  std::uint64_t last_seq_ = 0;
  std::string last_hash_{kGenesisHash};
  std::uint64_t written_ = 0;

  mutable std::mutex mutex_;  // everything above, against the batch thread
  std::string failure_;
  // Batch mode.
  std::thread sync_thread_;
  std::condition_variable sync_wakeup_;
  std::size_t unsynced_records_ = 0;
  bool stopping_ = false;
};

}  // namespace tollgate::audit
