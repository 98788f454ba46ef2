#include "supervisor/audit/ocsf.h"

#include "supervisor/audit/query.h"

#include <set>

namespace tollgate::audit {

namespace {

constexpr OcsfClass kProcessActivity{1007, "Process Activity", 1, "System Activity"};
constexpr OcsfClass kFileSystemActivity{1001, "File System Activity", 1, "System Activity"};
constexpr OcsfClass kKernelActivity{1003, "Kernel Activity", 1, "System Activity"};
constexpr OcsfClass kNetworkActivity{4001, "Network Activity", 4, "Network Activity"};
constexpr OcsfClass kApplicationLifecycle{6002, "Application Lifecycle", 6, "Application Activity"};
constexpr OcsfClass kApiActivity{6003, "API Activity", 6, "Application Activity"};
constexpr OcsfClass kBaseEvent{0, "Base Event", 0, "Uncategorized"};

constexpr int kActivityOther = 99;

struct Activity {
  int id;
  std::string name;
};

std::string Basename(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The details of a record, with the keys a class attribute took removed: what is left goes to
// `unmapped`.
class Details {
 public:
  explicit Details(const Json& details) : details_(details) {}

  std::string Text(const char* key) {
    auto it = details_.find(key);
    // Objects (and anything not text-like) stay in `unmapped`, whole.
    if (it == details_.end() || !(it->is_string() || it->is_number_integer() || it->is_array()))
      return "";
    used_.insert(key);
    return DetailText(details_, key);
  }
  std::optional<std::int64_t> Integer(const char* key) {
    auto it = details_.find(key);
    if (it == details_.end() || !it->is_number_integer()) return std::nullopt;
    used_.insert(key);
    return it->get<std::int64_t>();
  }
  Json Rest() const {
    Json rest = Json::object();
    for (auto it = details_.begin(); it != details_.end(); ++it)
      if (!used_.count(it.key())) rest[it.key()] = it.value();
    return rest;
  }

 private:
  const Json& details_;
  std::set<std::string> used_;
};

Json ProcessObject(const ProcessInfo& process) {
  Json object = {{"pid", process.pid}};
  if (!process.comm.empty()) object["name"] = process.comm;
  if (!process.exe.empty())
    object["file"] = {{"path", process.exe}, {"name", Basename(process.exe)}, {"type_id", 1}};
  if (process.ppid != 0) object["parent_process"] = {{"pid", process.ppid}};
  return object;
}

// File System Activity's activity from the operation the observer recorded.
Activity FileActivity(const std::string& op) {
  static const std::pair<const char*, Activity> kOps[] = {{"create", {1, "Create"}},
                                                          {"mkdir", {1, "Create"}},
                                                          {"mknod", {1, "Create"}},
                                                          {"symlink", {1, "Create"}},
                                                          {"link", {1, "Create"}},
                                                          {"read", {2, "Read"}},
                                                          {"write", {3, "Update"}},
                                                          {"truncate", {3, "Update"}},
                                                          {"unlink", {4, "Delete"}},
                                                          {"rmdir", {4, "Delete"}},
                                                          {"delete", {4, "Delete"}},
                                                          {"rename", {5, "Rename"}},
                                                          {"chmod", {6, "Set Attributes"}},
                                                          {"chown", {6, "Set Attributes"}},
                                                          {"setattr", {6, "Set Attributes"}},
                                                          {"stat", {8, "Get Attributes"}},
                                                          {"mount", {12, "Mount"}},
                                                          {"umount", {13, "Unmount"}},
                                                          {"open", {14, "Open"}}};
  for (const auto& [name, activity] : kOps)
    if (op == name) return activity;
  return {kActivityOther, op.empty() ? "Other" : op};
}

}  // namespace

OcsfClass OcsfClassOf(const std::string& kind) {
  if (kind == kKindExec || kind == kKindRunStart || kind == kKindRunEnd || kind == kKindLimitHit)
    return kProcessActivity;
  if (kind == kKindFileAccess) return kFileSystemActivity;
  if (kind == kKindSyscallDenied) return kKernelActivity;
  if (kind == kKindNetConnect || kind == kKindNetClose) return kNetworkActivity;
  if (kind == kKindToolCall || kind == kKindToolExit) return kApiActivity;
  if (kind == kKindLogRecovered || kind.rfind("task.", 0) == 0) return kApplicationLifecycle;
  return kBaseEvent;
}

void OcsfExporter::Observe(const ParsedRecord& record) {
  if (record.kind != kKindRunStart) return;
  auto host = record.details.find("host");
  if (host == record.details.end() || !host->is_string()) return;
  if (host_of_run_.size() >= kMaxRunsRemembered) host_of_run_.clear();
  host_of_run_[record.run] = host->get<std::string>();
}

Json OcsfExporter::Project(const ParsedRecord& record) {
  const OcsfClass ocsf = OcsfClassOf(record.kind);
  Details details(record.details);
  Json event = Json::object();
  Activity activity{kActivityOther, "Other"};

  Observe(record);
  if (record.kind == kKindRunStart) details.Text("host");  // mapped to `device`

  if (ocsf.class_uid == kProcessActivity.class_uid) {
    Json process = record.process ? ProcessObject(*record.process) : Json::object();
    if (record.kind == kKindExec) {
      activity = {1, "Launch"};
      // The process that called execve, and the image it became (same pid).
      if (record.process) event["actor"] = {{"process", process}};
      std::string path = details.Text("path");
      std::string argv = details.Text("argv");
      process.erase("name");
      if (!path.empty())
        process["file"] = {{"path", path}, {"name", Basename(path)}, {"type_id", 1}};
      else
        process.erase("file");
      if (!argv.empty()) process["cmd_line"] = argv;
    } else if (record.kind == kKindRunStart) {
      activity = {1, "Launch"};
      std::string command = details.Text("command");
      if (!command.empty()) process["cmd_line"] = command;
      event["actor"] = {{"app_name", "tollgate"}};
    } else if (record.kind == kKindRunEnd) {
      activity = {2, "Terminate"};
      if (auto code = details.Integer("exit_code")) event["exit_code"] = *code;
      event["actor"] = {{"app_name", "tollgate"}};
    } else {
      activity = {kActivityOther, "Limit Hit"};
    }
    event["process"] = process;
  } else if (ocsf.class_uid == kFileSystemActivity.class_uid) {
    std::string op = details.Text("op");
    if (op.empty()) op = details.Text("operation");
    activity = FileActivity(op);
    std::string path = details.Text("path");
    event["file"] = {{"path", path}, {"name", Basename(path)}, {"type_id", 0}};
    if (record.process) event["actor"] = {{"process", ProcessObject(*record.process)}};
  } else if (ocsf.class_uid == kKernelActivity.class_uid) {
    activity = {4, "Invoke"};
    std::string syscall = details.Text("syscall");
    event["kernel"] = {{"name", syscall.empty() ? "unknown" : syscall},
                       {"type_id", 2},
                       {"type", "System Call"},
                       {"system_call", syscall}};
    if (record.process) event["actor"] = {{"process", ProcessObject(*record.process)}};
  } else if (ocsf.class_uid == kNetworkActivity.class_uid) {
    activity = record.kind == kKindNetClose ? Activity{2, "Close"} : Activity{1, "Open"};
    Json endpoint = Json::object();
    std::string host = details.Text("host");
    if (!host.empty()) endpoint["hostname"] = host;
    std::string ip = details.Text("ip");
    if (!ip.empty()) endpoint["ip"] = ip;
    if (auto port = details.Integer("port")) endpoint["port"] = *port;
    event["dst_endpoint"] = endpoint;
    if (record.kind == kKindNetClose) {
      Json traffic = Json::object();
      if (auto out = details.Integer("bytes_out")) traffic["bytes_out"] = *out;
      if (auto in = details.Integer("bytes_in")) traffic["bytes_in"] = *in;
      event["traffic"] = traffic;
    }
    if (record.process) event["actor"] = {{"process", ProcessObject(*record.process)}};
  } else if (ocsf.class_uid == kApiActivity.class_uid) {
    activity = {kActivityOther, record.kind == kKindToolCall ? "Call" : "Exit"};
    std::string tool = details.Text("tool");
    if (tool.empty()) tool = details.Text("name");
    event["api"] = {{"operation", tool.empty() ? record.kind : tool},
                    {"service", {{"name", "tollgate tool shim"}}}};
    if (auto code = details.Integer("exit_code")) event["api"]["response"] = {{"code", *code}};
    if (record.process) event["actor"] = {{"process", ProcessObject(*record.process)}};
  } else if (ocsf.class_uid == kApplicationLifecycle.class_uid) {
    activity = {kActivityOther, record.kind == kKindLogRecovered ? "Log Recovered" : record.kind};
    event["app"] = {
        {"name", "tollgate"}, {"vendor_name", "tollgate"}, {"version", product_version_}};
  } else {
    activity = {kActivityOther, record.kind};
  }

  event["class_uid"] = ocsf.class_uid;
  event["class_name"] = ocsf.class_name;
  event["category_uid"] = ocsf.category_uid;
  event["category_name"] = ocsf.category_name;
  event["activity_id"] = activity.id;
  event["activity_name"] = activity.name;
  event["type_uid"] = ocsf.class_uid * 100 + activity.id;
  event["type_name"] = std::string(ocsf.class_name) + ": " + activity.name;
  event["time"] = record.time_ns / 1'000'000;

  // Security Control profile: what tollgate decided.
  switch (record.verdict) {
    case Verdict::kAllow:
      event["action_id"] = 1, event["action"] = "Allowed";
      event["disposition_id"] = 1, event["disposition"] = "Allowed";
      break;
    case Verdict::kDeny:
      event["action_id"] = 2, event["action"] = "Denied";
      event["disposition_id"] = 2, event["disposition"] = "Blocked";
      break;
    case Verdict::kInfo:
      event["action_id"] = 3, event["action"] = "Observed";
      event["disposition_id"] = 17, event["disposition"] = "Logged";
      break;
  }
  const bool denied = record.verdict == Verdict::kDeny;
  event["severity_id"] = denied ? 2 : 1;
  event["severity"] = denied ? "Low" : "Informational";
  event["status_id"] = denied ? 2 : 1;
  event["status"] = denied ? "Failure" : "Success";
  event["message"] = record.reason.empty() ? record.kind : record.reason;

  event["metadata"] = {
      {"version", kOcsfVersion},
      {"product",
       {{"name", "tollgate"}, {"vendor_name", "tollgate"}, {"version", product_version_}}},
      {"profiles", Json::array({"security_control"})},
      {"uid", record.hash},
      {"sequence", record.seq},
      {"original_time", record.time},
      {"correlation_uid", record.run},
      {"event_code", record.kind},
      {"log_name", "tollgate audit"}};
  if (auto host = host_of_run_.find(record.run); host != host_of_run_.end())
    event["device"] = {{"hostname", host->second}, {"type_id", 0}};

  Json unmapped = {{"run", record.run}, {"profile", record.profile}, {"prev", record.prev}};
  if (record.task) unmapped["task"] = *record.task;
  if (!record.rule.empty()) unmapped["rule"] = record.rule;
  Json rest = details.Rest();
  if (!rest.empty()) unmapped["details"] = rest;
  if (!record.escaped.is_null()) unmapped["escaped"] = record.escaped;
  if (!record.truncated.is_null()) unmapped["truncated"] = record.truncated;
  if (!record.extra.empty()) unmapped["extra"] = record.extra;
  event["unmapped"] = unmapped;
  return event;
}

}  // namespace tollgate::audit
