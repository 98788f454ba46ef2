#include "policy/explain.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "policy/syscall_groups.h"

namespace tollgate::policy {
namespace {

const char* KindName(MountOpKind kind) {
  switch (kind) {
    case MountOpKind::kTmpfs:
      return "tmpfs";
    case MountOpKind::kBind:
      return "bind";
    case MountOpKind::kProc:
      return "proc";
    case MountOpKind::kDevpts:
      return "devpts";
    case MountOpKind::kSymlink:
      return "symlink";
    case MountOpKind::kReadOnly:
      return "read-only";
    case MountOpKind::kPin:
      return "pin";
    case MountOpKind::kProtect:
      return "protect";
    case MountOpKind::kHide:
      return "hide";
    case MountOpKind::kRootReadOnly:
      return "root-read-only";
    case MountOpKind::kShim:
      return "shim";
  }
  return "?";
}

std::string Flags(const MountOp& op) {
  std::string out = op.writable ? "writable" : "read-only";
  out += op.exec ? ", exec" : ", noexec";
  if (op.device) out += ", devices";
  if (op.size) out += ", " + FormatBytes(*op.size);
  return out;
}

std::string Access(std::uint32_t access) {
  std::string out;
  auto add = [&](std::uint32_t bit, const char* word) {
    if (!(access & bit)) return;
    if (!out.empty()) out += "+";
    out += word;
  };
  add(kLandlockRead, "read");
  add(kLandlockWrite, "write");
  add(kLandlockExecute, "execute");
  add(kLandlockDevice, "device-ioctl");
  add(kLandlockListDirectories, "list-directories");
  return out;
}

const char* ErrnoName(int value) {
  switch (value) {
    case 1:
      return "EPERM";
    case 13:
      return "EACCES";
    case 38:
      return "ENOSYS";
    case 22:
      return "EINVAL";
    case 95:
      return "EOPNOTSUPP";
    case 97:
      return "EAFNOSUPPORT";
  }
  return nullptr;
}

std::string ActionText(const SeccompAction& action) {
  switch (action.kind) {
    case SeccompActionKind::kErrno: {
      const char* name = ErrnoName(action.errno_value);
      return name ? name : "errno " + std::to_string(action.errno_value);
    }
    case SeccompActionKind::kKillProcess:
      return "kill";
    case SeccompActionKind::kLog:
      return "log";
    case SeccompActionKind::kNotify:
      return "ask the supervisor";
  }
  return "?";
}

std::string ConditionText(const ArgCondition& c) {
  char value[32];
  std::snprintf(value, sizeof value, "0x%llx", static_cast<unsigned long long>(c.value));
  std::string arg = "arg" + std::to_string(c.index) + (c.low32 ? " (low 32 bits)" : "");
  switch (c.op) {
    case ArgCompare::kEq:
      return arg + " == " + value;
    case ArgCompare::kNe:
      return arg + " != " + value;
    case ArgCompare::kLt:
      return arg + " < " + value;
    case ArgCompare::kLe:
      return arg + " <= " + value;
    case ArgCompare::kGt:
      return arg + " > " + value;
    case ArgCompare::kGe:
      return arg + " >= " + value;
    case ArgCompare::kMaskedEq: {
      char mask[32];
      std::snprintf(mask, sizeof mask, "0x%llx", static_cast<unsigned long long>(c.mask));
      return arg + " & " + mask + " == " + value;
    }
  }
  return arg;
}

std::string PortsText(const HostPattern& pattern) {
  if (pattern.ports.empty()) return "any port";
  std::string out = pattern.ports.size() == 1 && pattern.ports[0].first == pattern.ports[0].last
                        ? "port "
                        : "ports ";
  for (std::size_t i = 0; i < pattern.ports.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(pattern.ports[i].first);
    if (pattern.ports[i].last != pattern.ports[i].first)
      out += "-" + std::to_string(pattern.ports[i].last);
  }
  return out;
}

std::string PatternText(const HostPattern& pattern) {
  std::string what;
  switch (pattern.kind) {
    case HostPattern::Kind::kName:
      what = pattern.name + " exactly";
      break;
    case HostPattern::Kind::kSuffix:
      what = "any name under " + pattern.name + " (not " + pattern.name + " itself)";
      break;
    case HostPattern::Kind::kAddress:
      what = "the address " + pattern.address.ToString();
      break;
    case HostPattern::Kind::kNetwork:
      what = "addresses in " + pattern.address.ToString() + "/" +
             std::to_string(pattern.prefix_length);
      break;
  }
  return what + ", " + PortsText(pattern);
}

void ExplainNetwork(const NetworkPlan& network, std::ostream& out) {
  switch (network.mode) {
    case NetworkMode::kNone:
      out << "none: a private network namespace with only loopback up; no DNS, nothing outside\n";
      break;
    case NetworkMode::kHost:
      out << "host: the host's network, shared (trusted work only); every connect() is recorded,\n"
             "  nothing is filtered\n";
      break;
    case NetworkMode::kProxy: {
      out << "proxy: a private network namespace with only loopback up; outside is reached only\n"
             "  through the supervisor's proxies on the sandbox's loopback, which resolve names\n"
             "  themselves, refuse what the rules do not allow, and record every connection:\n"
          << "    HTTP (absolute-form and CONNECT)  127.0.0.1:" << kHttpProxyPort << "\n"
          << "    SOCKS5 (CONNECT)                  127.0.0.1:" << kSocksProxyPort << "\n"
          << "  allowed (deny wins; nothing else is):\n";
      if (network.rules.allow.empty()) out << "    nothing: every connection is refused\n";
      for (const HostPattern& p : network.rules.allow)
        out << "    " << p.text << "  — " << PatternText(p) << "\n";
      if (!network.rules.deny.empty()) out << "  denied:\n";
      for (const HostPattern& p : network.rules.deny)
        out << "    " << p.text << "  — " << PatternText(p) << "\n";
      out << "  a name that resolves to a loopback, private, link-local, multicast, cloud "
             "metadata\n"
             "  or this host's own address is refused unless an allow rule names that address\n";
      const ProxyLimits& l = network.limits;
      out << "  limits: " << l.connections << " connections at once; request head "
          << FormatBytes(l.header_bytes) << " within " << FormatSeconds(l.header_seconds)
          << "; connect within " << FormatSeconds(l.connect_seconds) << "; idle "
          << FormatSeconds(l.idle_seconds) << "\n";
      break;
    }
  }
  if (network.sockets.empty()) {
    out << "  host unix sockets: none reachable (abstract ones neither)\n";
  } else {
    out << "  host unix sockets reachable (bound in at the same path):\n";
    for (const std::string& path : network.sockets) out << "    " << path << "\n";
  }
}

nlohmann::json PatternJson(const HostPattern& pattern) {
  nlohmann::json ports = nlohmann::json::array();
  for (const PortRange& range : pattern.ports) ports.push_back({range.first, range.last});
  return {{"pattern", pattern.text}, {"ports", ports}};
}

nlohmann::json NetworkJson(const NetworkPlan& network) {
  nlohmann::json out = {{"mode", NetworkModeName(network.mode)},
                        {"private_namespace", network.new_namespace},
                        {"sockets", network.sockets}};
  if (network.mode == NetworkMode::kProxy) {
    nlohmann::json allow = nlohmann::json::array(), deny = nlohmann::json::array();
    for (const HostPattern& p : network.rules.allow) allow.push_back(PatternJson(p));
    for (const HostPattern& p : network.rules.deny) deny.push_back(PatternJson(p));
    const ProxyLimits& l = network.limits;
    out["allow"] = allow;
    out["deny"] = deny;
    out["http_proxy"] = "127.0.0.1:" + std::to_string(kHttpProxyPort);
    out["socks_proxy"] = "127.0.0.1:" + std::to_string(kSocksProxyPort);
    out["limits"] = {{"connections", l.connections},
                     {"idle_seconds", l.idle_seconds},
                     {"header_seconds", l.header_seconds},
                     {"header_bytes", l.header_bytes},
                     {"connect_seconds", l.connect_seconds}};
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void ExplainScope(const SandboxPlan& plan, std::ostream& out) {
  const ScopeNarrowing& scope = plan.scope;
  if (scope.scope.empty()) return;
  out << "\nScope — the task names " << JoinList(scope.scope)
      << ": in the workspace only these, and the\n"
         "  profile's scratch paths, are writable; the rest of it is read-only:\n";
  if (scope.writable_by_scope.empty() && scope.writable_by_scratch.empty())
    out << "  nothing is writable in the workspace\n";
  for (const std::string& path : scope.writable_by_scope)
    out << "  " << path << "  writable: in the task's scope\n";
  for (const std::string& path : scope.writable_by_scratch)
    out << "  " << path << "  writable: scratch (filesystem.scratch; skipped if absent)\n";
  for (const std::string& path : scope.not_writable)
    out << "  " << path << "  in the scope, but this profile does not make it writable\n";
  for (const std::string& path : scope.narrowed)
    out << "  " << path << "  narrowed: writable in the profile, read-only here\n";
  if (!scope.writable_ancestor.empty()) {
    out << "  " << scope.writable_ancestor
        << " holds the workspace and stays writable: the workspace is a read-only bind\n"
           "    below it and the directories between are pinned; Landlock cannot take back a\n"
           "    right granted above, so there the mount alone keeps the workspace read-only\n";
  }
}

void ExplainEvidence(const EvidencePlan& evidence, std::ostream& out) {
  out << "Evidence — collected from the workspace after the run, outside the sandbox:\n";
  out << "  evidence: ";
  if (evidence.test_results.empty() && evidence.artifacts.empty()) {
    out << "none\n";
    return;
  }
  out << "test reports from "
      << (evidence.test_results.empty() ? "nowhere" : JoinList(evidence.test_results))
      << " (parsed); artifacts "
      << (evidence.artifacts.empty() ? "none" : JoinList(evidence.artifacts)) << " (hashed)\n";
}

}  // namespace

const char* NetworkModeName(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kNone:
      return "none";
    case NetworkMode::kProxy:
      return "proxy";
    case NetworkMode::kHost:
      return "host";
  }
  return "?";
}

std::string FormatBytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  if (unit == 0) {
    std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, units[unit]);
  }
  return buffer;
}

