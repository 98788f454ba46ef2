// Test reports a sandboxed run left behind, read into one summary: how many tests ran, passed,
// failed, errored and were skipped, and the names of the first failing ones.
//
// The agent wrote these files, so every parser takes its input for an adversary: no recursion on
// the input's structure, bounded nesting, no DTD, no entity, no external resource, names cut and
// escaped before they reach a message or a record. Pure: no I/O, no exceptions.
//
// Formats:
//   - JUnit XML ("junit"), as pytest --junitxml, ctest --output-junit, GoogleTest
//     --gtest_output=xml, jest-junit and Maven Surefire write it: a <testsuites> or <testsuite>
//     root holding <testcase> elements (at any depth below it, but not inside each other).
//     Counts come from the testcase elements, never from the tests/failures/... attributes, which
//     a writer (or the agent) may get wrong. Each testcase counts once: errors if it has an
//     <error> child, else failed if it has a <failure> child, else skipped if it has a <skipped>
//     child or a status attribute of "notrun", "disabled" or "skipped" (GoogleTest's DISABLED_
//     tests, ctest's DISABLED tests), else passed. Other children (<system-out>, Surefire's
//     <flakyFailure> and <rerunFailure> of a test that passed on a rerun) do not change it.
//     A report without any testcase element is an empty report (total 0) when its root's
//     `tests` attribute is absent or 0, and refused when the attribute claims tests: counts that
//     cannot be checked against the tests themselves are not taken.
//     A DOCTYPE (hence any entity declaration), an external entity, nesting deeper than
//     kMaxXmlDepth and an attribute value over kMaxXmlAttributeBytes are refused.
//   - TAP ("tap"), versions 12, 13 and 14: the plan `1..N` (at the start or the end; `1..0` runs
//     nothing), `ok` / `not ok` lines with an optional number, description and `# SKIP` or
//     `# TODO` directive (any case, a prefix such as "skipped" counts; `\#` is not a directive).
//     Only top-level lines count: a subtest (indented, TAP 14 and Test::More) is summed up by the
//     `ok` / `not ok` line of its parent, and YAML diagnostics are indented too. `ok # SKIP` is
//     skipped, `not ok # TODO` is skipped too (an expected failure, like pytest's xfail, which
//     pytest reports as skipped), `ok # TODO` passed. Whatever says the run did not end as
//     planned never reads as a pass: tests planned but not run count as failed; `Bail out!`
//     counts the tests still missing as errors, or one error when none is; no plan at all, a
//     second plan, or more tests than planned count one error.
//   - CTest ("ctest"): the console output of `ctest` (lines "N/M Test #K: name ....   Passed" or
//     "***Failed", "***Skipped", "***Not Run (Disabled)", "***Not Run", "***Timeout",
//     "***Exception: ..."; Passed is a pass, Skipped and Not Run (Disabled) are skipped, anything
//     else is failed, as ctest itself counts), and Testing/Temporary/LastTest.log, which ctest
//     writes in the build directory (a block per test: "N/M Test: name" ... "Test Passed.",
//     "Test Failed.", "Test Pass Reason:" or "Test Fail Reason:" and the reason on the next
//     line). LastTest.log is the poorer source: ctest writes "Test Passed." for a test skipped
//     through SKIP_RETURN_CODE (only the console and the JUnit output say "Skipped"), so such a
//     test reads as passed there. A block whose reason is "Skip regular expression found" is
//     skipped; a block without a command (`Command: ""`) did not run: failed when ctest logged
//     "Unable to find executable" just before it, skipped (DISABLED) otherwise. Console output
//     without per-test lines (`ctest -Q`) is read from its summary line
//     "P% tests passed, F tests failed out of N".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::governance {

// What one report says. total == passed + failed + errors + skipped.
struct TestReport {
  std::string format;  // "junit", "tap" or "ctest"
  std::uint64_t total = 0, passed = 0, failed = 0, errors = 0, skipped = 0;
  // The first kMaxFailingNames failing or erroring tests, in report order, each at most
  // kMaxTestNameBytes of valid UTF-8 with control characters escaped as \xNN.
  std::vector<std::string> failing;

  bool operator==(const TestReport&) const = default;
};

struct TestReportParse {
  std::optional<TestReport> report;
  std::string error;  // when `report` is empty: why the content is not a report (one line)
};

inline constexpr std::size_t kMaxFailingNames = 20;
inline constexpr std::size_t kMaxTestNameBytes = 200;
inline constexpr int kMaxXmlDepth = 256;
inline constexpr std::size_t kMaxXmlAttributeBytes = 1 << 20;

// Detects the format and parses. XML by content (the first non-blank byte, after a UTF-8 byte
// order mark, is '<'); CTest by the name LastTest.log (or LastTest_*.log) or by its markers
// ("Start testing:" and "N/M Testing:" lines, or "N/M Test #K:" lines, or the "tests passed,"
// summary); TAP by a .tap name, a "TAP version" line, a top-level plan or ok / not ok line.
// `file_name` may be a path; only its last component counts. Content that is none of these is
// refused ("not a test report: ...").
TestReportParse ParseTestReport(std::string_view content, std::string_view file_name);

// One format, without detection.
TestReportParse ParseJUnitXml(std::string_view content);
TestReportParse ParseTap(std::string_view content);
TestReportParse ParseCTestOutput(std::string_view content);  // console output or LastTest.log

}  // namespace tollgate::governance
