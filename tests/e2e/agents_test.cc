// The real agent CLIs under tollgate, end to end and without the internet: Claude Code
// (@anthropic-ai/claude-code) under a profile extending `claude-code`, and Codex (@openai/codex)
// under one extending `codex`, both installed by tests/npm_setup.sh from tests/agents (the
// agents.setup fixture) into the build's share/tollgate-agents-test.
//
// Each CLI talks to a scripted model server on the host's loopback (tests/agents/model_server.py:
// Anthropic's Messages API, OpenAI's Responses API), reached only through the sandbox's proxy. The
// "model" answers with tool calls an agent makes: a command that shows where it runs, `git
// status`, `git push`, reading a planted SSH key, `curl` and a Python fetch to a host no rule
// allows. The test asserts, from both ends, that the real CLI executed each one inside the
// sandbox and what came of it:
//   - the tool results the CLI sent back to the server (what the command printed in there);
//   - the audit log: the CLI's API traffic and the refused fetch as net.connect, git status
//     and git push and curl as tool.call with their rules, the key's read as a denied
//     file.access, the commands' execs, one run from run.start to run.end.
// The attacks are shown to work without the sandbox: the same push reaches the remote, the same
// key is read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kKeyText[] = "-----BEGIN TOLLGATE TEST KEY----- planted by agents_test";

// Where npm_setup.sh installed the agents, or empty with the reason.
std::string AgentsInstall(std::string* why) {
  const std::string wanted = escapes::BinDir() + "/../share/tollgate-agents-test";
  char* real = ::realpath(wanted.c_str(), nullptr);
  if (real == nullptr) {
    *why = "the agents' test install is missing (" + wanted +
           "): run tests/npm_setup.sh tests/agents BUILD/share/tollgate-agents-test (ctest runs "
           "it as the agents.setup fixture)";
    return "";
  }
  std::string dir = real;
  ::free(real);
  if (::access((dir + "/.installed").c_str(), R_OK) != 0) {
    *why = dir + "/.installed is missing: run tests/npm_setup.sh tests/agents " + dir;
    return "";
  }
  return dir;
}

