// Approvals and the credential broker end to end: a call a rule asks about waits for
// `tollgate approvals` (approve once, approve for the run, deny, timeout), never waits with --ci,
// and a rule with `"run": "host"` pushes to a repository the sandbox cannot see while any other
// argv is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "supervisor/audit/log_files.h"
#include "supervisor/kernel/kernel_features.h"
#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

std::vector<Json> ToolCalls(const std::string& dir) {
  std::vector<Json> records;
  for (const Json& record : ReadAuditLog(dir)) {
    if (record["kind"] == "tool.call" || record["kind"] == "tool.exit") records.push_back(record);
  }
  return records;
}

class ApprovalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string problem = NamespaceProblem(); !problem.empty())
      GTEST_SKIP() << "user namespaces unavailable: " << problem;
    ws_ = scratch_ / "ws";
    log_ = scratch_ / "audit";
    ASSERT_EQ(Host("mkdir -p " + ws_ + " " + scratch_ / "run" + " && cd " + ws_ +
                   " && git init -q . && git -c user.name=t -c user.email=t@example.invalid "
                   "commit -q --allow-empty -m first"),
              0);
    profile_ = scratch_ / "approvals-e2e.json";
    Json profile = {
        {"name", "approvals-e2e"},
        {"description", "git with a rule that asks and a rule that runs on the host"},
        {"extends", {"base"}},
        {"filesystem", {{"write", {"{workspace}"}}}},
        {"tools",
         {{"git",
           {{"paths", {"/usr/bin/git", "/usr/lib/git-core/git"}},
            {"default", "deny"},
            {"why", "not in this test's rules"},
            {"subcommand", {{"flags", Json::array()}, {"value_options", Json::array()}}},
            {"host_env", {{"HOME", "/tmp"}}},
            {"rules",
             {{{"id", "ask-log"},
               {"verdict", "ask"},
               {"args", "log ..."},
               {"why", "a person looks"}},
              {{"id", "push-main"},
               {"verdict", "allow"},
               {"args", "push origin HEAD:refs/heads/main"},
               {"run", "host"},
               {"why", "the configured remote, through the broker"}}}}}}}}};
    ASSERT_TRUE(escapes::WriteFile(profile_, profile.dump(2)));
    scratch_.Handover();
    // As an ordinary user the approvals sockets live under $XDG_RUNTIME_DIR: one of the test's.
    env_ = {"XDG_RUNTIME_DIR=" + scratch_ / "run"};
  }

  // Runs `script` in the sandbox, in the background.
  void Start(const std::vector<std::string>& options, const std::string& script) {
    std::vector<std::string> args = {"run", "--profile",   profile_, "--workspace",
                                     ws_,   "--audit-log", log_};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", "sh", "-c", script});
    run_ = std::thread([this, args] { output_ = Tollgate(args, "", env_); });
  }

  RunOutput Finish() {
    if (run_.joinable()) run_.join();
    return output_;
  }

  // The pending call whose argv holds `marker`, once it is listed: {run, id}.
  std::pair<std::string, std::uint64_t> WaitForPending(const std::string& marker) {
    for (int attempt = 0; attempt < 400; ++attempt) {
      RunOutput listed = Tollgate({"approvals", "list", "--json"}, "", env_);
      Json all = Json::parse(listed.out, nullptr, false);
      if (all.is_array()) {
        for (const Json& item : all) {
          if (item["argv"].dump().find(marker) != std::string::npos)
            return {item["run"].get<std::string>(), item["id"].get<std::uint64_t>()};
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no pending call with " << marker;
    return {"", 0};
  }

  void TearDown() override { Finish(); }

  Scratch scratch_;
  std::string ws_, log_, profile_;
  std::vector<std::string> env_;
  std::thread run_;
  RunOutput output_;
};

TEST_F(ApprovalsTest, ApproveOnceLetsExactlyThatCallRun) {
  Start({"--approvals", "wait", "--approval-timeout", "60s"},
        "git log -1 --format=%s --grep=once-marker-1; echo rc=$?");
  auto [run, id] = WaitForPending("once-marker-1");
  RunOutput answer = Tollgate({"approvals", "approve", std::to_string(id), "--run", run}, "", env_);
  EXPECT_EQ(answer.exit_code, 0) << answer.err;
  EXPECT_THAT(answer.out, HasSubstr("approved once"));
  RunOutput out = Finish();
  EXPECT_THAT(out.out, HasSubstr("rc=0"));
  EXPECT_THAT(out.err, HasSubstr("approval needed for call"));
  auto records = ToolCalls(log_);
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0]["verdict"], "allow");
  EXPECT_EQ(records[0]["details"]["approval"], "approved once");
  EXPECT_EQ(records[0]["details"]["decision"], "ask");
  EXPECT_EQ(records[1]["kind"], "tool.exit");
}

