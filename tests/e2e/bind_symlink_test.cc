// Bind sources inside the workspace, end to end through the real `tollgate run`: the agent wrote
// the workspace in an earlier run, so a directory on the way to a bind source (node_modules,
// src) may be a symlink it planted to a host directory. No symlink below the workspace is
// followed: an optional bind is skipped and reported, a required one (a task's scope) stops the
// launch with a message that names the link (docs/SECURITY-TESTS.md, class 39).
//
// Each attack first shows that the planted path reaches the host directory when written outside
// the sandbox, so a pass means "blocked", not "never pointed anywhere".
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr const char* kSecret = "outside-secret-7f3c";

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> SkippedMounts(const std::string& result_json) {
  Json result = Json::parse(escapes::ReadFile(result_json), nullptr, false);
  std::vector<std::string> out;
  if (!result.is_object()) return out;
  for (const auto& entry : result.value("skipped_mounts", Json::array()))
    out.push_back(entry.get<std::string>());
  return out;
}

// A workspace and, beside it, a host directory outside it holding a secret: the target an
// earlier run's agent pointed a symlink in the workspace at.
class BindSymlink : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = scratch_ / "ws";
    outside_ = scratch_ / "outside";
    audit_ = scratch_ / "audit";
    result_ = scratch_ / "result.json";
    ASSERT_EQ(Host("mkdir -p '" + ws_ + "/src' '" + outside_ + "/.cache' '" + outside_ + "/net'"),
              0);
    ASSERT_TRUE(escapes::WriteFile(outside_ + "/.cache/secret", std::string(kSecret) + "\n"));
    ASSERT_TRUE(escapes::WriteFile(outside_ + "/net/conn.c", "int conn;\n"));
  }

  // Plants `link` (workspace-relative) -> the outside directory, as an agent could have.
  void Plant(const std::string& link) {
    ASSERT_EQ(::symlink(outside_.c_str(), (ws_ + "/" + link).c_str()), 0);
  }

  // The attack is real: written on the host, the path inside the workspace lands outside it.
  void ShowTheLinkReachesOutside(const std::string& path_in_workspace) {
    ASSERT_EQ(Host("echo host > '" + ws_ + "/" + path_in_workspace + "/host-probe'"), 0);
    ASSERT_TRUE(Exists(outside_ + "/" + path_in_workspace.substr(path_in_workspace.find('/') + 1) +
                       "/host-probe"))
        << "the planted link does not reach the outside directory even unsandboxed";
    ASSERT_EQ(Host("rm -f '" + ws_ + "/" + path_in_workspace + "/host-probe'"), 0);
  }

  RunOutput Run(const std::string& profile, const std::string& script) {
    return Tollgate({"run", "--profile", profile, "--workspace", ws_, "--audit-log", audit_,
                     "--result-json", result_, "--", "sh", "-c", script},
                    "", {}, ws_);
  }

  Scratch scratch_;
  std::string ws_, outside_, audit_, result_;
};

// Test-runner makes {workspace}/node_modules/.cache writable. An agent (an earlier run under a
// writable profile) replaced node_modules with a link to a host directory. Before the fix the
// source was opened through the link (/outside/.cache) and only the destination check in the new
// root — the workspace bound above it shows the link — refused the launch: a run that could not
// start, and a race away from binding the host directory writable. Now the bind is skipped and
// reported, and the tests run.
TEST_F(BindSymlink, TestRunnerSkipsACacheBehindAPlantedLinkAndRuns) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Plant("node_modules");
  ShowTheLinkReachesOutside("node_modules/.cache");
  scratch_.Handover();
  RunOutput run = Run("test-runner",
                      "cat node_modules/.cache/secret 2>/dev/null;"
                      " (echo pwn > node_modules/.cache/pwn) 2>/dev/null && echo wrote;"
                      " echo tests-ran");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("tests-ran"));
  EXPECT_THAT(run.out, Not(HasSubstr(kSecret)));
  EXPECT_FALSE(Exists(outside_ + "/.cache/pwn")) << "the sandbox wrote into the host directory";
  EXPECT_THAT(SkippedMounts(result_),
              Contains(ws_ + "/node_modules/.cache (from " + ws_ + "/node_modules/.cache)"));
}

