#include "supervisor/audit/verify.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>

namespace tollgate::audit {

const char* TamperingName(Tampering kind) {
  switch (kind) {
    case Tampering::kModified:
      return "modified";
    case Tampering::kDeleted:
      return "deleted";
    case Tampering::kReordered:
      return "reordered";
    case Tampering::kInserted:
      return "inserted";
    case Tampering::kTruncated:
      return "truncated";
    case Tampering::kUnreadable:
      return "unreadable";
  }
  return "modified";
}

Seal CheckSeal(const ParsedRecord& record, std::string_view line) {
  // Canonical() throws only on invalid UTF-8, which the parser has already refused.
  if (Canonical(record.value) != line) return Seal::kNotCanonical;
  Json unsealed = record.value;
  unsealed.erase(field::kHash);
  return Sha256Hex(Canonical(unsealed)) == record.hash ? Seal::kIntact : Seal::kHashMismatch;
}

namespace {

// How far verify looks past a break in the chain to tell a reordering or an insertion from a
// deletion. A record moved further than this reads as deleted at its old place.
constexpr std::size_t kLookahead = 32;

// One line of the log, examined.
struct Item {
  LogLine line;
  std::optional<ParsedRecord> record;
  std::string problem;  // why the line is not a valid sealed record; empty when it is
};

// Where the chain stands after the last good record.
struct ChainPosition {
  bool any = false;  // a good record has been seen
  std::uint64_t seq = 0;
  std::string hash{kGenesisHash};
  std::string prev;  // the `prev` of the last good record
  std::string file;
  std::uint64_t line = 0;
  std::size_t file_index = 0;
};

std::string Where(const LogLine& line) {
  return line.file + " line " + std::to_string(line.line_number);
}

class ChainWalker {
 public:
  explicit ChainWalker(LogReader* reader) : reader_(reader) {}

  bool Next(Item* item) {
    if (!ahead_.empty()) {
      *item = std::move(ahead_.front());
      ahead_.pop_front();
      return true;
    }
    return Read(item);
  }
  // The item `n` places after the current one, or nullptr past the end of the log.
  const Item* Peek(std::size_t n) {
    while (ahead_.size() <= n) {
      Item item;
      if (!Read(&item)) return nullptr;
      ahead_.push_back(std::move(item));
    }
    return &ahead_[n];
  }
  VerifyReport Walk(bool trust_first_prev);

 private:
  bool Read(Item* item) {
    if (!reader_->Next(&item->line)) return false;
    item->record.reset();
    item->problem.clear();
    const LogLine& line = item->line;
    if (!line.complete) {
      item->problem = "cut short";
      return true;
    }
    if (line.too_long) {
      item->problem = "the line is longer than " + std::to_string(kMaxRecordBytes) + " bytes";
      return true;
    }
    ParseResult parsed = ParseRecordLine(line.text);
    if (!parsed.record) {
      item->problem = "the line is not a valid record: " + parsed.error;
      return true;
    }
    item->record = std::move(parsed.record);
    switch (CheckSeal(*item->record, line.text)) {
      case Seal::kIntact:
        break;
      case Seal::kNotCanonical:
        item->problem =
            "the line is not in canonical form: it was edited (white space and key order count)";
        break;
      case Seal::kHashMismatch:
        item->problem = "its hash does not match its content: a field was changed";
        break;
    }
    return true;
  }

  static bool Chains(const Item* item, std::uint64_t seq, const std::string& prev) {
    return item != nullptr && item->problem.empty() && item->record->seq == seq &&
           item->record->prev == prev;
  }

  VerifyFinding Classify(const Item& bad, const ChainPosition& at);
  void CheckRecovered(const ParsedRecord& record, std::vector<std::string>* warnings);

