// Governance end to end (docs/GOVERNANCE.md): `tollgate run --task` against real git
// repositories and real test runners — idempotent dispatch (completed: recognised and not run;
// running: refused; failed: retried as attempt 2), evidence collected outside the sandbox
// (commits, real CTest output, JUnit reports, artifacts) deciding completed / failed /
// unverified, phase gates, escalation on a large diff, the ledger rebuilt from the log alone,
// and git configuration planted by the agent never run on the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr const char* kPassingJUnit =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="unit" tests="3"><testcase classname="unit" name="parses"/><testcase classname="unit" name="prints"/><testcase classname="unit" name="exits"/></testsuite>
)";
constexpr const char* kFailingJUnit =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="unit" tests="3"><testcase classname="unit" name="parses"/><testcase classname="unit" name="prints"><failure message="expected 2"/></testcase><testcase classname="unit" name="exits"><error message="boom"/></testcase></testsuite>
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A git repository with one commit, in a scratch directory the sandbox may use, and an audit
// log beside it.
class Repo {
 public:
  Repo() {
    repo_ = scratch_ / "repo";
    audit_ = scratch_ / "audit";
    EXPECT_EQ(Host("cd " + scratch_.path() +
                   " && git init -q repo && cd repo && git config user.email dev@example.com"
                   " && git config user.name Dev && echo hello > README.md"
                   " && printf 'build/\\ndist/\\n' > .gitignore && mkdir -p src && echo 'int x;' >"
                   " src/main.c && git add . && git commit -qm init"),
              0);
  }
  const std::string& path() const { return repo_; }
  const std::string& audit() const { return audit_; }
  std::string operator/(const std::string& name) const { return repo_ + "/" + name; }
  Scratch& scratch() { return scratch_; }
  void Write(const std::string& name, const std::string& text) {
    escapes::WriteFile(repo_ + "/" + name, text);
  }
  void Ready() { scratch_.Handover(); }

  // tollgate run --task … in the repository, with its own audit log.
  RunOutput Task(const std::vector<std::string>& task_args, const std::string& script) {
    std::vector<std::string> args = {"run", "--audit-log", audit_, "--workspace", repo_};
    args.insert(args.end(), task_args.begin(), task_args.end());
    args.insert(args.end(), {"--", "sh", "-c", script});
    return Tollgate(args, "", {}, repo_);
  }
  RunOutput Tollgate(const std::vector<std::string>& args, const std::string& home = "",
                     const std::vector<std::string>& env = {}, const std::string& cwd = "") {
    return e2e::Tollgate(args, home, env, cwd.empty() ? repo_ : cwd);
  }
  Json Show(const std::string& key) {
    RunOutput out = Tollgate({"task", "show", key, "--json", "--audit-log", audit_});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    return Json::parse(out.out, nullptr, false);
  }
  // The key of the only task (or the newest one).
  std::string Key() {
    RunOutput out = Tollgate({"task", "list", "--json", "--audit-log", audit_});
    Json list = Json::parse(out.out, nullptr, false);
    return list.is_array() && !list.empty() ? list[0].value("key", "") : "";
  }
  std::vector<Json> Records(const std::string& kind) { return OfKind(ReadAuditLog(audit_), kind); }

 private:
  Scratch scratch_;
  std::string repo_, audit_;
};

TEST(Governance, ACompletedTaskIsRecognisedAndNotRunAgain) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  ASSERT_EQ(Host("mkdir -p " + repo / "build"), 0);
  repo.Ready();
  const std::string script =
      "echo ran >> build/count && printf %s " + Quote(kPassingJUnit) + " > build/junit.xml";
  RunOutput first = repo.Task({"--task", "Run the tests"}, script);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.err, HasSubstr("phase implement attempt 1: completed"));
  EXPECT_EQ(ReadAll(repo / "build/count"), "ran\n");

  RunOutput second = repo.Task({"--task", "Run the tests"}, script);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("was dispatched before: the task is completed"));
  EXPECT_THAT(second.out, HasSubstr("tests     build/junit.xml: junit, 3 passed, 0 failed"));
  EXPECT_EQ(ReadAll(repo / "build/count"), "ran\n") << "a recognised task ran again";
  std::vector<Json> phases = repo.Records("task.phase");
  ASSERT_FALSE(phases.empty());
  EXPECT_EQ(phases.back()["rule"], "recognised");

  RunOutput again = repo.Task({"--task", "Run the tests", "--again"}, script);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadAll(repo / "build/count"), "ran\nran\n");
  std::vector<Json> dispatched = repo.Records("task.dispatched");
  ASSERT_EQ(dispatched.size(), 2u);
  EXPECT_EQ(dispatched[1]["details"]["attempt"], 2);
  EXPECT_EQ(dispatched[0]["task"], dispatched[1]["task"]);
}