// The same plant under a profile that binds paths inside the workspace without the workspace
// around them: nothing in the new root shows the link, so before the fix the bind went through
// it and the sandbox read and wrote the host directory (the run printed the secret and left pwn
// in it). Now the bind is skipped: nothing of the host directory is visible.
TEST_F(BindSymlink, APathBindWithoutTheWorkspaceDoesNotReachThroughAPlantedLink) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  const std::string profile = scratch_ / "narrow.json";
  ASSERT_TRUE(escapes::WriteFile(profile, R"({"name": "narrow",
    "description": "the sources readable, the node cache writable, nothing else of the workspace",
    "extends": ["base"],
    "filesystem": {"read": ["{workspace}/src"], "write": ["{workspace}/node_modules/.cache"]}})"));
  Plant("node_modules");
  ShowTheLinkReachesOutside("node_modules/.cache");
  scratch_.Handover();
  RunOutput run =
      Run(profile, "cat " + ws_ +
                       "/node_modules/.cache/secret 2>/dev/null;"
                       " (echo pwn > " +
                       ws_ + "/node_modules/.cache/pwn) 2>/dev/null && echo wrote;" + " echo ran");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("ran"));
  EXPECT_THAT(run.out, Not(HasSubstr(kSecret))) << "the sandbox read the host directory";
  EXPECT_THAT(run.out, Not(HasSubstr("wrote")));
  EXPECT_FALSE(Exists(outside_ + "/.cache/pwn")) << "the sandbox wrote into the host directory";
  EXPECT_THAT(SkippedMounts(result_),
              Contains(ws_ + "/node_modules/.cache (from " + ws_ + "/node_modules/.cache)"));
}

// A task's scope names src/net; the agent made src a link to a host directory. The scope's bind
// is required: the launch stops (125) before anything runs, with a message that names the link.
TEST_F(BindSymlink, AScopeBehindAPlantedLinkStopsTheLaunchByName) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ASSERT_EQ(Host("rmdir '" + ws_ + "/src' && cd '" + ws_ +
                 "' && git init -q && git config user.email dev@example.com && git config"
                 " user.name Dev && echo hello > README.md && git add . && git commit -qm init"),
            0);
  Plant("src");
  ShowTheLinkReachesOutside("src/net");
  ASSERT_TRUE(
      escapes::WriteFile(scratch_ / "task.json",
                         R"({"title": "Fix the off-by-one in src/net", "scope": ["src/net"]})"));
  scratch_.Handover();
  RunOutput run =
      Tollgate({"run", "--audit-log", audit_, "--workspace", ws_, "--task-file",
                scratch_ / "task.json", "--", "sh", "-c", "echo ran; echo pwn > src/net/pwn"},
               "", {}, ws_);
  EXPECT_EQ(run.exit_code, 125) << run.err;
  EXPECT_THAT(run.err, HasSubstr(ws_ + "/src is a symbolic link inside the workspace"));
  EXPECT_THAT(run.err, HasSubstr("replace the link with a directory, or name the real path"));
  EXPECT_THAT(run.out, Not(HasSubstr("ran")));
  EXPECT_FALSE(Exists(outside_ + "/net/pwn"));
  EXPECT_EQ(escapes::ReadFile(outside_ + "/net/conn.c"), "int conn;\n");
}

// Without links, both still work: the scope is writable and lands in the workspace, and
// test-runner's cache is bound writable and not reported skipped.
TEST_F(BindSymlink, AScopeAndACacheWithoutLinksWorkAsBefore) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ASSERT_EQ(Host("mkdir -p '" + ws_ + "/src/net' '" + ws_ + "/node_modules/.cache' && cd '" + ws_ +
                 "' && git init -q && git config user.email dev@example.com && git config"
                 " user.name Dev && echo hello > README.md && echo 'int x;' > src/net/conn.c &&"
                 " git add . && git commit -qm init"),
            0);
  ASSERT_TRUE(
      escapes::WriteFile(scratch_ / "task.json",
                         R"({"title": "Fix the off-by-one in src/net", "scope": ["src/net"]})"));
  scratch_.Handover();
  RunOutput scoped = Tollgate(
      {"run", "--audit-log", audit_, "--workspace", ws_, "--task-file", scratch_ / "task.json",
       "--", "sh", "-c", "echo 'int y;' >> src/net/conn.c && echo scoped-ok"},
      "", {}, ws_);
  EXPECT_THAT(scoped.out, HasSubstr("scoped-ok")) << scoped.err;
  EXPECT_EQ(escapes::ReadFile(ws_ + "/src/net/conn.c"), "int x;\nint y;\n");

  RunOutput tests = Run("test-runner", "echo cached > node_modules/.cache/entry && echo cache-ok");
  ASSERT_EQ(tests.exit_code, 0) << tests.err;
  EXPECT_THAT(tests.out, HasSubstr("cache-ok"));
  EXPECT_EQ(escapes::ReadFile(ws_ + "/node_modules/.cache/entry"), "cached\n");
  for (const std::string& skipped : SkippedMounts(result_))
    EXPECT_THAT(skipped, Not(HasSubstr("node_modules"))) << skipped;
}

}  // namespace
}  // namespace tollgate::e2e
