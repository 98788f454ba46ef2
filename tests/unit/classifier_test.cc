// Task classification (policy/classifier.h) with the shipped profiles/classes.json: a table of
// task texts and the class each must get, near-misses among them; determinism; the task key;
// and the checks on the classes file.
#include "policy/classifier.h"
#include "tests/unit/shipped_classes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tollgate::policy {
namespace {

using ::testing::HasSubstr;

struct Case {
  const char* text;
  const char* expected_class;
  const char* expected_rule;
};

class ClassifierTable : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifierTable, RoutesTheTaskToItsClass) {
  const Case& c = GetParam();
  TaskSpec task;
  task.title = c.text;
  Classification result = Classify(Shipped(), task);
  ASSERT_NE(result.task_class, nullptr) << result.error;
  EXPECT_EQ(result.task_class->name, c.expected_class) << c.text << " (rule " << result.rule << ")";
  EXPECT_EQ(result.rule, c.expected_rule) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Shipped, ClassifierTable,
    ::testing::Values(
        // release: an explicit signal
        Case{"Release 2.4.0", "release", "release-words"},
        Case{"cut a release for the March milestone", "release", "release-words"},
        Case{"Publish the package to npm", "release", "release-words"},
        Case{"Tag v1.9.2 and write the changelog", "release", "release-words"},
        Case{"bump the version to 3.0 and prepare the release", "release", "release-words"},
        Case{"Prepare a release candidate", "release", "release-words"},
        // near-misses: release words that do not ask for one
        Case{"Fix the typo in the release notes", "tiny-fix", "small-change-words"},
        Case{"Don't publish anything, just run the tests", "test", "test-run"},
        Case{"do not release yet; review the changelog", "review", "review-words"},
        Case{"explain how our release process works", "review", "review-words"},
        Case{"the release script crashes on empty tags", "tiny-fix", "fix-words"},
        // dependency
        Case{"Bump lodash from 4.17.20 to 4.17.21", "dependency", "dependency-words"},
        Case{"Update dependencies", "dependency", "dependency-words"},
        Case{"upgrade to 2.0.1 of the http client", "dependency", "dependency-words"},
        Case{"Merge the dependabot PR for requests", "dependency", "dependency-words"},
        Case{"add serde to Cargo.toml", "dependency", "dependency-words"},
        Case{"pin numpy in requirements.txt", "dependency", "dependency-words"},
        Case{"regenerate the lockfile", "dependency", "dependency-words"},
        Case{"npm install left package-lock.json out of date", "dependency", "dependency-words"},
        // a known false positive, kept in the table so a change to it shows: "dependency" in
        // another sense (the dispatcher gives "kind" for such a task)
        Case{"Document the dependency injection container", "dependency", "dependency-words"},
        // a negated signal does not count
        Case{"never bump anything; fix the off-by-one in the pager", "tiny-fix",
             "small-change-words"},
        // test
        Case{"Run the tests", "test", "test-run"},
        Case{"please run the unit tests and report failures", "test", "test-run"},
        Case{"Check that the tests pass on this branch", "test", "test-run"},
        Case{"rerun the tests after the flaky one", "test", "test-run"},
        Case{"run all the tests", "test", "test-run"},
        // near-misses: tests mentioned, not run
        Case{"Fix the failing test in parser_test.c", "tiny-fix", "fix-words"},
        Case{"add tests for the tokenizer", "feature", "feature-words"},
        Case{"write a test for the empty input case", "feature", "default"},
        // review
        Case{"Review the authentication module", "review", "review-words"},
        Case{"Explain what the scheduler does", "review", "review-words"},
        Case{"analyze the memory usage of the cache", "review", "review-words"},
        Case{"Summarize the changes since last week", "review", "review-words"},
        Case{"Why does the build take so long?", "review", "review-words"},
        Case{"look into the slow queries", "review", "review-words"},
        Case{"audit the code for SQL injection", "review", "review-words"},
        Case{"walk me through the request path", "review", "review-words"},
        // near-misses
        Case{"reviewer comments: rename the variable", "tiny-fix", "small-change-words"},
        Case{"preview images are broken", "tiny-fix", "fix-words"},
        // tiny fixes
        Case{"Fix typo in README", "tiny-fix", "small-change-words"},
        Case{"correct the spelling of 'receive'", "tiny-fix", "small-change-words"},
        Case{"rename getUser to fetchUser", "tiny-fix", "small-change-words"},
        Case{"Off-by-one in the pagination", "tiny-fix", "small-change-words"},
        Case{"make the linter happy", "tiny-fix", "small-change-words"},
        Case{"Fix the crash when the config file is empty", "tiny-fix", "fix-words"},
        Case{"login fails with a 500", "tiny-fix", "fix-words"},
        Case{"The totals are wrong for leap years", "tiny-fix", "fix-words"},
        Case{"handle the error from close()", "tiny-fix", "fix-words"},
        Case{"regression in 2.3: dates print in UTC", "tiny-fix", "fix-words"},
        // near-misses: words that contain fix words
        Case{"prefix every log line with the pid", "feature", "default"},
        Case{"debug output should include timings", "feature", "default"},
        Case{"an errorless path for empty input", "feature", "default"},
        // feature
        Case{"Add a --json flag to the list command", "feature", "feature-words"},
        Case{"Implement OAuth login", "feature", "feature-words"},
        Case{"support YAML config files", "feature", "feature-words"},
        Case{"create an endpoint for health checks", "feature", "feature-words"},
        Case{"introduce rate limiting", "feature", "feature-words"},
        Case{"Dark mode", "feature", "default"},
        // architecture (only when nothing narrower matched)
        Case{"Refactor the storage layer", "architecture", "architecture-words"},
        Case{"migrate from Flask to FastAPI", "architecture", "architecture-words"},
        Case{"split into a core library and a CLI", "architecture", "architecture-words"},
        Case{"Rewrite the scheduler in Rust", "architecture", "architecture-words"},
        Case{"refactor the parser to fix the crash", "tiny-fix", "fix-words"},
        Case{"add a plugin system and restructure the API", "feature", "feature-words"},
        // case, white space, curly apostrophe
        Case{"  RUN   THE\tTESTS  ", "test", "test-run"},
        Case{"we won\u2019t publish today; explain the diff", "review", "review-words"}));

