// tollgate approvals: list the tool calls that running sandboxes wait on, and answer them.
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "supervisor/approvals.h"
#include "supervisor/audit/terminal.h"
#include "supervisor/commands.h"

namespace tollgate {
namespace {

// One request to one run's socket; nullopt when nobody answers (a run that ended).
std::optional<nlohmann::json> Ask(const std::string& socket_path, const nlohmann::json& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  struct timeval timeout {
    2, 0
  };
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string line = request.dump() + "\n";
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0 ||
      ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string reply;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    reply.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  nlohmann::json parsed = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

struct RunSocket {
  std::string run;
  std::string path;
};

std::vector<RunSocket> RunSockets() {
  std::vector<RunSocket> sockets;
  std::string dir = ApprovalsDirectory();
  DIR* stream = dir.empty() ? nullptr : ::opendir(dir.c_str());
  if (stream == nullptr) return sockets;
  while (const struct dirent* entry = ::readdir(stream)) {
    std::string name = entry->d_name;
    if (name.size() > 5 && name.ends_with(".sock"))
      sockets.push_back({name.substr(0, name.size() - 5), dir + "/" + name});
  }
  ::closedir(stream);
  std::sort(sockets.begin(), sockets.end(),
            [](const RunSocket& a, const RunSocket& b) { return a.run < b.run; });
  return sockets;
}

std::string Quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& token : argv) {
    if (!out.empty()) out += ' ';
    out += audit::TerminalSafe(token);
  }
  return out;
}

int List(const ApprovalsArgs& args) {
  nlohmann::json all = nlohmann::json::array();
  std::size_t runs = 0;
  for (const RunSocket& socket : RunSockets()) {
    if (!args.run.empty() && !socket.run.starts_with(args.run)) continue;
    auto reply = Ask(socket.path, {{"op", "list"}});
    if (!reply || !reply->contains("pending")) continue;
    ++runs;
    for (const auto& item : (*reply)["pending"]) {
      nlohmann::json entry = item;
      entry["run"] = socket.run;
      all.push_back(entry);
    }
  }
  if (args.json) {
    std::cout << all.dump() << "\n";
    return 0;
  }
  if (all.empty()) {
    std::cout << "nothing waits for approval (" << runs << " run" << (runs == 1 ? "" : "s")
              << " listening)\n";
    return 0;
  }
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& item : all) {
    std::int64_t left = (item.value("deadline_unix_ns", std::int64_t{0}) - now) / 1000000000;
    std::cout << "call " << item.value("id", 0) << "  run " << item.value("run", "") << "  "
              << Quoted(item.value("argv", std::vector<std::string>{})) << "\n"
              << "    in " << audit::TerminalSafe(item.value("cwd", "")) << ", rule "
              << item.value("rule", "") << ": " << audit::TerminalSafe(item.value("why", ""))
              << "\n"
              << "    " << (left > 0 ? left : 0) << " s left; answer: tollgate approvals approve "
              << item.value("id", 0) << " [--for-run] | deny " << item.value("id", 0) << "\n";
  }
  return 0;
}

int AnswerCall(const ApprovalsArgs& args) {
  std::string answer = args.action == "deny" ? "deny" : (args.for_run ? "run" : "once");
  std::vector<RunSocket> candidates;
  for (const RunSocket& socket : RunSockets()) {
    if (!args.run.empty() && !socket.run.starts_with(args.run)) continue;
    auto reply = Ask(socket.path, {{"op", "list"}});
    if (!reply || !reply->contains("pending")) continue;
    for (const auto& item : (*reply)["pending"]) {
      if (item.value("id", std::uint64_t{0}) == args.id) candidates.push_back(socket);
    }
  }
  if (candidates.empty()) {
    std::cerr << "tollgate: no call " << args.id << " waits for approval"
              << (args.run.empty() ? "" : " in run " + args.run) << "\n";
    return kExitInvalid;
  }
  if (candidates.size() > 1) {
    std::cerr << "tollgate: call " << args.id << " waits in " << candidates.size()
              << " runs; name one with --run:";
    for (const RunSocket& socket : candidates) std::cerr << " " << socket.run;
    std::cerr << "\n";
    return kExitUsage;
  }
  auto reply = Ask(candidates[0].path, {{"op", "answer"}, {"id", args.id}, {"answer", answer}});
  if (!reply || !reply->value("ok", false)) {
    std::cerr << "tollgate: the run did not take the answer: "
              << (reply ? reply->value("error", std::string("no reason given"))
                        : std::string("no reply"))
              << "\n";
    return kExitInvalid;
  }
  std::cout << (answer == "deny"  ? "denied"
                : answer == "run" ? "approved for the run"
                                  : "approved once")
            << ": call " << args.id << " of run " << candidates[0].run << "\n";
  return 0;
}

}  // namespace

CLI::App* AddApprovalsCommand(CLI::App* app, ApprovalsArgs* args) {
  CLI::App* cmd = app->add_subcommand(
      "approvals", "List the tool calls running sandboxes wait on, and answer them");
  cmd->add_option("--run", args->run, "Only this run (its id or a prefix of it)");
  CLI::App* list = cmd->add_subcommand("list", "What waits for approval (the default)");
  list->add_flag("--json", args->json, "One JSON array");
  list->callback([args] { args->action = "list"; });
  CLI::App* approve = cmd->add_subcommand("approve", "Let a waiting call run");
  approve->add_option("id", args->id, "The call's number (from the list)")->required();
  approve->add_flag("--for-run", args->for_run,
                    "Also approve every later call of the same tool and rule in that run");
  approve->add_option("--run", args->run, "The run, when several wait on this number");
  approve->callback([args] { args->action = "approve"; });
  CLI::App* deny = cmd->add_subcommand("deny", "Refuse a waiting call");
  deny->add_option("id", args->id, "The call's number (from the list)")->required();
  deny->add_option("--run", args->run, "The run, when several wait on this number");
  deny->callback([args] { args->action = "deny"; });
  cmd->add_flag("--json", args->json, "List as one JSON array");
  return cmd;
}

int ApprovalsCommand(const ApprovalsArgs& args) {
  if (args.action == "list") return List(args);
  return AnswerCall(args);
}

}  // namespace tollgate
