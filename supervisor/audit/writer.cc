#include "supervisor/audit/writer.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "supervisor/audit/log_files.h"

namespace tollgate::audit {

const char* SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kNone:
      return "none";
    case SyncMode::kBatch:
      return "batch";
    case SyncMode::kEvery:
      return "every";
  }
  return "batch";
}

std::optional<SyncMode> ParseSyncMode(std::string_view text) {
  if (text == "none") return SyncMode::kNone;
  if (text == "batch") return SyncMode::kBatch;
  if (text == "every") return SyncMode::kEvery;
  return std::nullopt;
}

namespace {

std::int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string ErrnoText(int error) {
  return std::strerror(error);
}

bool ReadAt(int fd, char* buffer, std::size_t size, off_t offset) {
  while (size > 0) {
    ssize_t n = pread(fd, buffer, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer += n, size -= static_cast<std::size_t>(n), offset += n;
  }
  return true;
}

// Where the last line of a file of `size` bytes starts and whether the file ends with a
// newline. Reads backwards at most two record lengths: a longer line is not a record.
struct Tail {
  std::uint64_t complete_size = 0;  // bytes up to and including the last newline
  std::string last_line;            // the last complete line, without its newline
};
bool ReadTailWithin(int fd, std::uint64_t size, std::uint64_t max_window, Tail* tail,
                    std::string* error);

bool ReadTail(int fd, std::uint64_t size, Tail* tail, std::string* error) {
  // Most records are well under 8 KiB: read that much first, the most a record can take only
  // when the last line did not fit.
  constexpr std::uint64_t kUsualWindow = 8 * 1024;
  if (size > kUsualWindow) {
    std::string small_error;
    if (ReadTailWithin(fd, size, kUsualWindow, tail, &small_error)) return true;
  }
  return ReadTailWithin(fd, size, 2 * kMaxRecordBytes + 2, tail, error);
}

bool ReadTailWithin(int fd, std::uint64_t size, std::uint64_t max_window, Tail* tail,
                    std::string* error) {
  const std::uint64_t window = std::min<std::uint64_t>(size, max_window);
  std::string data(window, '\0');
  if (!ReadAt(fd, data.data(), window, static_cast<off_t>(size - window))) {
    *error = "cannot read: " + ErrnoText(errno);
    return false;
  }
  std::size_t last_newline = data.rfind('\n');
  if (last_newline == std::string::npos) {
    if (window < size) {
      *error = "its last line is longer than any record";
      return false;
    }
    tail->complete_size = 0;  // no complete line at all
    return true;
  }
  tail->complete_size = size - window + last_newline + 1;
  std::size_t start = last_newline == 0 ? std::string::npos : data.rfind('\n', last_newline - 1);
  if (start == std::string::npos && window < size) {
    *error = "its last record is longer than any record";
    return false;
  }
  start = start == std::string::npos ? 0 : start + 1;
  tail->last_line = data.substr(start, last_newline - start);
  return true;
}

// seq and hash of a record line; false when it is not a record.
bool ParseChainPosition(const std::string& line, std::uint64_t* seq, std::string* hash,
                        std::string* error) {
  Json record = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object() || !record.contains(field::kSeq) || !record.contains(field::kHash) ||
      !record[field::kSeq].is_number_unsigned() || !record[field::kHash].is_string() ||
      record[field::kHash].get<std::string>().size() != 64) {
    *error = "its last line is not an audit record";
    return false;
  }
  *seq = record[field::kSeq].get<std::uint64_t>();
  *hash = record[field::kHash].get<std::string>();
  return true;
}

// The detached final sync. Without a sanitizer it shares the caller's memory (CLONE_VM, on a
// stack of its own, touching nothing but that stack and one fd): no page tables to copy, which
// a fork of the whole supervisor would cost on every run. The memory lives on until the child is
// done even when the caller exits first. Sanitizer runtimes cannot follow such a child: fork.
struct DetachedSync {
  int fd;
  alignas(16) char stack[16 * 1024];
};

int DetachedSyncMain(void* arg) {
  const int fd = static_cast<DetachedSync*>(arg)->fd;
  if (fd > 0) ::syscall(SYS_close_range, 0, fd - 1, 0);
  ::syscall(SYS_close_range, fd + 1, ~0U, 0);
  ::syscall(SYS_fdatasync, fd);
  return 0;
}

bool StartDetachedSync(int fd) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  pid_t child = fork();
  if (child == 0) {
    DetachedSync sync{fd, {}};
    _exit(DetachedSyncMain(&sync));
  }
  return child > 0;
#else
  // Never freed: the child may still run on it after the caller has gone.
  auto* sync = new DetachedSync{fd, {}};
  pid_t child = ::clone(DetachedSyncMain, sync->stack + sizeof sync->stack, CLONE_VM, sync);
  return child > 0;
#endif
}

}  // namespace

