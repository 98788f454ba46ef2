// `tollgate audit verify`: walks the hash chain of a log across its rotated files and reports
// the first record that breaks it, and why (docs/AUDIT.md, "What verify detects").
//
// The chain makes edits evident, not impossible: whoever can rewrite the log can also re-seal
// every record after an edit. Compare the last hash verify prints with a copy kept elsewhere
// (a SIEM, a CI artefact) to detect that, and to detect records cut off cleanly at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/audit/reader.h"

namespace tollgate::audit {

enum class Tampering {
  kModified,    // a record's content or form changed: its hash no longer matches it
  kDeleted,     // records are missing from the chain (a gap in seq, a prev that skips)
  kReordered,   // records are all there but not in chain order
  kInserted,    // a line that does not belong between two records that still chain
  kTruncated,   // the log ends in a cut line, or files are missing at its start or end
  kUnreadable,  // a file of the log cannot be read at all
};
const char* TamperingName(Tampering kind);  // "modified", "deleted", …

// How a sealed line matches its record.
enum class Seal { kIntact, kNotCanonical, kHashMismatch };
// `line` as read (without newline) against the record parsed from it.
Seal CheckSeal(const ParsedRecord& record, std::string_view line);

struct VerifyFinding {
  Tampering kind = Tampering::kModified;
  std::string file;  // file name within the log directory (the path for a single file)
  std::uint64_t line = 0;
  std::optional<std::uint64_t> seq;  // the seq the line claims, when it has one
  std::string why;                   // one sentence a person can act on
};

struct VerifyReport {
  std::optional<VerifyFinding> first_bad;  // empty: the chain is intact
  std::uint64_t records = 0;               // whole, valid records before the first bad one
  std::size_t files = 0;
  std::uint64_t first_seq = 0, last_seq = 0;
  std::string last_hash;              // of the last good record: worth keeping elsewhere
  std::vector<std::string> warnings;  // odd but not proof of tampering (file modes, names)
  bool ok() const { return !first_bad.has_value(); }
};

// Verifies the log at `path` (a log directory or a single file). A single file whose first
// record is not seq 1 is taken as a piece of a longer chain: its first `prev` is trusted.
VerifyReport VerifyLog(const std::string& path);

// Verifies a log held in memory as one file (the fuzzer's entry point; a file named `name`).
VerifyReport VerifyLogText(std::string_view text, const std::string& name = "memory");

}  // namespace tollgate::audit
