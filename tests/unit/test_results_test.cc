// Test reports read into one summary: real JUnit XML, TAP and ctest output (fixtures in
// tests/unit/testdata/test_reports/, where README.md says how each was made), edge cases of each
// format, format detection, and hostile XML refused with an error.
#include "supervisor/governance/test_results.h"

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace tollgate::governance {
namespace {

using Names = std::vector<std::string>;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(TOLLGATE_SOURCE_DIR) + "/tests/unit/testdata/test_reports/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Parses a report that must be accepted and returns it.
TestReport Report(std::string_view content, std::string_view file_name) {
  TestReportParse parse = ParseTestReport(content, file_name);
  EXPECT_TRUE(parse.report.has_value()) << "refused: " << parse.error;
  EXPECT_TRUE(parse.report || !parse.error.empty());
  if (!parse.report) return {};
  const TestReport& report = *parse.report;
  EXPECT_EQ(report.total, report.passed + report.failed + report.errors + report.skipped);
  return report;
}

// Parses content that must be refused and returns the error.
std::string Refusal(std::string_view content, std::string_view file_name) {
  TestReportParse parse = ParseTestReport(content, file_name);
  EXPECT_FALSE(parse.report.has_value()) << "accepted: " << content.substr(0, 200);
  EXPECT_FALSE(parse.error.empty());
  return parse.error;
}

// "format total passed failed errors skipped", to compare a report in one assertion.
std::string Counts(const TestReport& report) {
  return report.format + " " + std::to_string(report.total) + " " + std::to_string(report.passed) +
         " " + std::to_string(report.failed) + " " + std::to_string(report.errors) + " " +
         std::to_string(report.skipped);
}

// ---- real reports -------------------------------------------------------------------------

TEST(TestResultsJUnit, Pytest) {
  // pytest 7.2 --junitxml: a pass, a failure, a skip, an xfail (written as <skipped>), a fixture
  // setup error (<error>) and a parametrised pair, one failing.
  TestReport report = Report(Fixture("pytest_junit.xml"), "pytest_junit.xml");
  EXPECT_EQ(Counts(report), "junit 7 2 2 1 2");
  EXPECT_EQ(report.failing, (Names{"test_sample.test_fails", "test_sample.test_setup_error",
                                   "test_sample.TestGroup.test_param[2]"}));
}

TEST(TestResultsJUnit, GoogleTest) {
  // GoogleTest 1.12 --gtest_output=xml: GTEST_SKIP() has <skipped>, a DISABLED_ test only
  // status="notrun"; both are skipped.
  TestReport report = Report(Fixture("gtest.xml"), "gtest.xml");
  EXPECT_EQ(Counts(report), "junit 5 2 1 0 2");
  EXPECT_EQ(report.failing, (Names{"Arith.Fails"}));
}

TEST(TestResultsJUnit, CTestOutputJunit) {
  // ctest 3.25 --output-junit: the DISABLED test has only status="disabled"; ctest writes
  // <skipped> for an executable it could not find (its console calls that a failure: the
  // report is read as it is written).
  TestReport report = Report(Fixture("ctest_basic_junit.xml"), "junit.xml");
  EXPECT_EQ(Counts(report), "junit 7 2 2 0 3");
  EXPECT_EQ(report.failing, (Names{"fail_one", "timeout_one"}));

  report = Report(Fixture("ctest_regex_junit.xml"), "junit.xml");
  EXPECT_EQ(Counts(report), "junit 5 1 3 0 1");
  EXPECT_EQ(report.failing, (Names{"fail_regex", "crash", "pass_regex_missing"}));
}

TEST(TestResultsTap, PerlTestMore) {
  // Test::More: a SKIP block, a failing TODO test, and a subtest whose indented lines are summed
  // up by its parent's "not ok 5".
  TestReport report = Report(Fixture("perl_test_more.tap"), "t/sample.tap");
  EXPECT_EQ(Counts(report), "tap 6 2 2 0 2");
  EXPECT_EQ(report.failing, (Names{"parses the header", "nested"}));
}

TEST(TestResultsTap, NodeTestRunner) {
  // node --test --test-reporter=tap (TAP 13): YAML diagnostics, the plan at the end, a nested
  // group; its own "# tests 7" comment counts the subtests, which are not counted here.
  TestReport report = Report(Fixture("node_test.tap"), "node_test.tap");
  EXPECT_EQ(Counts(report), "tap 5 1 2 0 2");
  EXPECT_EQ(report.failing, (Names{"fails", "group"}));
}

TEST(TestResultsCTest, Console) {
  // Passed, Failed, Skipped (SKIP_RETURN_CODE), Not Run (Disabled), Not Run (no executable),
  // Timeout.
  TestReport report = Report(Fixture("ctest_basic_console.txt"), "ctest.out");
  EXPECT_EQ(Counts(report), "ctest 7 2 3 0 2");
  EXPECT_EQ(report.failing, (Names{"fail_one", "not_found", "timeout_one"}));

  // Run with -j2; a skip regex, fail regex, WILL_FAIL, a SEGV and a status on two lines.
  report = Report(Fixture("ctest_regex_console.txt"), "ctest.out");
  EXPECT_EQ(Counts(report), "ctest 5 1 3 0 1");
  EXPECT_EQ(report.failing, (Names{"fail_regex", "crash", "pass_regex_missing"}));
}

TEST(TestResultsCTest, LastTestLog) {
  // The same runs' LastTest.log. skip_rc (SKIP_RETURN_CODE) is logged "Test Passed." by ctest
  // and so reads as passed; the DISABLED test and the missing executable have an empty command,
  // the latter after "Unable to find executable".
  TestReport report =
      Report(Fixture("ctest_basic_LastTest.log"), "build/Testing/Temporary/LastTest.log");
  EXPECT_EQ(Counts(report), "ctest 7 3 3 0 1");
  EXPECT_EQ(report.failing, (Names{"fail_one", "not_found", "timeout_one"}));

  report = Report(Fixture("ctest_regex_LastTest.log"), "LastTest.log");
  EXPECT_EQ(Counts(report), "ctest 5 1 3 0 1");
  EXPECT_EQ(report.failing, (Names{"fail_regex", "crash", "pass_regex_missing"}));
}

// ---- detection ----------------------------------------------------------------------------

TEST(TestResultsDetect, ByContentAndName) {
  EXPECT_EQ(Report(Fixture("ctest_basic_LastTest.log"), "whatever.txt").format, "ctest");
  EXPECT_EQ(Report(Fixture("perl_test_more.tap"), "output.txt").format, "tap");
  EXPECT_EQ(Report(Fixture("gtest.xml"), "report").format, "junit");
  EXPECT_EQ(Report("\xEF\xBB\xBF" + Fixture("gtest.xml"), "r.txt").format, "junit");
  EXPECT_EQ(Report(" \r\n<testsuite/>", "r.txt").format, "junit");
  EXPECT_EQ(Report("ok\n", "x.tap").format, "tap");
  EXPECT_EQ(Report("TAP version 14\n1..0 # SKIP nothing to do\n", "out").total, 0u);
}

TEST(TestResultsDetect, NotAReport) {
  EXPECT_EQ(Refusal("", "junit.xml"), "not a test report: the file is empty");
  EXPECT_EQ(Refusal(" \n\r\n", "a.tap"), "not a test report: the file is empty");
  EXPECT_EQ(Refusal("hello world\nokay then\n", "notes.txt"),
            "not a test report: neither JUnit XML, nor TAP (a plan or an ok / not ok line), nor "
            "ctest output (result lines or LastTest.log entries)");
  EXPECT_EQ(Refusal("{\"tests\": 3}", "report.xml").substr(0, 30),
            "not well-formed XML at line 1:");
  EXPECT_EQ(Refusal("# just a comment\n", "run.tap"), "no TAP plan and no test line");
  EXPECT_EQ(Refusal("nothing here\n", "LastTest.log"),
            "no ctest result line (\"N/M Test #K: name ... Passed\")");
}

// ---- JUnit --------------------------------------------------------------------------------

TEST(TestResultsJUnit, CountsTestcasesNotAttributes) {
  // The attributes claim 100 tests and no failure: the testcases say otherwise.
  TestReport report = Report(R"(<testsuites tests="100" failures="0" errors="0">
  <testsuite name="outer" tests="100">
    <testsuite name="inner">
      <testcase classname="a.B" name="one"/>
      <testcase classname="a.B" name="two"><failure message="no"/></testcase>
    </testsuite>
    <testcase name="three"><error/><failure/></testcase>
    <testcase name="four"><skipped/></testcase>
    <testcase name="five" status="disabled"/>
    <testcase name="six"><flakyFailure/><rerunFailure/><system-out>failure</system-out></testcase>
  </testsuite>
</testsuites>)",
                             "r.xml");
  EXPECT_EQ(Counts(report), "junit 6 2 1 1 2");
  EXPECT_EQ(report.failing, (Names{"a.B.two", "three"}));
}

TEST(TestResultsJUnit, NoTestcases) {
  EXPECT_EQ(Counts(Report("<testsuites/>", "r.xml")), "junit 0 0 0 0 0");
  EXPECT_EQ(Counts(Report("<testsuite tests=\"0\"></testsuite>", "r.xml")), "junit 0 0 0 0 0");
  EXPECT_EQ(Refusal("<testsuites><testsuite tests=\"3\" failures=\"0\"/></testsuites>", "r.xml"),
            "the report's tests attribute claims tests but it holds no <testcase> element: counts "
            "that cannot be checked are not taken");
}

TEST(TestResultsJUnit, FailingNamesBoundedAndSafe) {
  std::string xml = "<testsuite>";
  for (int i = 0; i < 25; ++i) {
    xml += "<testcase name=\"t" + std::to_string(i) + "\"><failure/></testcase>";
  }
  // A name with a control character (as a character reference) and one far over the bound.
  xml += "<testcase name=\"bad&#10;name\"><error/></testcase>";
  xml += "<testcase name=\"" + std::string(5000, 'x') + "\"><error/></testcase></testsuite>";
  TestReport report = Report(xml, "r.xml");
  EXPECT_EQ(Counts(report), "junit 27 0 25 2 0");
  ASSERT_EQ(report.failing.size(), kMaxFailingNames);
  EXPECT_EQ(report.failing.front(), "t0");
  EXPECT_EQ(report.failing.back(), "t19");

  xml =
      "<testsuite><testcase name=\"bad&#10;name\"><error/></testcase>"
      "<testcase name=\"" +
      std::string(5000, 'x') + "\"><error/></testcase></testsuite>";
  report = Report(xml, "r.xml");
  EXPECT_EQ(report.failing[0], "bad\\x0aname");
  // XML 1.0 has no other control characters, not even as references.
  EXPECT_EQ(Refusal("<testsuite><testcase name=\"&#x1b;\"/></testsuite>", "r.xml"),
            "not well-formed XML at line 1: reference to invalid character number");
  EXPECT_EQ(report.failing[1], std::string(kMaxTestNameBytes - 3, 'x') + "...");
}

TEST(TestResultsJUnit, Malformed) {
  EXPECT_EQ(Refusal("<testsuite><testcase></testsuite>", "r.xml"),
            "not well-formed XML at line 1: mismatched tag");
  EXPECT_EQ(Refusal("<testsuite>", "r.xml"), "not well-formed XML at line 1: no element found");
  EXPECT_EQ(Refusal("<testsuite/><testsuite/>", "r.xml"),
            "not well-formed XML at line 1: junk after document element");
  EXPECT_EQ(Refusal("<html><body/></html>", "r.xml"),
            "not a JUnit report: the root element is <html>, not <testsuites> or <testsuite>");
  EXPECT_EQ(Refusal("<testsuite><testcase name=\"a\"><testcase/></testcase></testsuite>", "r.xml"),
            "a <testcase> inside a <testcase>");
  EXPECT_EQ(Refusal("<testsuite>\xff</testsuite>", "r.xml"),
            "not well-formed XML at line 1: not well-formed (invalid token)");
}

// ---- hostile XML --------------------------------------------------------------------------

TEST(TestResultsJUnit, BillionLaughsRefused) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    xml += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j)
      xml += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    xml += "\">\n";
  }
  xml += "]>\n<testsuite><testcase name=\"&lol9;\"/></testsuite>\n";
  EXPECT_EQ(Refusal(xml, "r.xml"), "a DOCTYPE: DTDs and entity declarations are refused");
}

