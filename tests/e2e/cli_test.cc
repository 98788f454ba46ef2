// The command line, end to end: check, explain, run's exit statuses, and the workspace forms
// (a symlink, a git worktree) that must work.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "supervisor/placeholder_ledger.h"
#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;

TEST(Cli, VersionAndHelp) {
  RunOutput version = Tollgate({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("tollgate 0."));
  for (const char* sub : {"run", "check", "explain"}) {
    RunOutput help = Tollgate({sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub;
    EXPECT_THAT(help.out, HasSubstr("Usage")) << sub;
  }
}

TEST(Cli, CheckAcceptsTheShippedProfiles) {
  RunOutput run =
      Tollgate({"check", "base", "read-only", "workspace-write", "test-runner", "dependency"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* name :
       {"ok: base", "ok: read-only", "ok: workspace-write", "ok: test-runner", "ok: dependency"}) {
    EXPECT_THAT(run.out, HasSubstr(name));
  }
}

TEST(Cli, CheckReportsEveryErrorWithItsPlace) {
  Scratch scratch;
  escapes::WriteFile(scratch / "bad.json",
                     "{\n"
                     "  \"name\": \"bad\",\n"
                     "  \"description\": \"three mistakes\",\n"
                     "  \"filesystem\": { \"write\": [\"build\"] },\n"
                     "  \"syscalls\": { \"deny\": [\"ptrce\"] },\n"
                     "  \"limits\": { \"memroy\": \"1G\" }\n"
                     "}\n");
  RunOutput run = Tollgate({"check", scratch / "bad.json"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("3 errors"));
  EXPECT_THAT(run.err, HasSubstr("bad.json:4:"));
  EXPECT_THAT(run.err, HasSubstr("/filesystem/write/0"));
  EXPECT_THAT(run.err, HasSubstr("bad.json:5:"));
  EXPECT_THAT(run.err, HasSubstr("ptrce"));
  EXPECT_THAT(run.err, HasSubstr("bad.json:6:"));
  EXPECT_THAT(run.err, HasSubstr("memroy"));
}

TEST(Cli, RunRefusesAnInvalidOrMissingProfileBeforeRunningAnything) {
  Scratch scratch;
  escapes::WriteFile(scratch / "bad.json",
                     "{\"name\": \"bad\", \"description\": \"x\", \"oops\": 1}");
  RunOutput bad = Tollgate({"run", "--profile", scratch / "bad.json", "--workspace", scratch.path(),
                            "--", "/bin/sh", "-c", "touch " + scratch / "ran"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_THAT(bad.err, HasSubstr("oops"));
  EXPECT_NE(escapes::ReadFile(scratch / "bad.json"), "");
  EXPECT_EQ(access((scratch / "ran").c_str(), F_OK), -1);

  RunOutput missing = Tollgate({"run", "--profile", "no-such-profile", "--", "/bin/true"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_THAT(missing.err, HasSubstr("no-such-profile"));

  RunOutput no_workspace = Tollgate({"run", "--workspace", scratch / "absent", "--", "/bin/true"});
  EXPECT_EQ(no_workspace.exit_code, 125);
  EXPECT_THAT(no_workspace.err, HasSubstr("absent"));

  RunOutput no_command = Tollgate({"run", "--workspace", scratch.path()});
  EXPECT_EQ(no_command.exit_code, 125);
}

TEST(Cli, RunPassesTheCommandsStatusThrough) {
  Scratch scratch;
  scratch.Handover();
  RunOutput exited =
      Tollgate({"run", "--workspace", scratch.path(), "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(exited.exit_code, 7) << exited.err;
  RunOutput signaled =
      Tollgate({"run", "--workspace", scratch.path(), "--", "/bin/sh", "-c", "kill -USR1 $$"});
  EXPECT_EQ(signaled.exit_code, 128 + 10);
  RunOutput not_found =
      Tollgate({"run", "--workspace", scratch.path(), "--", "no-such-command-xyz"});
  EXPECT_EQ(not_found.exit_code, 127);
}

// `tollgate run` clones the sandbox before it reads the profile, and its helper starts on a
// private network namespace at once; a profile with network host must still get the host's.
TEST(Cli, NetworkHostAndNoneAreBothHonouredByAnEarlyClone) {
  Scratch scratch;
  scratch.Handover();
  escapes::WriteFile(
      scratch / "host.json",
      "{\"name\": \"host-net\", \"description\": \"x\", \"extends\": [\"test-runner\"],"
      " \"network\": {\"mode\": \"host\"}}");
  const std::string show_netns = "readlink /proc/self/ns/net";
  char host_netns[64] = {};
  ASSERT_GT(readlink("/proc/self/ns/net", host_netns, sizeof host_netns - 1), 0);
  RunOutput host = Tollgate({"run", "--profile", scratch / "host.json", "--workspace",
                             scratch.path(), "--", "/bin/sh", "-c", show_netns});
  EXPECT_EQ(host.exit_code, 0) << host.err;
  EXPECT_THAT(host.out, HasSubstr(host_netns));
  RunOutput none = Tollgate({"run", "--profile", "test-runner", "--workspace", scratch.path(), "--",
                             "/bin/sh", "-c", show_netns});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_THAT(none.out, HasSubstr("net:["));
  EXPECT_THAT(none.out, ::testing::Not(HasSubstr(host_netns)));
}

TEST(Cli, ExplainShowsWhatIsWritableProtectedAndHidden) {
  Scratch scratch;
  RunOutput text = Tollgate({"explain", "workspace-write", "--workspace", scratch.path()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr(scratch.path() + "/.git/hooks"));
  EXPECT_THAT(text.out, HasSubstr("read-only, even if it does not exist yet"));
  EXPECT_THAT(text.out, HasSubstr("ptrace"));
  EXPECT_THAT(text.out, HasSubstr("Network — none"));

  RunOutput json =
      Tollgate({"explain", "workspace-write", "--workspace", scratch.path(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json plan = nlohmann::json::parse(json.out);
  bool workspace_writable = false;
  for (const auto& op : plan["mounts"]) {
    if (op["op"] == "bind" && op["target"] == scratch.path()) workspace_writable = op["writable"];
  }
  EXPECT_TRUE(workspace_writable);
  EXPECT_EQ(plan["network"]["mode"], "none");
}

TEST(Cli, ASymlinkedWorkspaceWorksUnderBothNames) {
  Scratch scratch;
  Host("mkdir -p " + scratch / "real" + " && ln -s real " + scratch / "link");
  scratch.Handover();
  RunOutput run = Tollgate({"run", "--workspace", scratch / "link", "--", "/bin/sh", "-c",
                            "pwd && echo hi > via-link && cat " + scratch / "link/via-link"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(scratch / "real"));
  EXPECT_THAT(run.out, HasSubstr("hi"));
  EXPECT_EQ(escapes::ReadFile(scratch / "real/via-link"), "hi\n");
}

TEST(Cli, AGitWorktreeWorkspaceCanRunGit) {
  Scratch scratch;
  std::string repo = scratch / "repo", tree = scratch / "tree";
  ASSERT_EQ(Host("git init -q " + repo + " && cd " + repo +
                 " && echo one > f && git add f && git -c user.name=t -c user.email=t@t commit -qm "
                 "first-commit && git worktree add -q " +
                 tree + " 2>/dev/null"),
            0);
  scratch.Handover();
  RunOutput run =
      Tollgate({"run", "--workspace", tree, "--", "/bin/sh", "-c",
                "git log --oneline && echo two >> f && git diff --stat && git status --short"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("first-commit"));
  EXPECT_THAT(run.out, HasSubstr("1 file changed"));
  EXPECT_THAT(run.out, HasSubstr(" M f"));
}

TEST(Cli, AConcurrentRunKeepsItsProtectionWhenTheFirstRunEnds) {
  Scratch scratch;
  ASSERT_EQ(Host("git init -q " + scratch.path()), 0);
  scratch.Handover();
  // Run A creates the .claude placeholder and ends while run B, which started after A and found
  // the placeholder in place, still runs. B must stay unable to create .claude/settings.json.
  std::thread first([&] {
    Tollgate({"run", "--workspace", scratch.path(), "--", "/bin/sleep", "1"});
  });
  ::usleep(400 * 1000);
  RunOutput second = Tollgate({"run", "--workspace", scratch.path(), "--", "/bin/sh", "-c",
                               "sleep 2; mkdir -p .claude && echo '{}' > .claude/settings.json "
                               "&& echo WROTE"});
  first.join();
  EXPECT_THAT(second.out, ::testing::Not(HasSubstr("WROTE")));
  EXPECT_NE(access((scratch / ".claude/settings.json").c_str(), F_OK), 0);
  // Both runs are over: the last one out removed the placeholder.
  EXPECT_NE(access((scratch / ".claude").c_str(), F_OK), 0);
}

TEST(Cli, KillZeroInsideCannotReachTheSupervisorsProcessGroup) {
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "no setpriv";
  Scratch scratch;
  scratch.Handover();
  // A process of the sandbox's own uid in tollgate's process group, outside the sandbox; Landlock
  // off stands for a kernel without its signal scope (ABI < 6).
  std::string as_sandbox_user =
      geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  std::string tollgate = escapes::BinDir() + "/tollgate";
  std::string script =
      as_sandbox_user + "sleep 30 & sp=$!; " + tollgate + " run --landlock off --workspace " +
      scratch.path() +
      " -- /bin/sh -c 'kill -TERM 0'; sleep 0.2; "
      "if kill -0 $sp 2>/dev/null; then echo ALIVE; kill $sp; else echo KILLED; fi";
  escapes::ProcessSpec spec;
  spec.argv = {"/usr/bin/setsid", "/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "HOME=" + scratch.path()};
  spec.stdout_path = scratch / "out";
  spec.stderr_path = scratch / "err";
  escapes::ProcessResult result = escapes::RunProcess(spec);
  EXPECT_THAT(result.out, HasSubstr("ALIVE")) << result.err;
}

// SECURITY.md class 19, for the state the supervisor keeps today (the placeholder ledger): it
// exists on the host and is absent from the sandbox's view.
TEST(Cli, TheSupervisorsStateIsOutsideTheView) {
  Scratch scratch;
  ASSERT_EQ(Host("git init -q " + scratch.path()), 0);
  scratch.Handover();
  RunOutput first = Tollgate({"run", "--workspace", scratch.path(), "--", "/bin/true"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::string state = PlaceholderLedger::StateDirectory() + "/workspaces";
  ASSERT_EQ(access(state.c_str(), F_OK), 0) << state;
  RunOutput inside = Tollgate({"run", "--workspace", scratch.path(), "--", "/bin/ls", "-a", state});
  EXPECT_NE(inside.exit_code, 0);
  EXPECT_THAT(inside.err, HasSubstr("No such file or directory"));
}

// tollgate classify: the class, the rule and why, the profile, and a task key that is the same
// for the same task and differs when the base revision or the scope does.
TEST(Cli, ClassifyRoutesATaskAndKeysItStably) {
  using Json = nlohmann::json;
  Scratch scratch;
  RunOutput text = Tollgate({"classify", "Fix typo in README"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("class       tiny-fix"));
  EXPECT_THAT(text.out, HasSubstr("rule        small-change-words (matched \"typo\")"));
  EXPECT_THAT(text.out, HasSubstr("profile     tiny-fix"));

  auto key_of = [](const std::string& out) {
    Json parsed = Json::parse(out, nullptr, false);
    return parsed.is_object() ? parsed.value("key", "") : std::string();
  };
  escapes::WriteFile(scratch / "task.json",
                     R"({"title": "Bump lodash", "scope": ["package.json", "./package.json"],
                         "base": "4b7e073"})");
  RunOutput first = Tollgate({"classify", "--task-file", scratch / "task.json", "--json"});
  RunOutput again = Tollgate({"classify", "--task-file", scratch / "task.json", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  Json parsed = Json::parse(first.out);
  EXPECT_EQ(parsed["class"], "dependency");
  EXPECT_EQ(parsed["profile"], "dependency");
  EXPECT_EQ(parsed["scope"], Json::array({"package.json"}));
  EXPECT_EQ(key_of(first.out).size(), 64u);
  EXPECT_EQ(key_of(first.out), key_of(again.out));
  escapes::WriteFile(scratch / "task2.json",
                     R"({"title": "Bump lodash", "scope": ["package.json"], "base": "dd19915"})");
  RunOutput other_base = Tollgate({"classify", "--task-file", scratch / "task2.json", "--json"});
  EXPECT_NE(key_of(other_base.out), key_of(first.out));

  // An explicit kind wins; an unknown one, a bad task file, or no task at all are refused.
  RunOutput kind = Tollgate({"classify", "--task-file", scratch / "kind.json"});
  EXPECT_EQ(kind.exit_code, 1);
  escapes::WriteFile(scratch / "kind.json", R"({"title": "Bump lodash", "kind": "review"})");
  kind = Tollgate({"classify", "--task-file", scratch / "kind.json"});
  EXPECT_THAT(kind.out, HasSubstr("class       review"));
  escapes::WriteFile(scratch / "bad.json", R"({"title": "x", "kind": "yolo"})");
  RunOutput bad = Tollgate({"classify", "--task-file", scratch / "bad.json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("unknown task kind \"yolo\""));
  escapes::WriteFile(scratch / "extra.json", R"({"title": "x", "priority": 1})");
  bad = Tollgate({"classify", "--task-file", scratch / "extra.json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("unknown key \"priority\""));
  EXPECT_EQ(Tollgate({"classify"}).exit_code, 2);
}

}  // namespace
}  // namespace tollgate::e2e
