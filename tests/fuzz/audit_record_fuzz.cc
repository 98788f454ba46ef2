// libFuzzer target: the audit record parser and verify, on whatever bytes a damaged or hostile
// log file could hold. Built with clang by tests/fuzz/CMakeLists.txt (see tests/fuzz/run.sh).
//
// Each input is read twice: its first line through ParseRecordLine (and, when it parses, the
// seal check, the OCSF projection and the summary), and the whole input as a one-file log
// through VerifyLogText, which splits lines, parses each and classifies the first break.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "supervisor/audit/ocsf.h"
#include "supervisor/audit/query.h"
#include "supervisor/audit/reader.h"
#include "supervisor/audit/terminal.h"
#include "supervisor/audit/verify.h"

using namespace tollgate::audit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view first_line = input.substr(0, input.find('\n'));

  ParseResult parsed = ParseRecordLine(first_line);
  if (parsed.record) {
    const ParsedRecord& record = *parsed.record;
    CheckSeal(record, first_line);
    OcsfExporter exporter("fuzz");
    TerminalSafeJson(exporter.Project(record));
    Summary summary;
    summary.Add(record);
    TerminalSafe(summary.ToText());
    TerminalSafe(ActionOf(record));
    TerminalSafeJsonText(first_line);
  } else {
    // The error text may quote the input; it is printed through TerminalSafe.
    TerminalSafe(parsed.error);
  }

  VerifyReport report = VerifyLogText(input, "fuzz.jsonl");
  if (report.first_bad) TerminalSafe(report.first_bad->why);
  TerminalSafe(input);
  return 0;
}