TEST(TestResultsJUnit, ExternalEntityRefused) {
  EXPECT_EQ(Refusal("<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "
                    "\"file:///etc/passwd\">]><testsuite><testcase name=\"&xxe;\"/></testsuite>",
                    "r.xml"),
            "a DOCTYPE: DTDs and entity declarations are refused");
  EXPECT_EQ(
      Refusal("<!DOCTYPE testsuite SYSTEM \"http://example.com/x.dtd\"><testsuite/>", "r.xml"),
      "a DOCTYPE: DTDs and entity declarations are refused");
  // Without a declaration an entity reference is undefined.
  EXPECT_EQ(Refusal("<testsuite><testcase name=\"&xxe;\"/></testsuite>", "r.xml"),
            "not well-formed XML at line 1: undefined entity");
}

TEST(TestResultsJUnit, NestingBounded) {
  auto nested = [](int depth) {
    std::string xml;
    for (int i = 0; i < depth; ++i) xml += "<testsuite>";
    for (int i = 0; i < depth; ++i) xml += "</testsuite>";
    return xml;
  };
  EXPECT_EQ(Counts(Report(nested(kMaxXmlDepth), "r.xml")), "junit 0 0 0 0 0");
  EXPECT_EQ(Refusal(nested(kMaxXmlDepth + 1), "r.xml"), "elements nested deeper than 256");
  EXPECT_EQ(Refusal(nested(100000), "r.xml"), "elements nested deeper than 256");
}

