// `tollgate hook claude-code` and `tollgate hook install`, run as Claude Code runs them: the real
// binary, the hook's JSON on stdin, the decision on stdout, the record in the audit log — on the
// host, and inside a sandbox under the real supervisor, which records what the hook reports.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Host("mkdir -p " + scratch_ / "home" + " " + scratch_ / "ws/src"), 0);
  }

  std::string Input(const std::string& tool, const nlohmann::json& tool_input) const {
    return nlohmann::json{
        {"session_id", "e2e-session"},     {"transcript_path", scratch_ / "home/t.jsonl"},
        {"cwd", scratch_ / "ws"},          {"permission_mode", "default"},
        {"hook_event_name", "PreToolUse"}, {"tool_name", tool},
        {"tool_input", tool_input},        {"tool_use_id", "toolu_e2e"}}
        .dump();
  }

  // Runs the hook with `stdin_text` on its standard input.
  RunOutput Hook(const std::string& stdin_text, std::vector<std::string> extra_args = {},
                 const std::vector<std::string>& env = {}) {
    std::string file = scratch_ / ("input-" + std::to_string(++inputs_) + ".json");
    WriteFile(file, stdin_text);
    std::vector<std::string> args = {"hook",        "claude-code",  "--profile", "workspace-write",
                                     "--workspace", scratch_ / "ws"};
    // Every test writes its own log, unless it names one or asks for none (--no-audit-arg).
    auto has = [&](const char* arg) {
      return std::find(extra_args.begin(), extra_args.end(), arg) != extra_args.end();
    };
    if (has("--no-audit-arg")) {
      extra_args.clear();
    } else if (!has("--audit-log")) {
      args.push_back("--audit-log");
      args.push_back(scratch_ / "audit");
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return TollgateUnder({"/bin/sh", "-c", "exec \"$0\" \"$@\" < '" + file + "'"}, args,
                         scratch_ / "home", env);
  }

  static nlohmann::json Decision(const RunOutput& run) {
    return nlohmann::json::parse(run.out)["hookSpecificOutput"];
  }

  Scratch scratch_;
  int inputs_ = 0;
};

TEST_F(HookTest, DenyAllowAndAskAreAnsweredAndRecorded) {
  RunOutput push = Hook(Input("Bash", {{"command", "ls && git push origin main"}}));
  ASSERT_EQ(push.exit_code, 0) << push.err;
  nlohmann::json decision = Decision(push);
  EXPECT_EQ(decision["hookEventName"], "PreToolUse");
  EXPECT_EQ(decision["permissionDecision"], "deny");
  EXPECT_NE(decision["permissionDecisionReason"].get<std::string>().find("git-push"),
            std::string::npos);

  RunOutput status = Hook(Input("Bash", {{"command", "git status"}}));
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(Decision(status)["permissionDecision"], "allow");

  RunOutput substitution = Hook(Input("Bash", {{"command", "echo $(cat ~/.ssh/id_rsa)"}}));
  ASSERT_EQ(substitution.exit_code, 0) << substitution.err;
  EXPECT_EQ(Decision(substitution)["permissionDecision"], "ask");

  RunOutput secret = Hook(Input("Read", {{"file_path", scratch_ / "home/.ssh/id_rsa"}}));
  ASSERT_EQ(secret.exit_code, 0) << secret.err;
  EXPECT_EQ(Decision(secret)["permissionDecision"], "deny");

  std::vector<nlohmann::json> records = OfKind(ReadAuditLog(scratch_ / "audit"), "hook.decision");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0]["verdict"], "deny");
  EXPECT_EQ(records[0]["rule"], "git:git-push");
  EXPECT_EQ(records[0]["run"], "claude-code-e2e-session");
  EXPECT_EQ(records[0]["profile"], "workspace-write");
  EXPECT_EQ(records[0]["details"]["tool"], "Bash");
  EXPECT_EQ(records[0]["details"]["command"], "ls && git push origin main");
  EXPECT_EQ(records[0]["details"]["decision"], "deny");
  EXPECT_EQ(records[0]["details"]["parts"].size(), 2u);
  EXPECT_EQ(records[1]["verdict"], "allow");
  EXPECT_EQ(records[2]["verdict"], "info");
  EXPECT_EQ(records[2]["details"]["decision"], "ask");
  EXPECT_EQ(records[3]["details"]["access"], "read");
  // One chain: `tollgate audit verify` accepts what the hook wrote.
  RunOutput verify =
      Tollgate({"audit", "verify", "--audit-log", scratch_ / "audit"}, scratch_ / "home");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(HookTest, WhatCannotBeDecidedOrRecordedIsBlocked) {
  RunOutput garbage = Hook("this is not json");
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_TRUE(garbage.out.empty());
  EXPECT_NE(garbage.err.find("not JSON"), std::string::npos) << garbage.err;

  RunOutput bad_profile =
      Hook(Input("Bash", {{"command", "ls"}}), {"--profile", "no-such-profile"});
  EXPECT_EQ(bad_profile.exit_code, 2) << bad_profile.out;
  EXPECT_TRUE(bad_profile.out.empty());

  WriteFile(scratch_ / "not-a-dir", "x");
  RunOutput unwritable =
      Hook(Input("Bash", {{"command", "git status"}}), {"--audit-log", scratch_ / "not-a-dir"});
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.out;
  EXPECT_TRUE(unwritable.out.empty());
  EXPECT_NE(unwritable.err.find("audit log"), std::string::npos) << unwritable.err;
}