TEST(Classifier, AnExplicitKindWinsAndAnUnknownOneIsAnError) {
  TaskSpec task;
  task.title = "Release 2.0";
  task.kind = "review";
  Classification result = Classify(Shipped(), task);
  ASSERT_NE(result.task_class, nullptr);
  EXPECT_EQ(result.task_class->name, "review");
  EXPECT_EQ(result.rule, "kind");
  task.kind = "yolo";
  result = Classify(Shipped(), task);
  EXPECT_EQ(result.task_class, nullptr);
  EXPECT_THAT(result.error, HasSubstr("unknown task kind \"yolo\""));
  EXPECT_THAT(result.error, HasSubstr("tiny-fix"));
}

TEST(Classifier, AScopeOfOnlyDocumentationIsATinyFix) {
  TaskSpec task;
  task.title = "Describe the caching behaviour";
  task.scope = {"docs/cache.md", "./README.md"};
  Classification result = Classify(Shipped(), task);
  ASSERT_NE(result.task_class, nullptr);
  EXPECT_EQ(result.task_class->name, "tiny-fix");
  EXPECT_EQ(result.rule, "docs-only");
  task.scope.push_back("src/cache.c");  // one path outside: the rule does not hold
  EXPECT_EQ(Classify(Shipped(), task).rule, "default");
  task.scope = {"docsite/index.md"};  // a prefix of a name is not a directory
  EXPECT_EQ(Classify(Shipped(), task).rule, "default");
}