  LogReader* reader_;
  std::deque<Item> ahead_;
};

VerifyFinding ChainWalker::Classify(const Item& bad, const ChainPosition& at) {
  VerifyFinding finding;
  finding.file = bad.line.file;
  finding.line = bad.line.line_number;
  if (bad.record) finding.seq = bad.record->seq;
  const std::uint64_t expected = at.seq + 1;
  const std::string after = at.any ? "seq " + std::to_string(at.seq) : "the start of the log";

  if (!bad.line.complete) {
    finding.kind = Tampering::kTruncated;
    finding.why = Peek(0) == nullptr
                      ? "the last line is cut short: the log ends in the middle of a record "
                        "(a write cut off, or bytes removed from the end)"
                      : "the file ends in the middle of a record, and the log goes on in the "
                        "next file: bytes were removed from the end of this file";
    return finding;
  }
  if (!bad.problem.empty()) {
    if (Chains(Peek(0), expected, at.hash)) {
      finding.kind = Tampering::kInserted;
      finding.why = "a line that is not part of the chain sits after " + after +
                    ", and the record after it still chains to " + after + " (" + bad.problem + ")";
    } else {
      finding.kind = Tampering::kModified;
      finding.why = bad.problem;
    }
    return finding;
  }

  const ParsedRecord& record = *bad.record;
  if (record.seq == expected) {
    finding.kind = Tampering::kModified;
    finding.why = "its prev does not match the hash of the record before it (" + after +
                  "), yet both hashes match their records: one of the two was changed and "
                  "sealed again";
    return finding;
  }
  if (record.seq > expected) {
    if (record.prev == at.hash) {
      finding.kind = Tampering::kModified;
      finding.why = "it chains to " + after + " but claims seq " + std::to_string(record.seq) +
                    ": its seq was changed and the record sealed again";
      return finding;
    }
    for (std::size_t i = 0; i < kLookahead; ++i) {
      const Item* later = Peek(i);
      if (later == nullptr) break;
      if (later->record && later->record->seq >= expected && later->record->seq < record.seq) {
        finding.kind = Tampering::kReordered;
        finding.why = "seq " + std::to_string(record.seq) + " comes right after " + after +
                      ", and seq " + std::to_string(later->record->seq) + " appears later, at " +
                      Where(later->line) + ": records were moved";
        return finding;
      }
    }
    finding.kind = Tampering::kDeleted;
    std::string missing = expected + 1 == record.seq
                              ? "record seq " + std::to_string(expected) + " is"
                              : "records seq " + std::to_string(expected) + " to " +
                                    std::to_string(record.seq - 1) + " are";
    finding.why = missing + " missing: seq jumps from " + std::to_string(at.seq) + " to " +
                  std::to_string(record.seq) + " and prev does not match";
    if (at.any && bad.line.line_number == 1 && bad.line.file_index != at.file_index)
      finding.why += "; they were at the end of " + at.file +
                     " or in a whole file between it and this one, which was removed";
    return finding;
  }

  // A seq that was already used, or an earlier one.
  if (at.any && record.hash == at.hash) {
    finding.kind = Tampering::kInserted;
    finding.why = "a copy of the record before it (seq " + std::to_string(at.seq) + ")";
    return finding;
  }
  if (Chains(Peek(0), expected, at.hash)) {
    finding.kind = Tampering::kInserted;
    finding.why = "a record claiming seq " + std::to_string(record.seq) + " sits after " + after +
                  ", and the record after it still chains to " + after;
    return finding;
  }
  if (at.any && record.seq == at.seq && record.prev == at.prev) {
    // Two records claim the same place in the chain; the one the chain goes on from is the
    // original, the other was inserted with a forged but self-consistent seal.
    finding.kind = Tampering::kInserted;
    if (Chains(Peek(0), record.seq + 1, record.hash)) {
      finding.file = at.file;
      finding.line = at.line;
      finding.why = "seq " + std::to_string(at.seq) +
                    " appears twice; the chain goes on from the second (" + Where(bad.line) +
                    "), so this one was inserted";
    } else {
      finding.why = "seq " + std::to_string(record.seq) + " appears twice (first at " + at.file +
                    " line " + std::to_string(at.line) + ")";
    }
    return finding;
  }
  finding.kind = Tampering::kReordered;
  finding.why =
      "seq " + std::to_string(record.seq) + " appears after " + after + ": records were moved";
  return finding;
}

// A log.recovered record names the file its torn bytes were kept in and their SHA-256: check
// they are still there as recorded. Only a warning: the kept bytes are not part of the chain.
void ChainWalker::CheckRecovered(const ParsedRecord& record, std::vector<std::string>* warnings) {
  if (reader_->single_file()) return;
  const Json& kept_as = record.details.contains("kept_as") ? record.details["kept_as"] : Json();
  const Json& sha256 = record.details.contains("sha256") ? record.details["sha256"] : Json();
  if (!kept_as.is_string() || !sha256.is_string()) return;
  std::string name = kept_as.get<std::string>();
  if (name.empty() || name.find('/') != std::string::npos) return;
  std::string path = reader_->directory() + "/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    warnings->push_back("seq " + std::to_string(record.seq) + " (log.recovered) kept a torn " +
                        "record as " + name + ", which is missing");
    return;
  }
  std::string bytes;
  char chunk[16384];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0 && bytes.size() < 4 * kMaxRecordBytes)
    bytes.append(chunk, static_cast<std::size_t>(n));
  close(fd);
  if (Sha256Hex(bytes) != sha256.get<std::string>())
    warnings->push_back("seq " + std::to_string(record.seq) + " (log.recovered): " + name +
                        " no longer holds the bytes recorded (its SHA-256 differs)");
}