TEST_F(HookTest, OtherEventsAndUnknownToolsGetNoDecision) {
  RunOutput todo = Hook(Input("TodoWrite", {{"todos", nlohmann::json::array()}}));
  EXPECT_EQ(todo.exit_code, 0) << todo.err;
  EXPECT_TRUE(todo.out.empty()) << todo.out;
  nlohmann::json post = nlohmann::json::parse(Input("Bash", {{"command", "git push"}}));
  post["hook_event_name"] = "PostToolUse";
  RunOutput after = Hook(post.dump());
  EXPECT_EQ(after.exit_code, 0);
  EXPECT_TRUE(after.out.empty()) << after.out;
  EXPECT_TRUE(OfKind(ReadAuditLog(scratch_ / "audit"), "hook.decision").empty());
}

TEST_F(HookTest, InsideASandboxNoAllowIsGivenWithoutARecord) {
  const std::vector<std::string> sandbox_env = {"TOLLGATE_SANDBOX=1"};
  RunOutput status =
      Hook(Input("Bash", {{"command", "git status"}}), {"--no-audit-arg"}, sandbox_env);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(status.out.empty()) << status.out;  // Claude Code's own permissions decide
  RunOutput push =
      Hook(Input("Bash", {{"command", "git push origin main"}}), {"--no-audit-arg"}, sandbox_env);
  EXPECT_EQ(push.exit_code, 0) << push.err;
  EXPECT_EQ(Decision(push)["permissionDecision"], "deny");
  EXPECT_NE(Host("test -e '" + scratch_ / "home/.local/state/tollgate" + "'"), 0)
      << "nothing may be written to the default log from inside a sandbox";
}

// The hook run inside `tollgate run`, as Claude Code would run it there. The sandbox is given the
// build's bin/ (read and exec) and share/ (the shipped profiles the hook loads by name), on top
// of workspace-write (which mediates tools, so the broker socket exists) or of base (no tools:
// no socket).
class SandboxedHookTest : public HookTest {
 protected:
  struct Answer {
    int pid = 0;         // the hook's, as the sandbox numbers it
    int exit_code = -1;  // the hook's
    std::string out;     // what the hook printed on stdout
  };
  struct SandboxRun {
    RunOutput run;
    std::vector<Answer> answers;
  };