TEST(TestResultsJUnit, HugeAttributeRefused) {
  std::string value(kMaxXmlAttributeBytes, 'a');
  std::string accepted =
      "<testsuite><testcase name=\"t\"><failure message=\"" + value + "\"/></testcase></testsuite>";
  EXPECT_EQ(Counts(Report(accepted, "r.xml")), "junit 1 0 1 0 0");
  std::string refused = "<testsuite><testcase name=\"t\"><failure message=\"" + value +
                        "b\"/></testcase></testsuite>";
  EXPECT_EQ(Refusal(refused, "r.xml"), "attribute message longer than 1048576 bytes");
}

TEST(TestResultsJUnit, LargeReportInPieces) {
  // Over the parser's 1 MiB pieces: the count must not depend on where they are cut.
  std::string xml = "<testsuite>";
  for (int i = 0; i < 80000; ++i) {
    xml += i % 4 == 0 ? "<testcase name=\"failing test\"><failure/></testcase>\n"
                      : "<testcase name=\"passing test\"/>\n";
  }
  xml += "</testsuite>";
  ASSERT_GT(xml.size(), 2u << 20);
  EXPECT_EQ(Counts(Report(xml, "r.xml")), "junit 80000 60000 20000 0 0");
}

// ---- TAP ----------------------------------------------------------------------------------