TEST(Governance, ARunningTaskIsRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Ready();
  RunOutput first;
  std::thread running([&] { first = repo.Task({"--task", "Run the tests"}, "sleep 3"); });
  // Wait for the first dispatch to be recorded.
  for (int i = 0; i < 100 && repo.Records("task.dispatched").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  RunOutput second = repo.Task({"--task", "Run the tests"}, "echo second > second");
  running.join();
  EXPECT_EQ(second.exit_code, 120) << second.err;
  EXPECT_THAT(second.err, HasSubstr("refused (running)"));
  EXPECT_THAT(second.err, HasSubstr("is still running: one attempt at a time"));
  struct stat st {};
  EXPECT_NE(::stat((repo / "second").c_str(), &st), 0) << "the refused dispatch ran";
  std::vector<Json> phases = repo.Records("task.phase");
  ASSERT_FALSE(phases.empty());
  EXPECT_EQ(phases.back()["verdict"], "deny");
  EXPECT_EQ(phases.back()["rule"], "running");
  // The first wrote no test report: unverified, and the next dispatch is its attempt 2.
  EXPECT_EQ(first.exit_code, 121) << first.err;
  RunOutput third = repo.Task({"--task", "Run the tests"}, "true");
  EXPECT_THAT(third.err, HasSubstr("phase implement attempt 2"));
}

TEST(Governance, AFailedTaskIsRetriedAsAttemptTwo) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Ready();
  RunOutput failed = repo.Task({"--task", "Run the tests"}, "exit 3");
  EXPECT_EQ(failed.exit_code, 3) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("attempt 1: failed"));
  EXPECT_THAT(failed.err, HasSubstr("exit_status: the command exited with 3"));
  ASSERT_EQ(repo.Records("task.failed").size(), 1u);
  RunOutput retried = repo.Task({"--task", "Run the tests"}, "exit 4");
  EXPECT_EQ(retried.exit_code, 4);
  Json task = repo.Show(repo.Key());
  ASSERT_EQ(task["attempts"].size(), 2u);
  EXPECT_EQ(task["attempts"][1]["attempt"], 2);
  EXPECT_EQ(task["attempts"][1]["outcome"], "failed");
  EXPECT_EQ(task["state"], "failed");
}

TEST(Governance, EvidenceFromARealCommitAndRealCTest) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Write("CMakeLists.txt",
             "cmake_minimum_required(VERSION 3.20)\nproject(t NONE)\nenable_testing()\n"
             "add_test(NAME prints COMMAND sh -c \"echo ok\")\n"
             "add_test(NAME not_broken COMMAND sh -c \"test ! -e ${CMAKE_SOURCE_DIR}/broken\")\n");
  ASSERT_EQ(Host("cd " + repo.path() + " && git add CMakeLists.txt && git commit -qm cmake"), 0);
  repo.Ready();
  // ctest writes its own log (Testing/Temporary/LastTest.log) and, asked to, JUnit XML.
  const std::string ctest =
      "cmake -S . -B build >/dev/null && ctest --test-dir build --output-junit junit.xml"
      " >/dev/null; true";
  // A commit and passing tests: completed.
  RunOutput done = repo.Task({"--task", "Fix typo in README"},
                             "echo 'hello, world' > README.md && git commit -qam typo && " + ctest);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  std::vector<Json> evidence = repo.Records("task.evidence");
  ASSERT_EQ(evidence.size(), 1u);
  const Json& e = evidence[0]["details"];
  EXPECT_NE(e["git"]["head_before"], e["git"]["head_after"]);
  EXPECT_EQ(e["git"]["diff"]["files"], 1);
  EXPECT_EQ(e["git"]["diff"]["paths"], Json::array({"README.md"}));
  const Json& reports = e["test_results"]["reports"];
  ASSERT_EQ(reports.size(), 2u) << reports.dump();
  EXPECT_EQ(reports[0]["file"], "build/Testing/Temporary/LastTest.log");
  EXPECT_EQ(reports[0]["format"], "ctest");
  EXPECT_EQ(reports[0]["passed"], 2);
  EXPECT_EQ(reports[1]["file"], "build/junit.xml");
  EXPECT_EQ(reports[1]["format"], "junit");
  EXPECT_EQ(reports[1]["passed"], 2);
  EXPECT_EQ(repo.Records("task.completed").size(), 1u);

  // A change without a commit, and a failing test: failed, naming the test; the command itself
  // exited 0, so the status says "not complete".
  RunOutput broken = repo.Task({"--task", "Fix the crash in the parser"},
                               "touch broken && echo x >> src/main.c && " + ctest);
  EXPECT_EQ(broken.exit_code, 121) << broken.err;
  EXPECT_THAT(broken.err, HasSubstr("attempt 1: failed"));
  EXPECT_THAT(broken.err, HasSubstr("git_head: no commit was made"));
  EXPECT_THAT(broken.err, HasSubstr("test_results: 2 of 4 tests failed"));
  EXPECT_THAT(broken.err, HasSubstr("not_broken"));
}