TEST(Classifier, TheDescriptionCountsToo) {
  TaskSpec task;
  task.title = "Issue #412";
  task.description = "Users report the export crashes on large files.";
  EXPECT_EQ(Classify(Shipped(), task).rule, "fix-words");
}

TEST(Classifier, IsDeterministic) {
  TaskSpec task;
  task.title = "Fix the crash when the config file is empty";
  Classification first = Classify(Shipped(), task);
  for (int i = 0; i < 100; ++i) {
    Classification again = Classify(Shipped(), task);
    EXPECT_EQ(again.task_class, first.task_class);
    EXPECT_EQ(again.rule, first.rule);
    EXPECT_EQ(again.matched, first.matched);
  }
}

TEST(TaskKey, InputIsCanonicalAndCoversEveryPart) {
  const std::string input = TaskKeyInput("tiny-fix", "abc", {"a.c", "b.c"}, "fix it", "HEAD~1");
  EXPECT_EQ(input,
            "{\"base\":\"HEAD~1\",\"class\":\"tiny-fix\",\"profile_digest\":\"abc\",\"scope\":"
            "[\"a.c\",\"b.c\"],\"text\":\"fix it\"}");
  EXPECT_NE(TaskKeyInput("feature", "abc", {"a.c", "b.c"}, "fix it", "HEAD~1"), input);
  EXPECT_NE(TaskKeyInput("tiny-fix", "abd", {"a.c", "b.c"}, "fix it", "HEAD~1"), input);
  EXPECT_NE(TaskKeyInput("tiny-fix", "abc", {"a.c"}, "fix it", "HEAD~1"), input);
  EXPECT_NE(TaskKeyInput("tiny-fix", "abc", {"a.c", "b.c"}, "fix it!", "HEAD~1"), input);
  EXPECT_NE(TaskKeyInput("tiny-fix", "abc", {"a.c", "b.c"}, "fix it", "HEAD"), input);
}

TEST(TaskKey, TextAndScopeAreNormalisedBeforeKeying) {
  TaskSpec a, b;
  a.title = "Fix  the\tCrash";
  b.title = "fix the crash";
  EXPECT_EQ(NormaliseTaskText(a), NormaliseTaskText(b));
  a.description = "details";
  EXPECT_EQ(NormaliseTaskText(a), "fix the crash details");
  std::string error;
  EXPECT_EQ(NormaliseScope({"./src/", "src", "docs/a.md"}, &error),
            (std::vector<std::string>{"docs/a.md", "src"}));
  EXPECT_TRUE(error.empty());
  NormaliseScope({"../etc"}, &error);
  EXPECT_THAT(error, HasSubstr("stay inside"));
  error.clear();
  NormaliseScope({"/etc/passwd"}, &error);
  EXPECT_THAT(error, HasSubstr("relative"));
  error.clear();
  NormaliseScope({"src/../../x"}, &error);
  EXPECT_FALSE(error.empty());
}

TEST(ClassesFile, EveryProblemIsReportedWithItsPath) {
  ClassesResult result = ParseClasses(R"({
    "tiers": {"small": {"memory": "2G", "processes": 8, "cpu": "soon", "wall": "1m"}},
    "phases": {"x": {"description": "d"}},
    "classes": [
      {"name": "a", "description": "d", "profile": "p", "tier": "huge", "phases": ["x"]},
      {"name": "a", "description": "d", "profile": "p", "tier": "small", "phases": ["x"],
       "escalation": {"files": 2, "to": "nope"}, "colour": "red"}],
    "rules": [
      {"id": "r", "class": "b", "phrases": ["Fix"], "why": "w"},
      {"id": "r", "class": "a", "why": "w"}],
    "default": {"class": "zzz", "why": "w"}
  })");
  EXPECT_FALSE(result.classes.has_value());
  std::vector<std::string> got;
  for (const ClassesError& e : result.errors) got.push_back(e.json_path + ": " + e.message);
  EXPECT_THAT(
      got, ::testing::UnorderedElementsAre(
               "/tiers/small/cpu: expected a duration such as \"30m\"",
               "/classes/1/colour: unknown key \"colour\"",
               "/rules/0/phrases: phrase \"Fix\" must be lower case (text is matched "
               "lower-cased)",
               "/rules/1: a rule needs \"phrases\" or \"scope_under\"",
               "/classes/1/name: duplicate class \"a\"", "/classes/0/tier: unknown tier \"huge\"",
               "/classes/1/escalation/to: unknown class \"nope\"",
               "/rules/1/id: duplicate rule id \"r\"", "/rules/0/class: unknown class \"b\"",
               "/default/class: unknown class \"zzz\""));
}