TEST(TestResultsTap, Directives) {
  TestReport report = Report(
      "TAP version 14\n"
      "1..7\r\n"
      "ok 1 - plain\r\n"
      "ok 2 - skipped # SKIP no database\n"
      "ok 3 # skipped: no network\n"
      "not ok 4 - todo # TODO later\n"
      "ok 5 - unexpected pass # todo\n"
      "not ok 6 - skip does not excuse a failure # SKIP\n"
      "ok 7 - escaped \\# SKIP is a description\n",
      "t.tap");
  EXPECT_EQ(Counts(report), "tap 7 3 1 0 3");
  EXPECT_EQ(report.failing, (Names{"skip does not excuse a failure"}));
}

TEST(TestResultsTap, TopLevelOnly) {
  TestReport report = Report(
      "1..2\n"
      "    1..3\n"
      "    not ok 1 - inner\n"
      "    ok 2\n"
      "    Bail out! indented, inside a subtest\n"
      "not ok 1 - parent\n"
      "  ---\n"
      "  message: 'ok 3 inside YAML'\n"
      "  ...\n"
      "okay\n"
      "ok 2\n",
      "t.tap");
  EXPECT_EQ(Counts(report), "tap 2 1 1 0 0");
  EXPECT_EQ(report.failing, (Names{"parent"}));
}

TEST(TestResultsTap, MissingTestsFail) {
  TestReport report = Report("1..4\nok 1\nnot ok 2\n", "t.tap");
  EXPECT_EQ(Counts(report), "tap 4 1 3 0 0");
  EXPECT_EQ(report.failing, (Names{"test 2", "2 planned tests did not run (plan 1..4, 2 ran)"}));
}

TEST(TestResultsTap, BailOut) {
  TestReport report = Report("1..5\nok 1\nBail out! database down\nok 2\nok 3\n", "t.tap");
  EXPECT_EQ(Counts(report), "tap 5 1 0 4 0");
  EXPECT_EQ(report.failing, (Names{"Bail out! database down"}));

  report = Report("ok 1\nok 2\nBail out!\n1..2\n", "t.tap");
  EXPECT_EQ(Counts(report), "tap 3 2 0 1 0");
  EXPECT_EQ(report.failing, (Names{"Bail out!"}));
}