TEST(Governance, JUnitReportsAndTheirAbsence) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Ready();
  RunOutput failing = repo.Task({"--task", "Fix the flaky retry test"},
                                "echo y >> src/main.c && git commit -qam fix && mkdir -p build &&"
                                " printf %s " +
                                    Quote(kFailingJUnit) + " > build/junit-unit.xml");
  EXPECT_EQ(failing.exit_code, 121) << failing.err;
  EXPECT_THAT(failing.err, HasSubstr("test_results: 2 of 3 tests failed"));
  EXPECT_THAT(failing.err, HasSubstr("unit.prints, unit.exits"));

  // A report left from before the run does not count for it. (File times tick with the kernel's
  // coarse clock, a few ms: the pause keeps the two runs apart on it.)
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  RunOutput stale = repo.Task({"--task", "Fix the flaky retry test"},
                              "echo z >> src/main.c && git commit -qam again");
  EXPECT_EQ(stale.exit_code, 121) << stale.err;
  EXPECT_THAT(stale.err, HasSubstr("attempt 2: unverified"));
  EXPECT_THAT(stale.err, HasSubstr("older than the run: build/junit-unit.xml"));

  RunOutput fixed = repo.Task({"--task", "Fix the flaky retry test"},
                              "echo w >> src/main.c && git commit -qam fixed && printf %s " +
                                  Quote(kPassingJUnit) + " > build/junit-unit.xml");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_THAT(fixed.err, HasSubstr("attempt 3: completed"));
}

// A class of its own (--classes) whose profile names artifacts.
TEST(Governance, ArtifactsPresentOrMissing) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  ASSERT_EQ(Host("mkdir -p " + repo / ".tollgate/profiles"), 0);
  repo.Write(".tollgate/profiles/packager.json",
             R"({"name": "packager", "description": "builds the release tarball",
                 "extends": ["workspace-write"],
                 "evidence": {"artifacts": ["dist/*.tar.gz"]}})");
  escapes::WriteFile(repo.scratch() / "classes.json", R"({
    "tiers": {"small": {"memory": "1G", "processes": 256, "cpu": "5m", "wall": "5m"}},
    "phases": {"implement": {"description": "the work"}},
    "classes": [{"name": "package", "description": "make the tarball", "profile": "packager",
                 "tier": "small", "phases": ["implement"], "evidence": ["exit_status", "artifacts"]}],
    "rules": [{"id": "package-words", "class": "package", "phrases": ["tarball"], "why": "packaging"}],
    "default": {"class": "package", "why": "the only class"}})");
  repo.Ready();
  const std::string classes = repo.scratch() / "classes.json";
  RunOutput missing = repo.Task({"--task", "Build the tarball", "--classes", classes}, "true");
  EXPECT_EQ(missing.exit_code, 121) << missing.err;
  EXPECT_THAT(missing.err,
              HasSubstr("artifacts: nothing written during the run matches dist/*.tar.gz"));
  RunOutput made = repo.Task({"--task", "Build the tarball", "--classes", classes},
                             "mkdir -p dist && echo payload > dist/app-1.0.tar.gz");
  EXPECT_EQ(made.exit_code, 0) << made.err;
  std::vector<Json> evidence = repo.Records("task.evidence");
  ASSERT_EQ(evidence.size(), 2u);
  const Json& files = evidence[1]["details"]["artifacts"]["files"];
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]["path"], "dist/app-1.0.tar.gz");
  // sha256 of "payload\n"
  EXPECT_EQ(files[0]["sha256"], "d4e4877bac978b7952f0d544fc52ebff5411d351d129f1f056fa43f11da9af2b");
  EXPECT_EQ(files[0]["size"], 8);
}

