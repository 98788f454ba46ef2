// The shipped release profile end to end, with the real git: a push goes through the tool
// broker to a bare repository outside the workspace (which the sandbox cannot see), a force push
// is refused and leaves the remote as it was, workspace-write refuses the same push, and a
// .git/commondir written in the sandbox cannot bring hooks to the broker's git on the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// The workspace belongs to the sandbox's user once handed over: the host's git, run here as
// the test's user, is told to trust it.
const std::string kGit = "git -c safe.directory='*' ";
// The sandbox's home is empty: commits there need an identity from the environment.
const std::string kIdentity =
    "GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@example.invalid "
    "GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@example.invalid ";

class ReleaseProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TOLLGATE_SKIP_WITHOUT_NAMESPACES();
    if (access("/usr/bin/git", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/git";
    ws_ = scratch_ / "ws";
    remote_ = scratch_ / "remote.git";
    log_ = scratch_ / "audit";
    ASSERT_EQ(Host("mkdir -p " + ws_ + " && cd " + ws_ + " && git init -q -b main . && " + kGit +
                   "-c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m "
                   "first && git init -q --bare " +
                   remote_ + " && " + kGit + "remote add origin file://" + remote_),
              0);
  }

  RunOutput Run(const std::string& profile, const std::string& script) {
    scratch_.Handover();
    return Tollgate({"run", "--ci", "--profile", profile, "--workspace", ws_, "--audit-log", log_,
                     "--", "/bin/sh", "-c", script});
  }

  // The commit a ref names in a repository, or "" when it does not exist.
  std::string RevParse(const std::string& git_dir, const std::string& ref) {
    std::string out = scratch_ / "rev";
    if (Host(kGit + "--git-dir=" + git_dir + " rev-parse -q --verify " + ref + " > " + out) != 0)
      return "";
    std::string text = escapes::ReadFile(out);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  std::vector<Json> ToolCalls() { return OfKind(ReadAuditLog(log_), "tool.call"); }

  Scratch scratch_;
  std::string ws_, remote_, log_;
};

TEST_F(ReleaseProfileTest, PushGoesThroughTheBrokerToARemoteTheSandboxCannotSee) {
  RunOutput run = Run("release", "ls " + remote_ + " >/dev/null 2>&1; echo seen=$?; " + kIdentity +
                                     "git commit -q --allow-empty -m release-commit && "
                                     "git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("seen=2"));  // not in the sandbox's view
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  const std::string head = RevParse(ws_ + "/.git", "HEAD");
  ASSERT_FALSE(head.empty());
  EXPECT_EQ(RevParse(remote_, "refs/heads/main"), head);
  EXPECT_EQ(
      Host(kGit + "--git-dir=" + remote_ + " log -1 --format=%s main | grep -qx release-commit"),
      0);
  bool pushed_on_host = false;
  for (const Json& call : ToolCalls()) {
    if (call["details"]["subcommand"] == "push") {
      EXPECT_EQ(call["verdict"], "allow");
      EXPECT_EQ(call["rule"], "git:release-push-head");
      EXPECT_EQ(call["details"]["run"], "host");
      pushed_on_host = true;
    }
  }
  EXPECT_TRUE(pushed_on_host);
}

TEST_F(ReleaseProfileTest, ForcePushIsRefusedAndTheRemoteIsUnchanged) {
  ASSERT_EQ(Host("cd " + ws_ + " && " + kGit + "push -q origin HEAD"), 0);
  const std::string before = RevParse(remote_, "refs/heads/main");
  ASSERT_FALSE(before.empty());
  RunOutput run = Run("release", kIdentity +
                                     "git commit -q --amend --allow-empty -m rewritten && "
                                     "git push --force origin HEAD; echo force=$?; "
                                     "git push -f origin HEAD; echo f=$?; "
                                     "git push --force-with-lease origin HEAD; echo lease=$?; "
                                     "git push origin +HEAD:main; echo plus=$?; "
                                     "git push origin :main; echo delete=$?; "
                                     "git push --mirror origin; echo mirror=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  for (const char* marker :
       {"force=126", "f=126", "lease=126", "plus=126", "delete=126", "mirror=126"}) {
    EXPECT_THAT(run.out, HasSubstr(marker)) << run.err;
  }
  EXPECT_THAT(run.err, HasSubstr("denied by rule git-push-force of profile release"));
  EXPECT_EQ(RevParse(remote_, "refs/heads/main"), before);
  EXPECT_NE(RevParse(ws_ + "/.git", "HEAD"), before);  // the rewrite happened, locally only
  for (const Json& call : ToolCalls()) {
    if (call["details"]["subcommand"] == "push") {
      EXPECT_EQ(call["verdict"], "deny");
    }
  }
}

TEST_F(ReleaseProfileTest, WorkspaceWriteRefusesTheSamePush) {
  RunOutput run = Run("workspace-write", kIdentity +
                                             "git commit -q --allow-empty -m release-commit && "
                                             "git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=126"));
  EXPECT_THAT(run.err, HasSubstr("denied by rule git-push of profile workspace-write"));
  EXPECT_EQ(RevParse(remote_, "refs/heads/main"), "");
}

// git reads $GIT_DIR/commondir to find the repository's configuration and hooks, and .git is
// writable in the sandbox. The broker pins GIT_DIR and GIT_COMMON_DIR of every host git call to
// the repository resolved at launch (and runs no hooks), so a commondir planted by the agent
// does not bring its hooks to the host (more such attacks: host_rule_attacks_test.cc).
TEST_F(ReleaseProfileTest, APlantedCommondirBringsNoHooksToTheHost) {
  const std::string marker = ws_ + "/hook-ran-on-the-host";
  RunOutput run = Run("release",
                      "cp -r .git evil-git && rm -rf evil-git/hooks && mkdir evil-git/hooks && "
                      "printf '#!/bin/sh\\ntouch " +
                          marker +
                          "\\n' > evil-git/hooks/pre-push && chmod +x evil-git/hooks/pre-push && "
                          "echo \"$PWD/evil-git\" > .git/commondir && git push origin HEAD; "
                          "echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the planted pre-push hook ran on the host";
  EXPECT_FALSE(RevParse(remote_, "refs/heads/main").empty());
}

}  // namespace
}  // namespace tollgate::e2e