TEST(TestResultsTap, PlanMismatches) {
  TestReport report = Report("ok 1\nok 2\n", "t.tap");
  EXPECT_EQ(Counts(report), "tap 3 2 0 1 0");
  EXPECT_EQ(report.failing, (Names{"no TAP plan: the run may have stopped early"}));

  report = Report("1..1\nok 1\nok 2\n", "t.tap");
  EXPECT_EQ(Counts(report), "tap 3 2 0 1 0");
  EXPECT_EQ(report.failing, (Names{"2 tests ran but the plan is 1..1"}));

  report = Report("1..1\nok 1\n1..1\n", "t.tap");
  EXPECT_EQ(Counts(report), "tap 2 1 0 1 0");
  EXPECT_EQ(report.failing, (Names{"a second TAP plan"}));

  EXPECT_EQ(Counts(Report("1..0 # SKIP not on this platform\n", "t.tap")), "tap 0 0 0 0 0");
  EXPECT_EQ(Refusal("1..99999999999\nok 1\n", "t.tap"), "a TAP plan of more than 1000000000 tests");
}

TEST(TestResultsTap, NamesMadeSafe) {
  TestReport report =
      Report("1..3\nnot ok 1 - bad\x01name\nnot ok 2 - caf\xc3\xa9 \xff\nnot ok\n", "t.tap");
  EXPECT_EQ(report.failing, (Names{"bad\\x01name", "caf\xc3\xa9 \\xff", "test 3"}));
}

// ---- ctest --------------------------------------------------------------------------------

TEST(TestResultsCTest, SummaryOnly) {
  TestReport report = Report(
      "Test project /src/build\n\n75% tests passed, 1 tests failed out of 4\n\n"
      "Total Test time (real) =   0.01 sec\n\nThe following tests FAILED:\n"
      "\t  3 - net_proxy (Failed)\nErrors while running CTest\n",
      "ctest.log");
  EXPECT_EQ(Counts(report), "ctest 4 3 1 0 0");
  EXPECT_EQ(report.failing, (Names{"net_proxy"}));
  EXPECT_EQ(Refusal("Test project /b\n10% tests passed, 9 tests failed out of 3\n", "ctest.log"),
            "the ctest summary has more failed tests than tests");
}

TEST(TestResultsCTest, ConsoleMissingResults) {
  // Interrupted after the first of three tests.
  TestReport report = Report(
      "Test project /b\n    Start 1: a\n1/3 Test #1: a ................   Passed    0.01 sec\n"
      "    Start 2: b\n",
      "ctest.log");
  EXPECT_EQ(Counts(report), "ctest 3 1 0 2 0");
  EXPECT_EQ(report.failing, (Names{"2 of 3 tests without a result line"}));
}

TEST(TestResultsCTest, LastTestLogOutputIsNotRead) {
  // A test that prints ctest's own markers does not change its result; a log cut short inside a
  // test's entry counts an error, and so do tests the "N/M" header promised but the log lacks.
  std::string log =
      "Start testing: Nov 27 14:01 UTC\n"
      "----------------------------------------------------------\n"
      "1/3 Testing: liar\n1/3 Test: liar\nCommand: \"/bin/liar\"\nDirectory: /b\n"
      "\"liar\" start time: Nov 27 14:01 UTC\nOutput:\n"
      "----------------------------------------------------------\n"
      "Test Passed.\n2/3 Test: fake\nTest Passed.\n<end of output>\n"
      "Test time =   0.00 sec\n"
      "----------------------------------------------------------\n"
      "Test Failed.\n"
      "\"liar\" end time: Nov 27 14:01 UTC\n\n"
      "2/3 Testing: cut\n2/3 Test: cut\nCommand: \"/bin/cut\"\nOutput:\n"
      "-----------\npartial output";
  TestReport report = Report(log, "LastTest.log");
  EXPECT_EQ(Counts(report), "ctest 3 0 1 2 0");
  EXPECT_EQ(report.failing, (Names{"liar", "cut (the log ends inside its entry)",
                                   "1 of 3 tests missing from the ctest log"}));
}

}  // namespace
}  // namespace tollgate::governance