TEST(ClassesFile, PhasesAndEvidenceAreChecked) {
  ClassesResult result = ParseClasses(R"({
    "tiers": {"small": {"memory": "2G", "processes": 8, "cpu": "1m", "wall": "1m"}},
    "phases": {"plan": {"description": "d", "evidence": ["plan", "vibes"], "colour": 1},
               "implement": {"profile": "p"}},
    "classes": [
      {"name": "a", "description": "d", "profile": "p", "tier": "small",
       "phases": ["plan", "ship", "plan"], "evidence": ["exit_status", "screenshots"]},
      {"name": "b", "description": "d", "profile": "p", "tier": "small", "phases": []}],
    "rules": [{"id": "r", "class": "a", "phrases": ["x"], "why": "w"}],
    "default": {"class": "a", "why": "w"}
  })");
  EXPECT_FALSE(result.classes.has_value());
  std::vector<std::string> got;
  for (const ClassesError& e : result.errors) got.push_back(e.json_path + ": " + e.message);
  const std::string known = " (known: exit_status, git_head, diff, test_results, artifacts, plan)";
  EXPECT_THAT(got, ::testing::UnorderedElementsAre(
                       "/phases/plan/colour: unknown key \"colour\"",
                       "/phases/implement: missing \"description\"",
                       "/classes/0/phases/1: unknown phase \"ship\"",
                       "/classes/0/phases/2: phase \"plan\" twice",
                       "/classes/1/phases: a class needs a phase",
                       "/classes/0/evidence/1: unknown evidence \"screenshots\"" + known,
                       "/phases/plan/evidence/1: unknown evidence \"vibes\"" + known));
}

TEST(ClassesFile, ThePhaseProfileAndEvidenceDefaultToTheClasss) {
  const TaskClass* feature = Shipped().Find("feature");
  ASSERT_NE(feature, nullptr);
  EXPECT_EQ(Shipped().PhaseProfile(*feature, "plan"), "plan");
  EXPECT_EQ(Shipped().PhaseProfile(*feature, "implement"), "feature");
  EXPECT_EQ(Shipped().PhaseProfile(*feature, "review"), "review");
  EXPECT_EQ(Shipped().PhaseProfile(*feature, "ship"), "release");
  EXPECT_EQ(Shipped().PhaseEvidence(*feature, "implement"), feature->evidence);
  EXPECT_THAT(Shipped().PhaseEvidence(*feature, "plan"),
              ::testing::ElementsAre("exit_status", "plan"));
}

TEST(ClassesFile, TheShippedFileNamesEveryClassTheIssueAsksFor) {
  for (const char* name :
       {"review", "test", "tiny-fix", "feature", "dependency", "release", "architecture"}) {
    const TaskClass* c = Shipped().Find(name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_NE(Shipped().FindTier(c->tier), nullptr) << name;
    EXPECT_FALSE(c->phases.empty()) << name;
    EXPECT_FALSE(c->evidence.empty()) << name;
  }
}

}  // namespace
}  // namespace tollgate::policy