  // Runs the hook once per input, in one sandbox; each under its own pid (a shell that prints
  // its pid and execs the hook).
  SandboxRun Run(bool mediated, const std::vector<std::string>& inputs) {
    const std::string bin = escapes::BinDir();
    const std::string build = bin.substr(0, bin.rfind('/'));
    const std::string ws = scratch_ / "ws";
    nlohmann::json profile = {
        {"name", mediated ? "hook-e2e" : "hook-e2e-no-tools"},
        {"description", "the hook inside a sandbox: the build's binaries and profiles readable"},
        {"extends", {mediated ? "workspace-write" : "base"}},
        {"filesystem",
         {{"read", {bin, build + "/share"}},
          {"write", {"{workspace}"}},
          {"exec", {bin, "{workspace}"}}}}};
    LetThisBuildsTollgateRunInside(profile);
    WriteFile(scratch_ / "profile.json", profile.dump(2));
    std::string script;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::string input = ws + "/input-" + std::to_string(i) + ".json";
      WriteFile(input, inputs[i]);
      script += "sh -c 'echo \"BEGIN $$\"; exec " + bin +
                "/tollgate hook claude-code --profile workspace-write --workspace " + ws + " < " +
                input + "'; echo \"END $?\"\n";
    }
    WriteFile(ws + "/hooks.sh", script);
    scratch_.Handover();
    SandboxRun out;
    out.run = Tollgate({"run", "--profile", scratch_ / "profile.json", "--workspace", ws,
                        "--audit-log", scratch_ / "audit", "--", "/bin/sh", ws + "/hooks.sh"},
                       scratch_ / "home", {}, ws);
    std::istringstream lines(out.run.out);
    Answer* current = nullptr;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("BEGIN ", 0) == 0) {
        current = &out.answers.emplace_back();
        current->pid = std::stoi(line.substr(6));
      } else if (line.rfind("END ", 0) == 0 && current != nullptr) {
        current->exit_code = std::stoi(line.substr(4));
        current = nullptr;
      } else if (current != nullptr) {
        current->out += line;
      }
    }
    return out;
  }

  static std::string Given(const Answer& answer) {
    if (answer.out.empty()) return "nothing";
    return nlohmann::json::parse(answer.out)["hookSpecificOutput"]["permissionDecision"];
  }
};

TEST_F(SandboxedHookTest, TheSupervisorRecordsWhatTheHookReportsAndOnlyThenItAllows) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  SandboxRun sandboxed = Run(true, {Input("Bash", {{"command", "git status"}}),
                                    Input("Bash", {{"command", "ls && git push origin main"}})});
  ASSERT_EQ(sandboxed.run.exit_code, 0) << sandboxed.run.out << sandboxed.run.err;
  ASSERT_EQ(sandboxed.answers.size(), 2u) << sandboxed.run.out << sandboxed.run.err;
  const Answer& status = sandboxed.answers[0];
  const Answer& push = sandboxed.answers[1];
  EXPECT_EQ(status.exit_code, 0) << sandboxed.run.err;
  EXPECT_EQ(Given(status), "allow") << sandboxed.run.out << sandboxed.run.err;
  EXPECT_EQ(push.exit_code, 0) << sandboxed.run.err;
  EXPECT_EQ(Given(push), "deny") << sandboxed.run.out;

  std::vector<nlohmann::json> records = ReadAuditLog(scratch_ / "audit");
  std::vector<nlohmann::json> starts = OfKind(records, "run.start");
  std::vector<nlohmann::json> hooks = OfKind(records, "hook.decision");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(hooks.size(), 2u) << nlohmann::json(records).dump(1);
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    const nlohmann::json& record = hooks[i];
    EXPECT_EQ(record["run"], starts[0]["run"]) << "the run's log, not a session of its own";
    EXPECT_EQ(record["profile"], "hook-e2e");
    EXPECT_EQ(record["details"]["reported_by"], "sandbox");
    EXPECT_EQ(record["details"]["agent"], "claude-code");
    EXPECT_EQ(record["details"]["tool"], "Bash");
    EXPECT_EQ(record["details"]["session"], "e2e-session");
    EXPECT_EQ(record["details"]["tool_use_id"], "toolu_e2e");
    EXPECT_EQ(record["details"]["cwd"], scratch_ / "ws");
    // The caller as the kernel named it (SO_PEERCRED): the hook's own process, numbered as the
    // sandbox numbers it, and its host pid beside.
    EXPECT_EQ(record["process"]["pid"], sandboxed.answers[i].pid);
    EXPECT_EQ(record["process"]["comm"], "tollgate");
    EXPECT_GT(record["details"]["host_pid"].get<int>(), 0);
    EXPECT_NE(record["details"]["host_pid"].get<int>(), sandboxed.answers[i].pid);
  }
  EXPECT_EQ(hooks[0]["verdict"], "allow");
  EXPECT_EQ(hooks[0]["details"]["decision"], "allow");
  EXPECT_EQ(hooks[0]["details"]["command"], "git status");
  EXPECT_EQ(hooks[1]["verdict"], "deny");
  EXPECT_EQ(hooks[1]["rule"], "git:git-push");
  EXPECT_EQ(hooks[1]["details"]["command"], "ls && git push origin main");
  EXPECT_EQ(hooks[1]["details"]["parts"].size(), 2u);
  // The records are in the run's one chain.
  RunOutput verify =
      Tollgate({"audit", "verify", "--audit-log", scratch_ / "audit"}, scratch_ / "home");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(SandboxedHookTest, WithoutTheBrokerSocketNoAllowIsGiven) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  // A profile without mediated tools has no broker socket in its sandbox.
  SandboxRun sandboxed = Run(false, {Input("Bash", {{"command", "git status"}}),
                                     Input("Bash", {{"command", "git push origin main"}})});
  ASSERT_EQ(sandboxed.run.exit_code, 0) << sandboxed.run.out << sandboxed.run.err;
  ASSERT_EQ(sandboxed.answers.size(), 2u) << sandboxed.run.out << sandboxed.run.err;
  EXPECT_EQ(sandboxed.answers[0].exit_code, 0);
  EXPECT_EQ(Given(sandboxed.answers[0]), "nothing") << "Claude Code's own permissions decide";
  EXPECT_NE(sandboxed.run.err.find("could not be recorded"), std::string::npos)
      << sandboxed.run.err;
  EXPECT_EQ(sandboxed.answers[1].exit_code, 0);
  EXPECT_EQ(Given(sandboxed.answers[1]), "deny");
  EXPECT_TRUE(OfKind(ReadAuditLog(scratch_ / "audit"), "hook.decision").empty());
}