std::string FormatSeconds(std::uint64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  const std::pair<std::uint64_t, const char*> parts[] = {
      {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (const auto& [size, suffix] : parts) {
    if (seconds >= size) {
      out += std::to_string(seconds / size) + suffix;
      seconds %= size;
    }
  }
  return out;
}

std::string ExplainPlan(const Profile& profile, const SandboxPlan& plan) {
  std::ostringstream out;
  out << "profile " << profile.name << " — " << profile.description << "\n";
  out << "  from " << profile.source_file;
  if (!profile.extends.empty()) {
    out << " (extends";
    for (const auto& parent : profile.extends) out << " " << parent;
    out << ")";
  }
  out << "\n  working directory: " << plan.cwd << "\n\n";

  out << "Filesystem — a fresh root on tmpfs, built in this order (everything else is absent):\n";
  for (const MountOp& op : plan.mounts.ops) {
    char line[512];
    std::string detail;
    switch (op.kind) {
      case MountOpKind::kBind:
        detail = (op.source == op.target ? "" : op.source + " -> ") + Flags(op) +
                 (op.optional ? "; skipped if absent" : "");
        break;
      case MountOpKind::kTmpfs:
        detail = Flags(op);
        break;
      case MountOpKind::kSymlink:
        detail = "-> " + op.source;
        break;
      case MountOpKind::kPin:
        detail = "pinned in place (cannot be renamed or removed)";
        break;
      case MountOpKind::kProtect:
        detail = op.file ? "read-only, even if it does not exist yet (then an empty file)"
                         : "read-only, even if it does not exist yet";
        break;
      case MountOpKind::kHide:
        detail = "hidden: empty and unreadable";
        break;
      case MountOpKind::kReadOnly:
        detail = "read-only";
        break;
      default:
        break;
    }
    std::snprintf(line, sizeof line, "  %-9s %-40s %s\n", KindName(op.kind), op.target.c_str(),
                  detail.c_str());
    out << line;
    if (!op.why.empty()) out << "            why: " << op.why << "\n";
  }

  ExplainScope(plan, out);

  out << "\nSyscalls — allowed unless listed; denied calls fail with the errno shown:\n";
  std::map<std::string, std::vector<const SeccompRule*>> by_group;
  for (const SeccompRule& rule : plan.seccomp.rules) by_group[rule.group].push_back(&rule);
  for (const auto& [group, rules] : by_group) {
    if (!group.empty()) {
      const SyscallGroup* info = FindSyscallGroup(group);
      out << "  " << group;
      if (info) out << " — " << info->help;
      out << "\n";
    } else {
      out << "  (named by the profile or by argument)\n";
    }
    for (const SeccompRule* rule : rules) {
      out << "    " << rule->syscall << " -> " << ActionText(rule->action);
      for (size_t i = 0; i < rule->conditions.size(); ++i) {
        out << (i == 0 ? " when " : " and ") << ConditionText(rule->conditions[i]);
      }
      if (!rule->why.empty() && !rule->conditions.empty()) out << "  (" << rule->why << ")";
      out << "\n";
    }
  }
  out << "  other ABIs (i386 via int 0x80, x32): " << ActionText(plan.seccomp.foreign_abi_action)
      << "\n";

  out << "\nLandlock — ";
  switch (plan.landlock.mode) {
    case LandlockMode::kBestEffort:
      out << "best effort: the rights the running kernel's ABI knows\n";
      break;
    case LandlockMode::kRequire:
      out << "required: the launch fails without Landlock\n";
      break;
    case LandlockMode::kOff:
      out << "off\n";
      break;
  }
  for (const LandlockRule& rule : plan.landlock.rules) {
    out << "  " << rule.path << ": " << Access(rule.access) << "\n";
  }
  if (plan.landlock.deny_tcp) out << "  TCP bind and connect: denied (ABI 4+)\n";
  if (plan.landlock.scope_abstract_unix)
    out << "  abstract unix sockets outside the sandbox: unreachable (ABI 6+)\n";
  if (plan.landlock.scope_signals) out << "  signals to processes outside: denied (ABI 6+)\n";

  out << "\nLimits:\n";
  for (const Limit& limit : plan.limits.limits) {
    std::string value;
    switch (limit.kind) {
      case LimitKind::kMemory:
      case LimitKind::kFileSize:
      case LimitKind::kTmpfs:
        value = FormatBytes(limit.value);
        break;
      case LimitKind::kCpuSeconds:
      case LimitKind::kWallSeconds:
        value = FormatSeconds(limit.value);
        break;
      default:
        value = std::to_string(limit.value);
    }
    out << "  " << LimitName(limit.kind) << ": " << value << "  (" << limit.why << ")\n";
  }
  if (plan.limits.require_enforced) out << "  every limit must be enforced (--require-limits)\n";

  out << "\nEnvironment — exactly these variables:\n";
  for (const auto& [name, value] : plan.env.vars) out << "  " << name << "=" << value << "\n";
  if (!plan.env.dropped.empty()) {
    out << "  left out:\n";
    for (const auto& [name, why] : plan.env.dropped) out << "    " << name << ": " << why << "\n";
  }

  out << "\nNetwork — ";
  ExplainNetwork(plan.network, out);

  out << "\n";
  ExplainEvidence(plan.evidence, out);

  out << "\nTools — ";
  if (plan.tools.empty()) {
    out << "none mediated: programs run as they are\n";
  } else {
    out << "mediated: the shim stands at every path below (the \"shim\" mounts above list the\n"
           "  files found on this machine); each call is decided by the first strictest rule that\n"
           "  matches, else the default (docs/TOOLS.md):\n";
  }
  for (const auto& [name, tool] : plan.tools) {
    out << "  " << name << "  default " << ToolVerdictName(tool.default_verdict) << " — "
        << tool.default_why << "\n";
    out << "    paths:";
    for (const PathEntry& path : tool.paths) out << " " << path.path;
    for (const PathEntry& dir : tool.alias_dirs) out << " (hard links in " << dir.path << ")";
    out << "\n";
    if (tool.subcommand) {
      out << "    options before the sub-command:";
      for (const std::string& flag : tool.subcommand->flags) out << " " << flag;
      for (const std::string& option : tool.subcommand->value_options) out << " " << option << " X";
      for (const auto& [option, checked] : tool.subcommand->checked_values)
        out << " " << option << " X (X one of " << checked.values.size() << " listed)";
      out << " (any other: deny)\n";
    }
    for (const ToolRule& rule : tool.rules) {
      out << "    " << ToolVerdictName(rule.verdict) << " " << rule.id << ":";
      if (rule.has_args) {
        out << " args";
        for (const auto& alternatives : rule.args) {
          out << " ";
          for (std::size_t i = 0; i < alternatives.size(); ++i)
            out << (i ? "|" : "") << alternatives[i];
        }
        if (rule.args_rest) out << " ...";
      }
      if (!rule.options.empty()) {
        out << " options";
        for (const std::string& option : rule.options) out << " " << option;
      }
      if (!rule.env.empty()) {
        out << " env";
        for (const std::string& name_pattern : rule.env) out << " " << name_pattern;
      }
      if (rule.paths_outside) {
        out << " a path outside";
        for (const std::string& root : rule.paths_outside->within) out << " " << root;
      }
      if (!rule.has_args && rule.options.empty() && rule.env.empty() && !rule.paths_outside)
        out << " every call";
      if (rule.run_on_host) out << " — runs on the host in " << tool.host_cwd;
      out << "\n      why: " << rule.why << "\n";
    }
  }
  return out.str();
}

nlohmann::json PlanToJson(const SandboxPlan& plan) {
  using nlohmann::json;
  json mounts = json::array();
  for (const MountOp& op : plan.mounts.ops) {
    json entry = {{"op", KindName(op.kind)}, {"target", op.target}, {"why", op.why}};
    if (!op.source.empty()) entry["source"] = op.source;
    if (op.kind == MountOpKind::kBind || op.kind == MountOpKind::kTmpfs) {
      entry["writable"] = op.writable;
      entry["exec"] = op.exec;
      entry["optional"] = op.optional;
      if (!op.beneath.empty()) entry["beneath"] = op.beneath;
      if (op.size) entry["size"] = *op.size;
    }
    if (op.kind == MountOpKind::kProtect && op.file) entry["file"] = true;
    mounts.push_back(entry);
  }
  json seccomp = json::array();
  for (const SeccompRule& rule : plan.seccomp.rules) {
    json conditions = json::array();
    for (const ArgCondition& c : rule.conditions) conditions.push_back(ConditionText(c));
    seccomp.push_back({{"syscall", rule.syscall},
                       {"action", ActionText(rule.action)},
                       {"group", rule.group},
                       {"when", conditions}});
  }
  json landlock = json::array();
  for (const LandlockRule& rule : plan.landlock.rules) {
    landlock.push_back({{"path", rule.path}, {"access", Access(rule.access)}});
  }
  json limits = json::object();
  for (const Limit& limit : plan.limits.limits) limits[LimitName(limit.kind)] = limit.value;
  json env = json::object();
  for (const auto& [name, value] : plan.env.vars) env[name] = value;
  json dropped = json::object();
  for (const auto& [name, why] : plan.env.dropped) dropped[name] = why;
  json result = {
      {"profile", plan.profile_name},
      {"cwd", plan.cwd},
      {"hostname", plan.hostname},
      {"mounts", mounts},
      {"seccomp", seccomp},
      {"landlock", landlock},
      {"limits", limits},
      {"env", env},
      {"env_dropped", dropped},
      {"network", NetworkJson(plan.network)},
      {"evidence",
       {{"test_results", plan.evidence.test_results}, {"artifacts", plan.evidence.artifacts}}}};
  if (!plan.scope.scope.empty()) {
    const ScopeNarrowing& scope = plan.scope;
    result["scope"] = {{"paths", scope.scope},
                       {"writable_by_scope", scope.writable_by_scope},
                       {"writable_by_scratch", scope.writable_by_scratch},
                       {"not_writable", scope.not_writable},
                       {"narrowed", scope.narrowed}};
    if (!scope.writable_ancestor.empty())
      result["scope"]["writable_ancestor"] = scope.writable_ancestor;
  }
  return result;
}

}  // namespace tollgate::policy
