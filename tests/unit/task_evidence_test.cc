// Evidence arithmetic and judgement (policy/task_evidence.h): git numstat parsing, diff
// statistics (modules, new directories), escalation thresholds, and completed / failed /
// unverified with the missing items named.
#include "policy/task_evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tollgate::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Z(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '|') c = '\0';
  }
  return out;
}

TEST(Numstat, ParsesTextAndBinaryEntries) {
  std::vector<FileChange> changes;
  std::string error;
  ASSERT_TRUE(
      ParseNumstatZ(Z("3\t1\tsrc/a.c|-\t-\tlogo.png|0\t7\tname with\ttab|"), &changes, &error))
      << error;
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].path, "src/a.c");
  EXPECT_EQ(changes[0].added, 3u);
  EXPECT_EQ(changes[0].deleted, 1u);
  EXPECT_TRUE(changes[1].binary);
  EXPECT_EQ(changes[1].added, 0u);
  EXPECT_EQ(changes[2].path, "name with\ttab");
  EXPECT_EQ(changes[2].deleted, 7u);
}

TEST(Numstat, RefusesWhatGitDoesNotWrite) {
  for (const char* bad : {"3\t1\tsrc/a.c", "x\t1\ta|", "3\ta|", "3\t1\t|", "-\t2\ta|"}) {
    std::vector<FileChange> changes;
    std::string error;
    EXPECT_FALSE(ParseNumstatZ(Z(bad), &changes, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(DiffStatsTest, CountsFilesLinesModulesAndTheHighestNewDirectories) {
  std::set<std::string> base = {"src", "src/net", "docs"};
  DiffStats stats = ComputeDiffStats(
      {{"src/net/a.c", 10, 2, false},
       {"src/b.c", 1, 1, false},
       {"README.md", 4, 0, false},         // a top-level file: no module
       {"plugins/x/y/z.c", 30, 0, false},  // a new tree: one new directory, "plugins"
       {"plugins/x/w.c", 5, 0, false},
       {"src/new/one.c", 2, 0, false},  // a new directory under an old one
       {"logo.png", 0, 0, true},
       {"src/b.c", 1, 1, false}},  // listed twice: counted once
      base);
  EXPECT_EQ(stats.files, 7u);
  EXPECT_EQ(stats.lines_added, 52u);
  EXPECT_EQ(stats.lines_deleted, 3u);
  EXPECT_EQ(stats.lines(), 55u);
  EXPECT_THAT(stats.modules, ElementsAre("plugins", "src"));
  EXPECT_THAT(stats.new_directories, ElementsAre("plugins", "src/new"));
  EXPECT_EQ(stats.paths.front(), "README.md");
}

TEST(DiffStatsTest, ThresholdsNameWhatIsOverAndZeroMeansNoLimit) {
  DiffStats stats;
  stats.files = 4;
  stats.lines_added = 50;
  stats.lines_deleted = 11;
  stats.modules = {"a", "b"};
  stats.new_directories = {"a/x"};
  Escalation tiny{3, 60, 1, 1, "feature"};
  EXPECT_THAT(OverThresholds(tiny, stats),
              ElementsAre("files 4 > 3", "lines 61 > 60", "modules 2 > 1"));
  Escalation only_files{10, 0, 0, 0, "feature"};
  EXPECT_THAT(OverThresholds(only_files, stats), IsEmpty());
}

Evidence GoodRun() {
  Evidence e;
  e.status = "exited";
  e.ran = true;
  e.exit_code = 0;
  e.git = true;
  e.head_before = "aaaaaaaaaaaaaaaa";
  e.head_after = "bbbbbbbbbbbbbbbb";
  e.diff.files = 2;
  e.report_patterns = {"build/*.xml"};
  TestReportEvidence report;
  report.file = "build/junit.xml";
  report.format = "junit";
  report.total = 12;
  report.passed = 12;
  e.reports.push_back(report);
  return e;
}

const std::vector<std::string> kFull = {"exit_status", "git_head", "diff", "test_results"};

TEST(Judge, ACompleteRunIsCompleted) {
  EvidenceJudgement j = JudgeEvidence(kFull, GoodRun());
  EXPECT_EQ(j.outcome, Outcome::kCompleted);
  EXPECT_THAT(j.missing, IsEmpty());
}

TEST(Judge, ANonZeroExitFailsEvenWhenNotRequired) {
  Evidence e = GoodRun();
  e.exit_code = 2;
  EvidenceJudgement j = JudgeEvidence({"diff"}, e);
  EXPECT_EQ(j.outcome, Outcome::kFailed);
  EXPECT_THAT(j.missing, ElementsAre("exit_status: the command exited with 2"));
  e.exit_code = -1;
  e.signal = 9;
  e.status = "signaled";
  EXPECT_THAT(JudgeEvidence({}, e).missing,
              ElementsAre("exit_status: the command was killed by signal 9"));
  e.ran = false;
  e.status = "setup-error";
  EXPECT_THAT(JudgeEvidence({}, e).missing,
              ElementsAre("exit_status: the command did not run (setup-error)"));
}

TEST(Judge, NoCommitAndNoChangeAreMissingNotFailures) {
  Evidence e = GoodRun();
  e.head_after = e.head_before;
  e.diff.files = 0;
  EvidenceJudgement j = JudgeEvidence(kFull, e);
  EXPECT_EQ(j.outcome, Outcome::kUnverified);
  EXPECT_THAT(j.missing, ElementsAre("git_head: no commit was made (HEAD is still aaaaaaaaaaaa)",
                                     "diff: the run changed no file"));
}

TEST(Judge, WithoutGitTheGitItemsAreMissingWithTheReason) {
  Evidence e = GoodRun();
  e.git = false;
  e.git_problem = "the repository's configuration changed during the run";
  EvidenceJudgement j = JudgeEvidence(kFull, e);
  EXPECT_EQ(j.outcome, Outcome::kUnverified);
  EXPECT_THAT(j.missing, ElementsAre("git: the repository's configuration changed during the run"));
  // Not required: not missing.
  EXPECT_EQ(JudgeEvidence({"exit_status", "test_results"}, e).outcome, Outcome::kCompleted);
}

TEST(Judge, FailingTestsFailAndNameTheTests) {
  Evidence e = GoodRun();
  e.reports[0].failed = 2;
  e.reports[0].passed = 10;
  e.reports[0].failing = {"net.Retry", "net.Timeout"};
  EvidenceJudgement j = JudgeEvidence(kFull, e);
  EXPECT_EQ(j.outcome, Outcome::kFailed);
  ASSERT_EQ(j.missing.size(), 1u);
  EXPECT_EQ(j.missing[0],
            "test_results: 2 of 12 tests failed (build/junit.xml: net.Retry, net.Timeout)");
}

TEST(Judge, NoReportOrOnlyStaleOrBrokenOnesIsUnverified) {
  Evidence e = GoodRun();
  e.reports.clear();
  e.stale_reports = {"build/old.xml"};
  TestReportEvidence broken;
  broken.file = "build/x.xml";
  broken.error = "not a test report: no testcase";
  e.reports.push_back(broken);
  EvidenceJudgement j = JudgeEvidence(kFull, e);
  EXPECT_EQ(j.outcome, Outcome::kUnverified);
  ASSERT_EQ(j.missing.size(), 1u);
  EXPECT_THAT(j.missing[0], HasSubstr("looked for build/*.xml"));
  EXPECT_THAT(j.missing[0], HasSubstr("older than the run: build/old.xml"));
  EXPECT_THAT(j.missing[0], HasSubstr("not reports: build/x.xml (not a test report"));
  e.report_patterns.clear();
  EXPECT_THAT(JudgeEvidence(kFull, e).missing[0], HasSubstr("names no report paths"));
}

TEST(Judge, ArtifactsAndPlan) {
  Evidence e = GoodRun();
  EXPECT_THAT(JudgeEvidence({"artifacts"}, e).missing,
              ElementsAre("artifacts: the profile names no artifacts (evidence.artifacts)"));
  e.artifact_patterns = {"dist/*.tar.gz", "dist/*.sha256"};
  e.unmatched_artifact_patterns = {"dist/*.sha256"};
  EXPECT_THAT(JudgeEvidence({"artifacts"}, e).missing,
              ElementsAre("artifacts: nothing written during the run matches dist/*.sha256"));
  e.unmatched_artifact_patterns.clear();
  EXPECT_EQ(JudgeEvidence({"artifacts"}, e).outcome, Outcome::kCompleted);
  EXPECT_THAT(JudgeEvidence({"plan"}, e).missing,
              ElementsAre("plan: no plan was written in .tollgate/plan"));
  e.plan_files.push_back({".tollgate/plan/plan.md", "x", 0});
  EXPECT_EQ(JudgeEvidence({"plan"}, e).outcome, Outcome::kUnverified);  // empty plan
  e.plan_files.push_back({".tollgate/plan/steps.md", "y", 120});
  EXPECT_EQ(JudgeEvidence({"plan"}, e).outcome, Outcome::kCompleted);
}

TEST(Judge, EvidenceJsonCarriesWhatTheLedgerShows) {
  nlohmann::json j = EvidenceToJson(GoodRun());
  EXPECT_EQ(j["run"]["exit_code"], 0);
  EXPECT_EQ(j["git"]["head_after"], "bbbbbbbbbbbbbbbb");
  EXPECT_EQ(j["test_results"]["reports"][0]["passed"], 12);
  EXPECT_EQ(j["git"]["diff"]["files"], 2);
}

}  // namespace
}  // namespace tollgate::policy