TEST_F(HookTest, InstallCreatesMergesIsIdempotentAndRefusesMalformed) {
  const std::string settings = scratch_ / "ws/.claude/settings.json";
  RunOutput created =
      Tollgate({"hook", "install", "--workspace", scratch_ / "ws"}, scratch_ / "home");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  nlohmann::json written = nlohmann::json::parse(ReadFile(settings));
  ASSERT_EQ(written["hooks"]["PreToolUse"].size(), 1u);
  EXPECT_EQ(written["hooks"]["PreToolUse"][0]["matcher"],
            "Bash|Read|Write|Edit|MultiEdit|NotebookEdit|WebFetch|WebSearch|mcp__.*");
  const std::string command = written["hooks"]["PreToolUse"][0]["hooks"][0]["command"];
  EXPECT_NE(command.find("hook claude-code --profile workspace-write"), std::string::npos);

  const std::string before = ReadFile(settings);
  RunOutput again =
      Tollgate({"hook", "install", "--workspace", scratch_ / "ws"}, scratch_ / "home");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadFile(settings), before);

  const std::string other = scratch_ / "other.json";
  WriteFile(other, R"({"model": "opus", "hooks": {"Stop": [{"hooks": []}]}})");
  RunOutput merged = Tollgate(
      {"hook", "install", "--workspace", scratch_ / "ws", "--settings", other}, scratch_ / "home");
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  nlohmann::json kept = nlohmann::json::parse(ReadFile(other));
  EXPECT_EQ(kept["model"], "opus");
  EXPECT_TRUE(kept["hooks"].contains("Stop"));
  EXPECT_EQ(kept["hooks"]["PreToolUse"].size(), 1u);

  const std::string broken = scratch_ / "broken.json";
  WriteFile(broken, "{\"hooks\": {");
  RunOutput refused = Tollgate(
      {"hook", "install", "--workspace", scratch_ / "ws", "--settings", broken}, scratch_ / "home");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("not valid JSON"), std::string::npos) << refused.err;
  EXPECT_EQ(ReadFile(broken), "{\"hooks\": {");
}

}  // namespace
}  // namespace tollgate::e2e