AuditWriter::AuditWriter(WriterOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = NowNs;
}

AuditWriter::~AuditWriter() {
  Close();
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::unique_ptr<AuditWriter> AuditWriter::Open(const WriterOptions& options, std::string* error) {
  std::unique_ptr<AuditWriter> writer(new AuditWriter(options));
  if (options.directory.empty() || options.directory[0] != '/') {
    *error = "the audit log directory must be an absolute path, not '" + options.directory + "'";
    return nullptr;
  }
  if (!writer->OpenDirectory(error)) return nullptr;
  std::string why;
  if (!writer->Lock(&why)) {
    *error = "cannot lock the audit log " + options.directory + ": " + why;
    return nullptr;
  }
  bool ok = writer->SyncWithDirectory(&why);
  writer->Unlock();
  if (!ok) {
    *error = "audit log " + options.directory + ": " + why;
    return nullptr;
  }
  if (writer->failed()) {  // the log.recovered record could not be written
    *error = writer->failure();
    return nullptr;
  }
  if (options.sync == SyncMode::kBatch && !options.defer_sync_thread)
    writer->sync_thread_ = std::thread([w = writer.get()] { w->SyncLoop(); });
  return writer;
}

bool AuditWriter::OpenDirectory(std::string* error) {
  // Create missing components 0700: the log is the supervisor's alone.
  const std::string& dir = options_.directory;
  for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = "cannot create the audit log directory " + prefix + ": " + ErrnoText(errno) +
               " (choose another with --audit-log DIR)";
      return false;
    }
    if (slash == std::string::npos) break;
  }
  dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st {};
  if (dir_fd_ < 0 || fstat(dir_fd_, &st) != 0) {
    *error = "cannot open the audit log directory " + dir + ": " + ErrnoText(errno);
    return false;
  }
  if (st.st_uid != geteuid()) {
    *error = "the audit log directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
             ", not to this user (uid " + std::to_string(geteuid()) +
             "); use a directory of your own with --audit-log DIR";
    return false;
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    *error = "the audit log directory " + dir +
             " is writable by other users, who could remove or replace records; chmod 700 it";
    return false;
  }
  if (faccessat(dir_fd_, ".", W_OK, AT_EACCESS) != 0) {
    *error = "the audit log directory " + dir + " is not writable: " + ErrnoText(errno) +
             " (choose another with --audit-log DIR)";
    return false;
  }
  lock_fd_ = openat(dir_fd_, kLockFileName, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) {
    *error = "cannot open " + dir + "/" + kLockFileName + ": " + ErrnoText(errno);
    return false;
  }
  return true;
}

