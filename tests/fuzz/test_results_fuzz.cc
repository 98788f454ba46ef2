// libFuzzer target: the test report parsers, on whatever a sandboxed agent could leave in its
// workspace as a report. Built with clang by tests/fuzz/CMakeLists.txt (see tests/fuzz/run.sh).
//
// Input: one byte choosing the file name the report is said to have (so that every detection
// path is taken: .xml, .tap, LastTest.log, a neutral name), then the file's bytes. Checked:
//   - an accepted report adds up (total = passed + failed + errors + skipped), names one of the
//     three formats, holds at most kMaxFailingNames failing names, each non-empty, at most
//     kMaxTestNameBytes, valid UTF-8 without control characters; a refusal has a message;
//   - a failed or erroring test is named (failing is empty only when nothing failed);
//   - the format-specific parser gives what ParseTestReport gave for the format it detected;
//   - parsing twice gives the same answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "supervisor/governance/test_results.h"

#include "tests/fuzz/fuzz_checks.h"

using namespace tollgate::governance;

namespace {

[[noreturn]] void Fail(const char* what) {
  tollgate::fuzz::Fail("test results", what);
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

// Valid UTF-8 (no overlong form, no surrogate, nothing past U+10FFFF) without C0 controls or
// DEL: what SafeText promises for names.
bool IsSafeUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c < 0xC2 || c > 0xF4 || i + length > text.size()) return false;
    std::uint32_t code = c & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = code << 6 | (next & 0x3F);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

void CheckParse(const TestReportParse& parse) {
  if (!parse.report) {
    Check(!parse.error.empty() && tollgate::fuzz::IsPrintableLine(parse.error),
          "a refusal without a message, or not printable ASCII");
    return;
  }
  const TestReport& report = *parse.report;
  Check(parse.error.empty(), "a report with an error");
  Check(report.format == "junit" || report.format == "tap" || report.format == "ctest",
        "an unknown format");
  Check(report.total == report.passed + report.failed + report.errors + report.skipped,
        "the counts do not add up");
  Check(report.failing.size() <= kMaxFailingNames, "too many failing names");
  Check((report.failed + report.errors == 0) == report.failing.empty(),
        "failures without a name, or a name without a failure");
  for (const std::string& name : report.failing) {
    Check(!name.empty() && name.size() <= kMaxTestNameBytes, "a failing name empty or too long");
    Check(IsSafeUtf8(name), "a failing name that is not safe UTF-8");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr std::string_view kNames[] = {
      "report.xml", "results.tap", "build/Testing/Temporary/LastTest.log", "output.txt"};
  std::string_view name = kNames[data[0] % 4];
  std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);

  TestReportParse parse = ParseTestReport(content, name);
  CheckParse(parse);
  TestReportParse again = ParseTestReport(content, name);
  Check(again.report == parse.report && again.error == parse.error, "two parses differ");

  if (parse.report) {
    TestReportParse direct;
    if (parse.report->format == "junit") direct = ParseJUnitXml(content);
    if (parse.report->format == "tap") direct = ParseTap(content);
    if (parse.report->format == "ctest") direct = ParseCTestOutput(content);
    Check(direct.report == parse.report, "the format's own parser gives another report");
  }
  return 0;
}