VerifyReport ChainWalker::Walk(bool trust_first_prev) {
  VerifyReport report;
  report.files = reader_->files().size();
  ChainPosition at;
  bool first = true;
  std::size_t last_file_index = SIZE_MAX;
  Item item;
  while (Next(&item)) {
    const LogLine& line = item.line;
    if (first && trust_first_prev && item.problem.empty()) {
      // A piece of a longer chain: take its start as given.
      at.seq = item.record->seq - 1;
      at.hash = item.record->prev;
    }
    if (!item.problem.empty() || !Chains(&item, at.seq + 1, at.hash)) {
      report.first_bad = Classify(item, at);
      break;
    }
    const ParsedRecord& record = *item.record;
    if (line.file_index != last_file_index) {
      const LogFile& file = reader_->files()[line.file_index];
      if (!reader_->single_file() && file.first_seq != record.seq)
        report.warnings.push_back(line.file + ": its name says it starts at seq " +
                                  std::to_string(file.first_seq) + ", its first record is seq " +
                                  std::to_string(record.seq) + " (renamed?)");
      last_file_index = line.file_index;
    }
    if (record.kind == kKindLogRecovered) CheckRecovered(record, &report.warnings);
    if (first) report.first_seq = record.seq;
    first = false;
    at.any = true;
    at.seq = record.seq;
    at.prev = record.prev;
    at.hash = record.hash;
    at.file = line.file;
    at.line = line.line_number;
    at.file_index = line.file_index;
    ++report.records;
  }
  if (!report.first_bad && !reader_->error().empty()) {
    VerifyFinding finding;
    finding.kind = Tampering::kUnreadable;
    finding.why = reader_->error();
    report.first_bad = finding;
  }
  report.last_seq = at.seq;
  report.last_hash = at.any ? at.hash : "";
  return report;
}

// Modes of the files: every file but the newest is sealed (0400) by the writer when it rotates.
void CheckFileModes(const LogReader& reader, VerifyReport* report) {
  const std::vector<LogFile>& files = reader.files();
  for (std::size_t i = 0; i < files.size(); ++i) {
    struct stat st {};
    if (stat(LogFilePath(reader, i).c_str(), &st) != 0) continue;
    const bool newest = i + 1 == files.size();
    if (!newest && (st.st_mode & 0222) != 0)
      report->warnings.push_back(files[i].name + " is writable but a newer file follows it: it " +
                                 "should have been sealed (mode 0400) when the log rotated");
    if (newest && (st.st_mode & 0222) == 0 && report->records > 0)
      report->warnings.push_back(
          files[i].name + " is the newest file and is sealed: either the writer stopped " +
          "between sealing it and starting the next, or the files after it (from seq " +
          std::to_string(report->last_seq + 1) + ") were removed");
    if ((st.st_mode & 0077) != 0)
      report->warnings.push_back(files[i].name + " can be read or written by other users");
  }
}

}  // namespace

namespace {

VerifyReport VerifyWith(LogReader* reader) {
  const std::vector<LogFile> files = reader->files();
  if (!reader->single_file() && !files.empty() && files.front().first_seq != 1) {
    // The writer starts every log at seq 1; a first file that starts later means the files
    // before it were removed (the chain cannot show it: their last hash is gone with them).
    VerifyReport report;
    report.files = files.size();
    report.first_bad =
        VerifyFinding{Tampering::kTruncated, files.front().name, 1, files.front().first_seq,
                      "the log starts at seq " + std::to_string(files.front().first_seq) +
                          " (the oldest file's name): the files before it were removed"};
    return report;
  }
  // A single file that starts after seq 1 is a piece of a chain (e.g. a rotated file copied
  // out): its first prev is taken as given. One that starts at seq 1 must chain from the
  // genesis hash.
  bool trust_first_prev = reader->single_file();
  VerifyReport report;
  {
    ChainWalker walker(reader);
    if (trust_first_prev) {
      const Item* first = walker.Peek(0);
      if (first != nullptr && first->record && first->record->seq == 1) trust_first_prev = false;
    }
    report = walker.Walk(trust_first_prev);
  }
  if (!reader->single_file()) CheckFileModes(*reader, &report);
  return report;
}

}  // namespace

VerifyReport VerifyLog(const std::string& path) {
  std::string error;
  std::unique_ptr<LogReader> reader = LogReader::Open(path, &error);
  if (reader == nullptr) {
    VerifyReport report;
    report.first_bad = VerifyFinding{Tampering::kUnreadable, path, 0, std::nullopt, error};
    return report;
  }
  return VerifyWith(reader.get());
}

VerifyReport VerifyLogText(std::string_view text, const std::string& name) {
  std::unique_ptr<LogReader> reader = LogReader::FromText(text, name);
  return VerifyWith(reader.get());
}

}  // namespace tollgate::audit