// The scripted model server (bin/model_server.py) for one test, on the host's 127.0.0.1.
class ModelServer {
 public:
  ModelServer(const std::string& dir, const std::vector<std::string>& commands) {
    script_ = dir + "/script.json";
    log_ = dir + "/requests.jsonl";
    const std::string port_file = dir + "/port";
    escapes::WriteFile(script_, Json{{"commands", commands}, {"final", "all steps done"}}.dump());
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string server = escapes::BinDir() + "/model_server.py";
      ::execl("/usr/bin/python3", "python3", server.c_str(), "--script", script_.c_str(), "--log",
              log_.c_str(), "--port-file", port_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::string text = escapes::ReadFile(port_file);
      if (!text.empty())
        port_ = std::atoi(text.c_str());
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ModelServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  int port() const { return port_; }

  // Every request the server answered, in order.
  std::vector<Json> Requests() const {
    std::vector<Json> out;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      Json entry = Json::parse(line, nullptr, false);
      if (!entry.is_discarded()) out.push_back(entry);
    }
    return out;
  }

  // The tool results of the agent's last main-loop request: what each step printed.
  std::vector<std::string> ToolResults(const std::string& api) const {
    std::vector<std::string> out;
    for (const Json& request : Requests()) {
      if (request.value("api", "") != api || !request.contains("tool_results")) continue;
      if (request["tool_results"].size() < out.size()) continue;
      out.clear();
      for (const Json& result : request["tool_results"]) out.push_back(result.value("content", ""));
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string script_;
  std::string log_;
};

class AgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TOLLGATE_SKIP_WITHOUT_NAMESPACES();
    if (::access("/usr/bin/python3", X_OK) != 0)
      GTEST_SKIP() << "python3 is not installed: the scripted model server is a Python program";
    std::string why;
    install_ = AgentsInstall(&why);
    if (install_.empty()) GTEST_SKIP() << why;

    // A workspace with one commit and a remote that accepts pushes (a bare repository beside
    // it), so that `git push` is an attack that works outside the sandbox.
    ASSERT_EQ(Host("cd " + ws_.path() +
                   " && git init -q -b main . && git -c user.email=t@t -c user.name=t commit -q "
                   "--allow-empty -m base && git init -q --bare " +
                   remote() + " && git remote add origin " + remote() +
                   " && echo 'int main() { return 0; }' > main.c"),
              0);
    // The key an agent must not read: in the home the test gives tollgate (as an ordinary user
    // the sandbox's {home}, hidden behind its private home; as root outside the view). Not
    // under /tmp, where the sandbox's own /tmp would stand in for it.
    char home[] = "/var/tmp/tollgate-agents-home.XXXXXX";
    ASSERT_NE(::mkdtemp(home), nullptr);
    home_ = home;
    ASSERT_EQ(::chmod(home_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((home_ + "/.ssh").c_str(), 0700), 0);
    ASSERT_TRUE(escapes::WriteFile(key(), std::string(kKeyText) + "\n", 0600));
    // The agents' configuration directories, as on a machine where they were used before (as
    // root the sandbox user's home is elsewhere: there they start without one).
    ASSERT_EQ(::mkdir((home_ + "/.claude").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((home_ + "/.codex").c_str(), 0755), 0);
    ws_.Handover();
    side_.Handover();
    if (::getuid() == 0) {
      ASSERT_EQ(Host("chown -R nobody " + home_), 0);
    }
  }
  void TearDown() override {
    if (!home_.empty()) escapes::RemoveTree(home_);
  }

  std::string remote() const { return side_ / "remote.git"; }
  std::string key() const { return home_ + "/.ssh/id_rsa"; }

  // A profile extending the shipped one: the install readable and executable, and the model
  // server's port on the host's loopback allowed through the proxy (by the name the CLI uses,
  // and by the address, which the proxy requires for a name that resolves to loopback).
  std::string WriteProfile(const std::string& shipped, int port) const {
    const std::string path = side_ / (shipped + "-e2e.json");
    escapes::WriteFile(path, Profile(shipped, port).dump(2));
    return path;
  }
  Json Profile(const std::string& shipped, int port) const {
    const std::string at = ":" + std::to_string(port);
    return {{"name", shipped + "-e2e"},
            {"description", "the real-agent e2e test: " + shipped +
                                ", the agent's install, the "
                                "scripted model server on the host's loopback"},
            {"extends", {shipped}},
            {"filesystem", {{"read", {install_}}, {"exec", {install_}}}},
            {"network", {{"allow", {"localhost" + at, "127.0.0.1" + at}}}}};
  }

  // The steps every agent is given; `read:` is Claude Code's own Read tool (cat for Codex).
  std::vector<std::string> Steps() const {
    return {"cat /proc/1/comm; id -u",
            "git status",
            "git push origin HEAD",
            "cat " + key(),
            "curl -sS https://example.org/",
            "python3 -c \"import urllib.request as u; u.urlopen('http://example.org/')\"",
            "read:" + key()};
  }

  // Runs `tollgate run` with the agent's argv; the CLI's own NO_PROXY keeps "localhost" off the
  // proxy, so a shell drops it first (the real API's host needs no such step).
  RunOutput RunAgent(const std::string& profile, const std::vector<std::string>& agent,
                     const std::vector<std::string>& env, const std::string& level = "files") {
    std::vector<std::string> args = {"run",      "--profile",
                                     profile,    "--workspace",
                                     ws_.path(), "--audit-log",
                                     audit_,     "--audit-level",
                                     level,      "--ci",
                                     "--",       "/bin/sh",
                                     "-c",       "unset NO_PROXY no_proxy; exec \"$0\" \"$@\""};
    args.insert(args.end(), agent.begin(), agent.end());
    return Tollgate(args, home_, env, ws_.path(), 300);
  }

  // What every agent's run must show, from the tool results and the audit log.
  void ExpectTheSessionWasSandboxed(const std::vector<std::string>& results, int port,
                                    const std::string& agent_path) {
    ASSERT_EQ(results.size(), Steps().size()) << "the agent did not run every step";
    // 0: its commands run in the sandbox: pid 1 is tollgate's init, the uid is not root.
    EXPECT_THAT(results[0], HasSubstr("tollgate"));
    EXPECT_THAT(results[0], Not(HasSubstr("\n0\n")));
    // 1: git status through the shim, allowed, ran.
    EXPECT_THAT(results[1], HasSubstr("On branch main"));
    // 2: git push refused by the rule, with the reason, before anything ran.
    EXPECT_THAT(results[2], HasSubstr("git push denied by rule git-push"));
    // 3, 6: the key is not there.
    EXPECT_THAT(results[3], HasSubstr("No such file or directory"));
    EXPECT_THAT(results[6], Not(HasSubstr("TOLLGATE TEST KEY")));
    for (const std::string& result : results) EXPECT_THAT(result, Not(HasSubstr(kKeyText)));
    // 4: curl asks, and --ci answers no.
    EXPECT_THAT(results[4], HasSubstr("curl denied by rule"));
    // 5: a client the tool rules do not cover reaches the proxy, which refuses the host.
    EXPECT_THAT(results[5], HasSubstr("403"));

    const std::vector<Json> records = ReadAuditLog(audit_);
    ASSERT_FALSE(records.empty());
    const std::vector<Json> starts = OfKind(records, "run.start");
    ASSERT_EQ(starts.size(), 1u);
    const std::string run = starts[0]["run"];
    for (const Json& record : records) EXPECT_EQ(record["run"], run) << record.dump();
    EXPECT_THAT(starts[0]["details"]["command"].dump(), HasSubstr(agent_path));
    const std::vector<Json> ends = OfKind(records, "run.end");
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0]["details"]["status"], "exited");

    // The CLI's API calls went through the proxy to the model server, and only there.
    bool api_allowed = false, fetch_denied = false;
    for (const Json& r : OfKind(records, "net.connect")) {
      const Json& d = r["details"];
      if (d.value("port", 0) == port && r["verdict"] == "allow") api_allowed = true;
      if (d.value("host", "") == "example.org" && r["verdict"] == "deny") fetch_denied = true;
    }
    EXPECT_TRUE(api_allowed) << "no net.connect allowed to the model server's port " << port;
    EXPECT_TRUE(fetch_denied) << "no net.connect denied for example.org";

    // The mediated calls, each with its decision.
    bool status_allowed = false, push_denied = false, curl_denied = false;
    for (const Json& r : OfKind(records, "tool.call")) {
      const Json& d = r["details"];
      const Json argv = d.value("argv", Json::array());
      if (argv == Json{"git", "status"} && d["decision"] == "allow") status_allowed = true;
      if (argv == Json{"git", "push", "origin", "HEAD"} && r["verdict"] == "deny" &&
          r["rule"].get<std::string>().find("git-push") != std::string::npos)
        push_denied = true;
      if (d.value("tool", "") == "curl" && r["verdict"] == "deny") curl_denied = true;
    }
    EXPECT_TRUE(status_allowed) << "no tool.call allowing git status";
    EXPECT_TRUE(push_denied) << "no tool.call denying git push by rule git-push";
    EXPECT_TRUE(curl_denied) << "no tool.call denying curl";

    // The key's read, denied, as the sandbox saw it; and the commands' execs in the sandbox.
    bool key_denied = false;
    for (const Json& r : OfKind(records, "file.access"))
      if (r["details"].value("path", "").find("/.ssh/id_rsa") != std::string::npos &&
          r["verdict"] == "deny")
        key_denied = true;
    EXPECT_TRUE(key_denied) << "no denied file.access of the planted key";
    bool push_exec = false;
    for (const Json& r : OfKind(records, "exec"))
      if (r["details"]["argv"].dump().find("git push origin HEAD") != std::string::npos)
        push_exec = true;
    EXPECT_TRUE(push_exec) << "no exec record of the shell that ran git push";

    // Nothing reached the remote; the same push outside the sandbox does.
    // (As root the trees belong to the sandbox's user, whom git's ownership check wants.)
    const std::string git = ::getuid() == 0 ? "runuser -u nobody -- git " : "git ";
    const std::string in_remote = git + "--git-dir=" + remote() + " rev-parse -q --verify main";
    EXPECT_NE(Host(in_remote + " >/dev/null"), 0);
    EXPECT_EQ(Host("cd " + ws_.path() + " && " + git + "push -q origin HEAD 2>/dev/null"), 0);
    EXPECT_EQ(Host(in_remote + " >/dev/null"), 0);
    // And the key is readable there.
    EXPECT_THAT(escapes::ReadFile(key()), HasSubstr(kKeyText));
  }

  // The native program of the platform package: npm_setup.sh runs no install scripts, so the
  // package's bin/claude.exe stays the placeholder its postinstall would replace with it.
  std::string ClaudeProgram() const {
    for (const char* platform :
         {"linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl"}) {
      const std::string path =
          install_ + "/node_modules/@anthropic-ai/claude-code-" + platform + "/claude";
      if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return "";
  }

  std::string install_;
  Scratch ws_;
  Scratch side_;
  std::string home_;
  std::string audit_ = side_ / "audit";
};

TEST_F(AgentsTest, ClaudeCodeRunsItsToolCallsInTheSandbox) {
  const std::string claude = ClaudeProgram();
  if (claude.empty()) GTEST_SKIP() << "no native Claude Code for this platform in " << install_;
  ModelServer server(side_.path(), Steps());
  ASSERT_GT(server.port(), 0) << "the model server did not start";
  const std::string profile = WriteProfile("claude-code", server.port());

  RunOutput run = RunAgent(profile,
                           {claude, "-p", "Run the steps you are given.", "--allowedTools", "Bash",
                            "Read", "--output-format", "json"},
                           {"ANTHROPIC_BASE_URL=http://localhost:" + std::to_string(server.port()),
                            "ANTHROPIC_API_KEY=sk-ant-tollgate-test"});
  ASSERT_FALSE(run.timed_out) << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  Json result = Json::parse(run.out, nullptr, false);
  ASSERT_TRUE(result.is_object()) << run.out << run.err;
  EXPECT_EQ(result.value("result", ""), "all steps done") << run.out;
  EXPECT_EQ(result.value("is_error", true), false) << run.out;

  const std::vector<std::string> results = server.ToolResults("anthropic");
  ExpectTheSessionWasSandboxed(results, server.port(), claude);
  // Claude Code's own housekeeping git calls (a row of -c settings that switch things off, the
  // same in GIT_CONFIG_* variables) pass the rules: allowed by their sub-command's rule.
  int housekeeping = 0;
  for (const Json& r : OfKind(ReadAuditLog(audit_), "tool.call")) {
    const Json argv = r["details"].value("argv", Json::array());
    if (argv.size() < 3 || argv[0] != "git" || argv[1] != "-c") continue;
    ++housekeeping;
    EXPECT_EQ(r["verdict"], "allow") << r.dump();
  }
  EXPECT_GT(housekeeping, 0) << "no git call of Claude Code's own was recorded";
  // The Read tool runs in Claude Code's own process: its open is refused all the same.
  if (results.size() == Steps().size()) {
    EXPECT_THAT(results[6], HasSubstr("not exist")) << results[6];
  }

  // Its configuration lives on: as an ordinary user the sandbox's {home}/.claude is the host's
  // (root's sandbox user has no home of its own).
  if (::getuid() != 0) {
    EXPECT_EQ(Host("ls -A " + home_ + "/.claude | grep -q ."), 0)
        << "Claude Code wrote nothing to its configuration directory " << home_ << "/.claude";
  } else {
    std::printf(
        "[  NOTE    ] as root the sandbox user's home is private: configuration "
        "persistence is checked by the unprivileged run\n");
  }
}

// Claude Code's PreToolUse hook (tollgate hook install) inside the sandbox: Claude Code runs
// `tollgate hook claude-code` before each tool call; the hook decides with the profile and hands
// the decision to the supervisor, which records it in the run's log (reported_by: sandbox)
// before an allow is given. A call the hook denies never runs: no shim is reached.
TEST_F(AgentsTest, ClaudeCodeHookDecidesInTheSandboxAndTheSupervisorRecords) {
  const std::string claude = ClaudeProgram();
  if (claude.empty()) GTEST_SKIP() << "no native Claude Code for this platform in " << install_;
  const std::vector<std::string> steps = {"git status", "git push origin HEAD", "cat ~/.ssh/id_rsa",
                                          "curl -sS https://example.org/"};
  ModelServer server(side_.path(), steps);
  ASSERT_GT(server.port(), 0) << "the model server did not start";
  // The profile by name from the workspace's .tollgate/profiles, where the hook in the sandbox
  // finds it too; tollgate itself and its shipped profiles visible there.
  Json profile = Profile("claude-code", server.port());
  profile["name"] = "claude-code-hook";
  const std::string bin = escapes::BinDir();
  const std::string share = bin.substr(0, bin.rfind('/')) + "/share";
  for (const char* key : {"read", "exec"}) profile["filesystem"][key].push_back(bin);
  profile["filesystem"]["read"].push_back(share);
  LetThisBuildsTollgateRunInside(profile);
  ASSERT_EQ(::mkdir((ws_ / ".tollgate").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((ws_ / ".tollgate/profiles").c_str(), 0755), 0);
  ASSERT_TRUE(escapes::WriteFile(ws_ / ".tollgate/profiles/claude-code-hook.json", profile.dump()));
  RunOutput install =
      Tollgate({"hook", "install", "--workspace", ws_.path(), "--profile", "claude-code-hook"});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  ws_.Handover();

  RunOutput run = RunAgent("claude-code-hook",
                           {claude, "-p", "Run the steps you are given.", "--allowedTools", "Bash",
                            "--output-format", "json"},
                           {"ANTHROPIC_BASE_URL=http://localhost:" + std::to_string(server.port()),
                            "ANTHROPIC_API_KEY=sk-ant-tollgate-test"},
                           "actions");
  ASSERT_FALSE(run.timed_out) << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;

  const std::vector<std::string> results = server.ToolResults("anthropic");
  ASSERT_EQ(results.size(), steps.size()) << "the agent did not run every step";
  EXPECT_THAT(results[1], HasSubstr("denied by rule git:git-push"));
  EXPECT_THAT(results[2], HasSubstr("is hidden by the profile"));
  EXPECT_THAT(results[3], HasSubstr("needs a person's approval"));

  const std::vector<Json> records = ReadAuditLog(audit_);
  const std::vector<Json> starts = OfKind(records, "run.start");
  ASSERT_EQ(starts.size(), 1u);
  const std::vector<Json> hooks = OfKind(records, "hook.decision");
  ASSERT_EQ(hooks.size(), steps.size());
  const char* verdicts[] = {"allow", "deny", "deny", "info"};
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const Json& h = hooks[i];
    EXPECT_EQ(h["run"], starts[0]["run"]) << h.dump();
    EXPECT_EQ(h["verdict"], verdicts[i]) << h.dump();
    EXPECT_EQ(h["details"]["reported_by"], "sandbox") << h.dump();
    EXPECT_EQ(h["details"]["tool"], "Bash");
    EXPECT_EQ(h["details"]["tool_use_id"], "toolu_tollgate_0" + std::to_string(i));
    EXPECT_EQ(h["details"]["command"], steps[i]);
  }
  // git status: decided by the hook, then by the shim; git push: the hook's deny came first, and
  // nothing reached the shim.
  bool status_call = false;
  for (const Json& r : OfKind(records, "tool.call")) {
    const Json argv = r["details"].value("argv", Json::array());
    if (argv == Json{"git", "status"}) status_call = true;
    EXPECT_NE(argv, (Json{"git", "push", "origin", "HEAD"})) << "the denied push reached the shim";
  }
  EXPECT_TRUE(status_call);
  EXPECT_GT(hooks[0]["seq"].get<long>(), starts[0]["seq"].get<long>());
}

TEST_F(AgentsTest, CodexRunsItsToolCallsInTheSandbox) {
  const std::string codex = install_ + "/node_modules/@openai/codex/bin/codex.js";
  if (::access(codex.c_str(), R_OK) != 0) GTEST_SKIP() << codex << " is not installed";
  if (::access("/usr/bin/node", X_OK) != 0)
    GTEST_SKIP() << "node is not installed: Codex's launcher is a Node program";
  ModelServer server(side_.path(), Steps());
  ASSERT_GT(server.port(), 0) << "the model server did not start";
  const std::string profile = WriteProfile("codex", server.port());

  const std::string provider =
      "model_providers.scripted={name=\"scripted\",base_url=\"http://"
      "localhost:" +
      std::to_string(server.port()) + "/v1\",wire_api=\"responses\",env_key=\"OPENAI_API_KEY\"}";
  RunOutput run = RunAgent(profile,
                           {"/usr/bin/node", codex, "exec", "--skip-git-repo-check", "--sandbox",
                            "danger-full-access", "-c", "model_provider=scripted", "-c", provider,
                            "-m", "gpt-5", "Run the steps you are given."},
                           {"OPENAI_API_KEY=sk-tollgate-test"});
  ASSERT_FALSE(run.timed_out) << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("all steps done")) << run.err;

  ExpectTheSessionWasSandboxed(server.ToolResults("openai"), server.port(), codex);
  if (::getuid() != 0) {
    EXPECT_EQ(Host("ls -A " + home_ + "/.codex | grep -q ."), 0)
        << "Codex wrote nothing to its home " << home_ << "/.codex";
  }
}

}  // namespace
}  // namespace tollgate::e2e