TEST(Governance, PhaseGatesRefuseOutOfOrderAndMissingEntryEvidence) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Ready();
  const std::vector<std::string> task = {"--task", "Add a --verbose flag to the CLI"};
  std::vector<std::string> implement = task;
  implement.insert(implement.end(), {"--phase", "implement"});
  RunOutput early = repo.Task(implement, "echo ran > ran");
  EXPECT_EQ(early.exit_code, 120) << early.err;
  EXPECT_THAT(early.err, HasSubstr("refused (phase-order)"));
  EXPECT_THAT(early.err, HasSubstr("plan: has not run"));
  struct stat st {};
  EXPECT_NE(::stat((repo / "ran").c_str(), &st), 0);

  // A plan phase that writes no plan: unverified, and implement is refused for it.
  RunOutput no_plan = repo.Task(task, "true");
  EXPECT_EQ(no_plan.exit_code, 121) << no_plan.err;
  EXPECT_THAT(no_plan.err, HasSubstr("phase plan attempt 1: unverified"));
  RunOutput blocked = repo.Task(implement, "echo ran > ran");
  EXPECT_EQ(blocked.exit_code, 120) << blocked.err;
  EXPECT_THAT(blocked.err, HasSubstr("refused (entry-evidence)"));
  EXPECT_THAT(blocked.err, HasSubstr("plan: no plan was written in .tollgate/plan"));

  // The plan phase is read-only but for the plan: writing elsewhere fails there.
  RunOutput planned = repo.Task(task,
                                "echo '1. add the flag' > .tollgate/plan/plan.md &&"
                                " ! echo x 2>/dev/null > README.md");
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
  EXPECT_THAT(planned.err, HasSubstr("phase plan attempt 2: completed"));
  EXPECT_THAT(planned.err, HasSubstr("next     phase implement"));
  Json shown = repo.Show(repo.Key());
  EXPECT_EQ(shown["next_phase"], "implement");
  EXPECT_EQ(shown["refusals"].size(), 1u);  // the first refusal came before the task existed
}

TEST(Governance, ALargeDiffRaisesTheClass) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Ready();
  RunOutput run =
      repo.Task({"--task", "Fix typo in README"},
                "for d in a b c d; do mkdir -p $d && echo x > $d/f.c; done && git add . &&"
                " git commit -qm spread && mkdir -p build && printf %s " +
                    Quote(kPassingJUnit) + " > build/junit.xml");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("raised   tiny-fix → feature (files 4 > 3, modules 4 > 1, "
                                 "new_directories 4 > 1)"));
  std::vector<Json> escalated = repo.Records("task.escalated");
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0]["details"]["from"], "tiny-fix");
  EXPECT_EQ(escalated[0]["details"]["to"], "feature");
  Json shown = repo.Show(repo.Key());
  EXPECT_EQ(shown["class"], "feature");
  EXPECT_EQ(shown["initial_class"], "tiny-fix");
  EXPECT_EQ(shown["next_phase"], "review");  // plan waived, implement done
  // Shipping now is refused: a feature is reviewed first.
  RunOutput ship = repo.Task({"--task", "Fix typo in README", "--phase", "ship"}, "true");
  EXPECT_EQ(ship.exit_code, 120);
  EXPECT_THAT(ship.err, HasSubstr("review: has not run"));
}

TEST(Governance, TheLedgerRebuiltFromTheLogAloneIsTheSameAndATamperedLogFailsVerify) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  repo.Ready();
  repo.Task({"--task", "Run the tests"}, "exit 1");
  repo.Task({"--task", "Fix typo in README"}, "echo a >> README.md && git commit -qam a");
  auto list = [&] {
    RunOutput out = repo.Tollgate({"task", "list", "--json", "--audit-log", repo.audit()});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    return out.out;
  };
  const std::string before = list();
  ASSERT_THAT(before, HasSubstr("\"state\": \"failed\""));
  const std::string index = repo.audit() + "/task-index.json";
  struct stat st {};
  ASSERT_EQ(::stat(index.c_str(), &st), 0) << "the index cache was not written";
  ::unlink(index.c_str());
  EXPECT_EQ(list(), before);
  escapes::WriteFile(index, "{\"version\": 1, \"file\": \"nope\"}");  // a broken cache
  EXPECT_EQ(list(), before);
  RunOutput reindex = repo.Tollgate({"audit", "reindex", "--audit-log", repo.audit()});
  ASSERT_EQ(reindex.exit_code, 0) << reindex.err;
  EXPECT_THAT(reindex.out, HasSubstr("2 tasks"));
  EXPECT_EQ(list(), before);

  // Rewrite the failed outcome as a completion: verify finds it, reindex refuses the log.
  ASSERT_EQ(
      Host("cd " + repo.audit() +
           " && sed -i 's/\"kind\":\"task.failed\"/\"kind\":\"task.completed\"/' audit-*.jsonl"),
      0);
  RunOutput verify = repo.Tollgate({"audit", "verify", "--audit-log", repo.audit()});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  RunOutput refused = repo.Tollgate({"audit", "reindex", "--audit-log", repo.audit()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("does not verify"));
}