TEST_F(ApprovalsTest, DenyRefusesTheCall) {
  Start({"--approvals", "wait", "--approval-timeout", "60s"},
        "git log -1 --grep=deny-marker; echo rc=$?");
  auto [run, id] = WaitForPending("deny-marker");
  RunOutput answer = Tollgate({"approvals", "deny", std::to_string(id), "--run", run}, "", env_);
  EXPECT_EQ(answer.exit_code, 0) << answer.err;
  RunOutput out = Finish();
  EXPECT_THAT(out.out, HasSubstr("rc=126"));
  EXPECT_THAT(out.err, HasSubstr("a person denied it"));
  auto records = ToolCalls(log_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["verdict"], "deny");
  EXPECT_EQ(records[0]["details"]["approval"], "denied");
}

TEST_F(ApprovalsTest, ApproveForTheRunCoversLaterCallsOfTheSameRule) {
  Start({"--approvals", "wait", "--approval-timeout", "60s"},
        "git log -1 --grep=run-marker-1; echo rc1=$?; git log -1 --grep=run-marker-2; echo "
        "rc2=$?");
  auto [run, id] = WaitForPending("run-marker-1");
  RunOutput answer =
      Tollgate({"approvals", "approve", std::to_string(id), "--for-run", "--run", run}, "", env_);
  EXPECT_EQ(answer.exit_code, 0) << answer.err;
  RunOutput out = Finish();
  EXPECT_THAT(out.out, HasSubstr("rc1=0"));
  EXPECT_THAT(out.out, HasSubstr("rc2=0"));
  std::vector<std::string> approvals;
  for (const Json& r : ToolCalls(log_)) {
    if (r["kind"] == "tool.call") approvals.push_back(r["details"].value("approval", ""));
  }
  EXPECT_EQ(approvals, (std::vector<std::string>{"approved for the run", "approved for the run"}));
}

TEST_F(ApprovalsTest, NoAnswerWithinTheTimeoutIsADenial) {
  Start({"--approvals", "wait", "--approval-timeout", "1s"},
        "git log -1 --grep=timeout-marker; echo rc=$?");
  RunOutput out = Finish();
  EXPECT_THAT(out.out, HasSubstr("rc=126"));
  EXPECT_THAT(out.err, HasSubstr("no approval within 1 s"));
  auto records = ToolCalls(log_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["details"]["approval"], "timed out");
}

TEST_F(ApprovalsTest, CiNeverWaits) {
  const auto start = std::chrono::steady_clock::now();
  Start({"--ci", "--approval-timeout", "60s"}, "git log -1 --grep=ci-marker; echo rc=$?");
  RunOutput out = Finish();
  // Without --ci this call would wait up to 60 s for a person; with it, it is refused at once.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(50));
  EXPECT_THAT(out.out, HasSubstr("rc=126"));
  EXPECT_THAT(out.err, HasSubstr("needs approval"));
  auto records = ToolCalls(log_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["details"]["approval"], "not possible");
  RunOutput ci_with_wait = Tollgate({"run", "--ci", "--approvals", "wait", "--profile", profile_,
                                     "--workspace", ws_, "--", "true"},
                                    "", env_);
  EXPECT_EQ(ci_with_wait.exit_code, 125);
}

// The credential broker: the sandbox cannot see the bare repository, the host-mode rule pushes
// to it anyway, and an argv the rule does not spell out is refused.
TEST_F(ApprovalsTest, HostRulePushesWhereTheSandboxCannotReach) {
  const std::string remote = scratch_ / "remote.git";
  // (The workspace belongs to the sandbox's user by now: the host's git is told to trust it.)
  const std::string git = "git -c safe.directory='*' ";
  ASSERT_EQ(Host("git init -q --bare " + remote + " && " + git + "-C " + ws_ +
                 " remote add origin " + remote),
            0);
  scratch_.Handover();
  Start({"--ci"}, "ls " + remote +
                      " >/dev/null 2>&1; echo seen=$?; "
                      "git push origin HEAD:refs/heads/main; echo rc1=$?; "
                      "git push origin HEAD:refs/heads/other; echo rc2=$?");
  RunOutput out = Finish();
  EXPECT_THAT(out.out, HasSubstr("seen=2"));  // not in the sandbox's view
  EXPECT_THAT(out.out, HasSubstr("rc1=0"));
  EXPECT_THAT(out.out, HasSubstr("rc2=126"));
  EXPECT_EQ(Host("test \"$(" + git + "--git-dir=" + remote +
                 " rev-parse refs/heads/main)\" = \"$(" + git + "-C " + ws_ + " rev-parse HEAD)\""),
            0);
  EXPECT_NE(Host(git + "--git-dir=" + remote + " rev-parse -q --verify refs/heads/other"), 0);
  auto records = ToolCalls(log_);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["verdict"], "allow");
  EXPECT_EQ(records[0]["details"]["run"], "host");
  EXPECT_EQ(records[1]["kind"], "tool.exit");
  EXPECT_EQ(records[1]["details"]["run"], "host");
  EXPECT_EQ(records[1]["details"]["exit"], 0);
  EXPECT_EQ(records[2]["verdict"], "deny");
  EXPECT_EQ(records[2]["rule"], "git:default");
}

}  // namespace
}  // namespace tollgate::e2e