bool AuditWriter::Lock(std::string* error) {
  while (flock(lock_fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    *error = ErrnoText(errno);
    return false;
  }
  return true;
}

void AuditWriter::Unlock() {
  flock(lock_fd_, LOCK_UN);
}

bool AuditWriter::SyncWithDirectory(std::string* error) {
  if (fd_ >= 0) ::close(fd_), fd_ = -1;
  file_name_.clear();
  last_seq_ = 0;
  last_hash_ = std::string(kGenesisHash);
  std::vector<LogFile> files = ListLogFiles(options_.directory, error);
  if (!error->empty()) return false;
  // Walk back from the newest file to the newest record: files may be empty (a writer that died
  // between creating a file and writing to it).
  for (std::size_t i = files.size(); i-- > 0;) {
    const LogFile& file = files[i];
    int fd = openat(dir_fd_, file.name.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EACCES)  // sealed (0400)
      fd = openat(dir_fd_, file.name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
      *error = "cannot open " + file.name + ": " + ErrnoText(errno);
      if (fd >= 0) ::close(fd);
      return false;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
      *error = file.name + " is not a regular file of this user";
      ::close(fd);
      return false;
    }
    const bool active = (st.st_mode & S_IWUSR) != 0;
    Tail tail;
    std::string why;
    if (st.st_size > 0 && !ReadTail(fd, st.st_size, &tail, &why)) {
      *error = file.name + ": " + why;
      ::close(fd);
      return false;
    }
    if (i + 1 == files.size() && active) {  // the active file: keep it open for appending
      fd_ = fd, file_name_ = file.name, file_day_ = file.day, file_size_ = st.st_size;
      if (tail.complete_size < static_cast<std::uint64_t>(st.st_size))
        return RecoverTornTail(tail.complete_size, st.st_size, error);  // positions the chain
    } else {
      ::close(fd);
    }
    if (!tail.last_line.empty()) {
      if (!ParseChainPosition(tail.last_line, &last_seq_, &last_hash_, &why)) {
        *error = file.name + ": " + why +
                 "; check the log with `tollgate audit verify` and move the damaged file aside";
        return false;
      }
      return true;
    }
  }
  return true;  // no record yet: the chain starts at the genesis hash
}

bool AuditWriter::ReadLastRecordOfCurrentFile(std::string* error) {
  struct stat st {};
  if (fstat(fd_, &st) != 0) {
    *error = "cannot stat " + file_name_ + ": " + ErrnoText(errno);
    return false;
  }
  if (static_cast<std::uint64_t>(st.st_size) < file_size_) {
    *error = file_name_ + " shrank from " + std::to_string(file_size_) + " to " +
             std::to_string(st.st_size) + " bytes while this run was writing to it";
    return false;
  }
  Tail tail;
  if (!ReadTail(fd_, st.st_size, &tail, error)) return false;
  if (tail.complete_size != static_cast<std::uint64_t>(st.st_size)) {
    *error = file_name_ + " ends in the middle of a record";
    return false;
  }
  file_size_ = st.st_size;
  return tail.last_line.empty() ||
         ParseChainPosition(tail.last_line, &last_seq_, &last_hash_, error);
}

bool AuditWriter::RecoverTornTail(std::uint64_t good_size, std::uint64_t file_size,
                                  std::string* error) {
  std::string torn(file_size - good_size, '\0');
  if (!ReadAt(fd_, torn.data(), torn.size(), static_cast<off_t>(good_size))) {
    *error = "cannot read the torn end of " + file_name_ + ": " + ErrnoText(errno);
    return false;
  }
  const std::int64_t now = options_.clock();
  std::string kept = file_name_ + ".torn-" + std::to_string(now);
  int out =
      openat(dir_fd_, kept.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  bool saved = out >= 0 &&
               write(out, torn.data(), torn.size()) == static_cast<ssize_t>(torn.size()) &&
               fsync(out) == 0;
  int saved_errno = errno;
  if (out >= 0) ::close(out);
  if (!saved) {
    *error = "cannot keep the torn end of " + file_name_ + " aside as " + kept + ": " +
             ErrnoText(saved_errno);
    return false;
  }
  if (ftruncate(fd_, static_cast<off_t>(good_size)) != 0 || fdatasync(fd_) != 0) {
    *error = "cannot cut the torn end off " + file_name_ + ": " + ErrnoText(errno);
    return false;
  }
  file_size_ = good_size;
  // Position the chain on what is left, then record the recovery in it.
  Tail tail;
  if (good_size > 0) {
    if (!ReadTail(fd_, good_size, &tail, error) ||
        !ParseChainPosition(tail.last_line, &last_seq_, &last_hash_, error))
      return false;
  }
  Event event;
  event.kind = std::string(kKindLogRecovered);
  event.verdict = Verdict::kInfo;
  event.reason =
      "a record was cut short (the writer stopped in the middle of it); its bytes "
      "were kept aside";
  event.details = {{"file", file_name_},
                   {"offset", good_size},
                   {"bytes", torn.size()},
                   {"kept_as", kept},
                   {"sha256", Sha256Hex(torn)}};
  // The caller holds the directory lock: no other writer sees the file before this record.
  return WriteLocked(event, now, error);
}

std::string AuditWriter::EncodeRecord(const Event& event, std::int64_t now_ns, bool drop_details,
                                      std::string* hash) const {
  // Written field by field in key order (record.h): the hot path of every record, without
  // building a JSON object first. audit_writer_test checks it against SealRecord().
  SafeStrings strings;  // the envelope's own strings; the event's come noted already
  Json rule = strings.String(event.rule, field::kRule);
  Json reason = strings.String(event.reason, field::kReason);
  Json comm, exe;
  if (event.process) {
    comm = strings.String(event.process->comm, "process.comm");
    exe = strings.String(event.process->exe, "process.exe");
  }
  Json notes = Json::object();
  event.strings.AnnotateRecord(&notes);
  strings.AnnotateRecord(&notes);
  if (drop_details) {
    Json& truncated = notes[field::kTruncated];
    if (!truncated.is_object()) truncated = Json::object();
    truncated[field::kDetails] = Canonical(event.details).size();
  }
  auto member = [](const char* key, std::string* out) {
    out->append(",\"").append(key).append("\":");
  };

  std::string head = "{\"details\":";
  if (drop_details || !event.details.is_object())
    head += "{}";
  else
    AppendCanonical(event.details, &head);
  if (notes.contains(field::kEscaped)) {
    member(field::kEscaped, &head);
    AppendCanonical(notes[field::kEscaped], &head);
  }
  std::string tail;
  tail.reserve(512);
  member(field::kKind, &tail);
  AppendJsonString(event.kind, &tail);
  member(field::kPrev, &tail);
  AppendJsonString(last_hash_, &tail);
  if (event.process) {
    member(field::kProcess, &tail);
    tail += "{\"comm\":";
    AppendCanonical(comm, &tail);
    tail += ",\"exe\":";
    AppendCanonical(exe, &tail);
    tail += ",\"pid\":" + std::to_string(event.process->pid);
    tail += ",\"ppid\":" + std::to_string(event.process->ppid) + "}";
  }
  member(field::kProfile, &tail);
  AppendJsonString(options_.profile, &tail);
  member(field::kReason, &tail);
  AppendCanonical(reason, &tail);
  member(field::kRule, &tail);
  AppendCanonical(rule, &tail);
  member(field::kRun, &tail);
  AppendJsonString(options_.run, &tail);
  member(field::kSeq, &tail);
  tail += std::to_string(last_seq_ + 1);
  if (!options_.task.empty()) {
    member(field::kTask, &tail);
    AppendJsonString(options_.task, &tail);
  }
  member(field::kTime, &tail);
  AppendJsonString(FormatTime(now_ns), &tail);
  if (notes.contains(field::kTruncated)) {
    member(field::kTruncated, &tail);
    AppendCanonical(notes[field::kTruncated], &tail);
  }
  member(field::kVerdict, &tail);
  AppendJsonString(VerdictName(event.verdict), &tail);
  tail += "}";

  *hash = Sha256Hex(head + tail);
  std::string line = std::move(head);
  line.reserve(line.size() + tail.size() + 80);
  line += ",\"hash\":\"" + *hash + "\"";
  line += tail;
  line += "\n";
  return line;
}

bool AuditWriter::StartNewFile(std::int64_t now_ns, std::string* error) {
  std::string day = UtcDay(now_ns);
  std::string name = LogFileName(last_seq_ + 1, day);
  int fd = openat(dir_fd_, name.c_str(),
                  O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {  // left empty by a writer that died right after creating it
    fd = openat(dir_fd_, name.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    struct stat st {};
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_size != 0)) {
      ::close(fd);
      *error = name + " exists and is not empty";
      return false;
    }
  }
  if (fd < 0) {
    *error = "cannot create " + options_.directory + "/" + name + ": " + ErrnoText(errno);
    return false;
  }
  // The new name must survive a crash before the records in it are counted on.
  if (options_.sync != SyncMode::kNone && fsync(dir_fd_) != 0) {
    *error = "cannot sync " + options_.directory + ": " + ErrnoText(errno);
    ::close(fd);
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd, file_name_ = name, file_day_ = day, file_size_ = 0;
  return true;
}

bool AuditWriter::Seal(std::string* error) {
  if (options_.sync != SyncMode::kNone && fdatasync(fd_) != 0) {
    *error = "cannot sync " + file_name_ + ": " + ErrnoText(errno);
    return false;
  }
  // Read-only marks the file as finished for every other writer of this directory.
  if (fchmod(fd_, 0400) != 0) {
    *error = "cannot seal " + file_name_ + ": " + ErrnoText(errno);
    return false;
  }
  ::close(fd_);
  fd_ = -1;
  return true;
}

bool AuditWriter::WriteLocked(const Event& event, std::int64_t now_ns, std::string* error) {
  // Catch up with other writers of the directory since our last record.
  if (fd_ < 0) {  // no active file when we last looked: another writer may have made one
    if (!SyncWithDirectory(error)) return false;
  } else {
    struct stat st {};
    if (fstat(fd_, &st) != 0) {
      *error = "cannot stat " + file_name_ + ": " + ErrnoText(errno);
      return false;
    }
    if (st.st_nlink == 0) {
      *error = "the audit log file " + options_.directory + "/" + file_name_ +
               " was removed during the run";
      return false;
    }
    if ((st.st_mode & S_IWUSR) == 0) {  // sealed by another writer: find the newest file
      if (!SyncWithDirectory(error)) return false;
    } else if (static_cast<std::uint64_t>(st.st_size) != file_size_) {
      if (!ReadLastRecordOfCurrentFile(error)) return false;
    }
  }
  std::string hash;
  std::string line = EncodeRecord(event, now_ns, /*drop_details=*/false, &hash);
  if (line.size() > kMaxRecordBytes)  // many long strings: keep the record, drop its details
    line = EncodeRecord(event, now_ns, /*drop_details=*/true, &hash);

  if (fd_ < 0) {
    if (!StartNewFile(now_ns, error)) return false;
  } else if (file_size_ > 0 && (file_size_ + line.size() > options_.rotate_bytes ||
                                (options_.rotate_daily && UtcDay(now_ns) != file_day_))) {
    if (!Seal(error) || !StartNewFile(now_ns, error)) return false;
  }

  const char* data = line.data();
  for (;;) {
    ssize_t n = write(fd_, data, line.size());
    if (n == static_cast<ssize_t>(line.size())) break;
    if (n < 0 && errno == EINTR) continue;
    int write_errno = n < 0 ? errno : ENOSPC;
    // A short write left part of a line: cut it off, so the file still ends on a record.
    if (n > 0 && ftruncate(fd_, static_cast<off_t>(file_size_)) != 0) {
      *error = "cannot write to " + file_name_ + " (" + ErrnoText(write_errno) +
               ") nor cut the partial record off it (" + ErrnoText(errno) + ")";
      return false;
    }
    *error = "cannot write to the audit log " + options_.directory + "/" + file_name_ + ": " +
             ErrnoText(write_errno);
    return false;
  }
  if (options_.sync == SyncMode::kEvery && fdatasync(fd_) != 0) {
    *error = "cannot sync the audit log " + file_name_ + ": " + ErrnoText(errno);
    return false;
  }
  file_size_ += line.size();
  last_seq_ += 1;
  last_hash_ = std::move(hash);
  ++written_;
  return true;
}

bool AuditWriter::Append(const Event& event) {
  std::lock_guard guard(mutex_);
  if (!failure_.empty()) return false;
  std::string error;
  if (!Lock(&error)) {
    Fail("cannot lock the audit log: " + error);
    return false;
  }
  std::int64_t now = options_.clock();
  bool ok = WriteLocked(event, now, &error);
  Unlock();
  if (!ok) {
    Fail(error);
    return false;
  }
  if (options_.sync == SyncMode::kBatch) {
    ++unsynced_records_;
    if (unsynced_records_ == 1 || unsynced_records_ >= options_.batch_records)
      sync_wakeup_.notify_one();
  }
  return true;
}

void AuditWriter::Fail(const std::string& why) {
  if (failure_.empty()) failure_ = why;
}

void AuditWriter::SyncLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    sync_wakeup_.wait(lock, [&] { return stopping_ || unsynced_records_ > 0; });
    if (stopping_) return;  // Close() makes the rest durable
    // Group commit: wait for the batch to fill or the interval to pass.
    sync_wakeup_.wait_for(lock, options_.batch_interval,
                          [&] { return stopping_ || unsynced_records_ >= options_.batch_records; });
    if (stopping_) return;
    if (fd_ < 0) continue;
    // Sync a duplicate without holding the mutex: appends go on while the disk works, and a
    // rotation may close fd_ meanwhile (it syncs the old file itself).
    int fd = dup(fd_);
    unsynced_records_ = 0;
    lock.unlock();
    int result = fd >= 0 ? fdatasync(fd) : -1;
    int sync_errno = errno;
    if (fd >= 0) ::close(fd);
    lock.lock();
    if (result != 0) Fail("cannot sync the audit log: " + ErrnoText(sync_errno));
  }
}

bool AuditWriter::Close(bool detach_final_sync) {
  {
    std::lock_guard guard(mutex_);
    if (stopping_) return failure_.empty();
    stopping_ = true;
  }
  sync_wakeup_.notify_one();
  if (sync_thread_.joinable()) sync_thread_.join();
  std::lock_guard guard(mutex_);
  if (fd_ < 0 || options_.sync == SyncMode::kNone || written_ == 0) return failure_.empty();
  if (options_.sync == SyncMode::kBatch && detach_final_sync) {
    // The caller is about to exit: a child finishes the group commit so that the exit does not
    // wait for the disk. It keeps only the log file open (no pipe of the caller's stays open).
    if (StartDetachedSync(fd_)) return failure_.empty();
  }
  if (fdatasync(fd_) != 0) Fail("cannot sync the audit log: " + ErrnoText(errno));
  return failure_.empty();
}

void AuditWriter::SuspendBackgroundSync() {
  if (!sync_thread_.joinable()) return;
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  sync_wakeup_.notify_one();
  sync_thread_.join();
  std::lock_guard guard(mutex_);
  stopping_ = false;
}

void AuditWriter::ResumeBackgroundSync() {
  if (options_.sync != SyncMode::kBatch || sync_thread_.joinable()) return;
  {
    std::lock_guard guard(mutex_);
    if (stopping_) return;  // closed
  }
  sync_thread_ = std::thread([this] { SyncLoop(); });
}

bool AuditWriter::failed() const {
  std::lock_guard guard(mutex_);
  return !failure_.empty();
}

std::string AuditWriter::failure() const {
  std::lock_guard guard(mutex_);
  return failure_;
}

std::uint64_t AuditWriter::records_written() const {
  std::lock_guard guard(mutex_);
  return written_;
}

std::uint64_t AuditWriter::last_seq() const {
  std::lock_guard guard(mutex_);
  return last_seq_;
}

std::string AuditWriter::current_file() const {
  std::lock_guard guard(mutex_);
  return file_name_.empty() ? std::string() : options_.directory + "/" + file_name_;
}

}  // namespace tollgate::audit