// A task file's scope: only the scope paths (and scratch: .git, build folders) are writable.
TEST(Governance, AScopeNarrowsWhatTheTaskMayWrite) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  escapes::WriteFile(repo.scratch() / "task.json",
                     R"({"title": "Fix the off-by-one in src", "scope": ["src"]})");
  repo.Ready();
  RunOutput run =
      repo.Task({"--task-file", repo.scratch() / "task.json"},
                "echo 'int y;' >> src/main.c && echo src-ok;"
                " (echo x >> README.md) 2>/dev/null && echo readme-written || echo readme-refused;"
                " git commit -qam scoped && echo committed");
  EXPECT_THAT(run.out, HasSubstr("src-ok"));
  EXPECT_THAT(run.out, HasSubstr("readme-refused"));
  EXPECT_THAT(run.out, Not(HasSubstr("readme-written")));
  EXPECT_THAT(run.out, HasSubstr("committed"));
  EXPECT_EQ(ReadAll(repo / "README.md"), "hello\n");
  std::vector<Json> dispatched = repo.Records("task.dispatched");
  ASSERT_EQ(dispatched.size(), 1u);
  EXPECT_EQ(dispatched[0]["details"]["scope"], Json::array({"src"}));
  // A scope path that does not exist is refused before anything runs.
  escapes::WriteFile(repo.scratch() / "missing.json",
                     R"({"title": "Fix the off-by-one in lib", "scope": ["lib"]})");
  RunOutput missing = repo.Task({"--task-file", repo.scratch() / "missing.json"}, "echo ran");
  EXPECT_EQ(missing.exit_code, 125) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("lib"));
  EXPECT_THAT(missing.out, Not(HasSubstr("ran")));
}

// The agent plants a clean filter in the repository's configuration (a profile that leaves
// .git/config writable); git on the host would run it when computing the diff. The evidence
// step notices the configuration changed and does not run git at all.
TEST(Governance, GitConfigurationPlantedByTheAgentNeverRunsOnTheHost) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Repo repo;
  ASSERT_EQ(Host("mkdir -p " + repo / ".tollgate/profiles"), 0);
  repo.Write(".tollgate/profiles/open-git.json",
             R"({"name": "open-git", "description": "everything in the workspace writable",
                 "extends": ["base", "mediated-tools"],
                 "filesystem": {"write": ["{workspace}"], "exec": ["{workspace}"]}})");
  escapes::WriteFile(repo.scratch() / "classes.json", R"({
    "tiers": {"small": {"memory": "1G", "processes": 256, "cpu": "5m", "wall": "5m"}},
    "phases": {"implement": {"description": "the work"}},
    "classes": [{"name": "open", "description": "anything", "profile": "open-git",
                 "tier": "small", "phases": ["implement"], "evidence": ["exit_status", "diff"]}],
    "rules": [{"id": "any", "class": "open", "phrases": ["change"], "why": "test"}],
    "default": {"class": "open", "why": "the only class"}})");
  repo.Ready();
  const std::string marker = repo.scratch() / "filter-ran";
  // Written straight into the file (the mediated git refuses `git config`).
  const std::string plant = "printf '[filter \"evil\"]\\n\\tclean = touch " + marker +
                            "; cat\\n' >> .git/config && echo '* filter=evil' > .gitattributes"
                            " && echo changed >> README.md";

  RunOutput run = repo.Task(
      {"--task", "Change the README", "--classes", repo.scratch() / "classes.json"}, plant);
  EXPECT_EQ(run.exit_code, 121) << run.err;
  EXPECT_THAT(run.err, HasSubstr("the repository's configuration changed during the run"));
  struct stat st {};
  EXPECT_NE(::stat(marker.c_str(), &st), 0) << "the planted filter ran on the host";
  std::vector<Json> evidence = repo.Records("task.evidence");
  ASSERT_EQ(evidence.size(), 1u);
  EXPECT_EQ(evidence[0]["details"]["git"]["available"], false);

  // The attack is real: the same git command on the host runs the filter.
  ASSERT_EQ(Host("cd " + repo.path() + " && git -c safe.directory='*' diff --numstat HEAD" +
                 " >/dev/null 2>&1"),
            0);
  EXPECT_EQ(::stat(marker.c_str(), &st), 0) << "the filter does not run even unsandboxed";
}

}  // namespace
}  // namespace tollgate::e2e
