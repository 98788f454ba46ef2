#include "supervisor/governance/dispatch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>

#include "supervisor/audit/terminal.h"
#include "supervisor/governance/evidence_collector.h"
#include "supervisor/run_audit.h"

namespace tollgate::governance {
namespace {

using Json = nlohmann::json;

constexpr int kExitCannotDispatch = 125;

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

bool LooksLikeKey(const std::string& text) {
  return text.size() >= 6 && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Every string of `value` through SafeStrings: paths and test names come from the sandbox and
// may hold anything.
void Sanitise(Json* value, audit::SafeStrings* strings, const std::string& path) {
  if (value->is_string()) {
    *value = strings->String(value->get_ref<const std::string&>(), path);
  } else if (value->is_array()) {
    for (std::size_t i = 0; i < value->size(); ++i)
      Sanitise(&(*value)[i], strings, path + "." + std::to_string(i));
  } else if (value->is_object()) {
    for (auto& [key, member] : value->items()) Sanitise(&member, strings, path + "." + key);
  }
}

audit::Event TaskEvent(std::string_view kind, audit::Verdict verdict, std::string rule,
                       std::string reason, Json details) {
  audit::Event event;
  event.kind = std::string(kind);
  event.verdict = verdict;
  event.rule = std::move(rule);
  event.reason = std::move(reason);
  Sanitise(&details, &event.strings, "details");
  event.details = std::move(details);
  return event;
}

// A record for a dispatch that runs nothing (recognised or refused): a log writer of its own.
bool RecordAlone(const std::string& audit_dir, const std::string& key, const std::string& profile,
                 audit::Event event, std::string* error) {
  audit::WriterOptions options;
  options.directory = audit_dir;
  options.sync = audit::SyncMode::kEvery;
  options.run = NewRunId();
  options.profile = profile;
  options.task = key;
  std::unique_ptr<audit::AuditWriter> log = audit::AuditWriter::Open(options, error);
  if (!log) return false;
  bool ok = log->Append(event);
  if (!ok) *error = log->failure();
  return log->Close() && ok;
}

bool IsAlive(const policy::Supervisor& s) {
  return SupervisorAlive(s);
}

}  // namespace

std::unique_ptr<Dispatch> Dispatch::Prepare(const DispatchRequest& request, int* exit_code) {
  *exit_code = kExitCannotDispatch;
  auto fail = [&](const std::string& message) -> std::unique_ptr<Dispatch> {
    std::cerr << "tollgate: " << message << "\n";
    return nullptr;
  };
  std::unique_ptr<Dispatch> d(new Dispatch());
  d->request_ = request;
  std::string error;
  d->classes_ = LoadClasses(request.classes_file, &error);
  if (!d->classes_) return fail(error);
  const policy::Classes& classes = d->classes_->classes;
  d->lock_ = DispatchLock::Acquire(request.audit_dir, &error);
  if (!d->lock_) return fail("cannot use the task ledger: " + error);
  LedgerLoadStats stats;
  if (!LoadLedger(request.audit_dir, &d->ledger_, &stats, &error))
    return fail("cannot read the task ledger in " + request.audit_dir + ": " + error);

  // The task: a key of the ledger, or text / a task file to classify and key.
  policy::TaskSpec spec;
  std::string phase = request.phase;
  if (!request.task_file.empty()) {
    if (!ReadTaskFile(request.task_file, &spec, &error)) return fail(error);
    if (phase.empty()) phase = spec.phase;
  } else if (LooksLikeKey(request.task) && d->ledger_.Find(request.task, &error)) {
    d->existing_ = d->ledger_.Find(request.task, &error);
  } else {
    spec.title = request.task;
  }
  if (d->existing_ == nullptr) {
    std::optional<IdentifiedTask> identified = IdentifyTask(spec, classes, &error);
    if (!identified) return fail("the task cannot be dispatched: " + error);
    d->key_ = identified->key;
    d->title_ = spec.title.empty() ? spec.description : spec.title;
    d->text_ = identified->text;
    d->scope_ = identified->scope;
    d->base_ = spec.base;
    d->first_class_ = identified->classification.task_class->name;
    auto it = d->ledger_.tasks().find(d->key_);
    if (it != d->ledger_.tasks().end()) d->existing_ = &it->second;
  }
  if (d->existing_ != nullptr) {
    const policy::TaskState& t = *d->existing_;
    d->key_ = t.key;
    d->title_ = t.title;
    d->text_ = t.text;
    d->scope_ = t.scope;
    d->base_ = t.base;
    d->first_class_ = t.initial_class;
  }

  d->decision_ =
      policy::DecideGate(d->existing_, d->first_class_, classes, phase, request.again, IsAlive);
  const std::string class_name = d->existing_ ? d->existing_->current_class : d->first_class_;
  d->class_ = classes.Find(class_name);
  if (d->class_ == nullptr) return fail("class " + class_name + " is not in " + d->classes_->file);
  d->profile_ = classes.PhaseProfile(*d->class_, d->decision_.phase);
  d->tier_ = classes.FindTier(d->class_->tier);

  if (d->decision_.verdict == policy::GateVerdict::kRecognised) {
    Json details = {{"phase", d->decision_.phase}, {"class", class_name}};
    if (!RecordAlone(request.audit_dir, d->key_, d->profile_,
                     TaskEvent(policy::kKindTaskPhase, audit::Verdict::kInfo, "recognised",
                               d->decision_.reason + ": nothing was run", details),
                     &error))
      return fail("cannot write to the audit log: " + error);
    std::cout << "task " << d->key_.substr(0, 12)
              << " was dispatched before: " << d->decision_.reason
              << "; nothing was run (--again runs it anew)\n\n";
    PrintTask(*d->existing_, classes, std::cout);
    *exit_code = 0;
    return nullptr;
  }
  if (d->decision_.verdict == policy::GateVerdict::kRefused) {
    Json details = {
        {"phase", d->decision_.phase}, {"class", class_name}, {"missing", d->decision_.missing}};
    if (!RecordAlone(request.audit_dir, d->key_, d->profile_,
                     TaskEvent(policy::kKindTaskPhase, audit::Verdict::kDeny, d->decision_.rule,
                               d->decision_.reason, details),
                     &error))
      return fail("cannot write to the audit log: " + error);
    std::cerr << "tollgate: task " << d->key_.substr(0, 12) << ": refused (" << d->decision_.rule
              << "): " << d->decision_.reason << "\n";
    for (const std::string& line : d->decision_.missing)
      std::cerr << "  missing  " << audit::TerminalSafe(line) << "\n";
    *exit_code = kExitTaskRefused;
    return nullptr;
  }

  // It runs: git's view of the workspace before the sandbox exists.
  d->git_ = std::make_unique<GitEvidence>(request.workspace, request.uid, request.gid);
  d->before_ = d->git_->Before();
  if (!d->base_.empty()) {
    if (!d->before_.repository)
      return fail("the task names base revision " + d->base_ + ", but " + d->before_.problem);
    d->task_base_ = d->git_->ResolveCommit(d->base_);
    if (d->task_base_.empty())
      return fail("the task's base revision " + d->base_ + " is not a commit of the workspace");
  } else if (d->existing_ != nullptr) {
    // The task's starting point: HEAD when it was first dispatched.
    for (const policy::TaskAttempt& a : d->existing_->attempts) {
      if (a.evidence.is_object()) {
        d->task_base_ = a.evidence.value("/git/head_before"_json_pointer, std::string());
        break;
      }
    }
  }
  if (d->task_base_.empty()) d->task_base_ = d->before_.head;
  return d;
}

std::vector<std::string> Dispatch::required_evidence() const {
  return classes_->classes.PhaseEvidence(*class_, decision_.phase);
}

void Dispatch::ApplyTier(policy::LimitsSpec* limits) const {
  if (tier_ == nullptr) return;
  auto cap = [](std::optional<std::uint64_t>* value, std::uint64_t tier) {
    if (tier != 0 && (!*value || **value > tier)) *value = tier;
  };
  cap(&limits->memory, tier_->memory);
  cap(&limits->processes, tier_->processes);
  cap(&limits->cpu_seconds, tier_->cpu_seconds);
  cap(&limits->wall_seconds, tier_->wall_seconds);
}

bool Dispatch::PreparePlanDirectory(std::string* error) const {
  // Made without following a link the workspace may hold, and given to the sandbox's user.
  int dir = ::open(request_.workspace.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    *error = "cannot open the workspace: " + std::string(std::strerror(errno));
    return false;
  }
  bool ok = true;
  for (const char* name : {".tollgate", "plan"}) {
    if (::mkdirat(dir, name, 0755) != 0 && errno != EEXIST) ok = false;
    int next = ok ? ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (next < 0) {
      *error = std::string("cannot make ") + kPlanDirectory + ": " + std::strerror(errno);
      ::close(dir);
      return false;
    }
    if (::geteuid() == 0 && std::string(name) == "plan") {
      if (::fchown(next, request_.uid, request_.gid) != 0) ok = false;
    }
    ::close(dir);
    dir = next;
  }
  ::close(dir);
  if (!ok) *error = std::string("cannot give ") + kPlanDirectory + " to the sandbox's user";
  return ok;
}

bool Dispatch::Record(audit::AuditWriter* log, const std::vector<std::string>& command) {
  const policy::Supervisor self = ThisSupervisor();
  Json gate = {{"phase", decision_.phase},
               {"attempt", decision_.attempt},
               {"class", class_->name},
               {"profile", profile_}};
  Json details = {{"title", title_},
                  {"text", text_},
                  {"scope", scope_},
                  {"base", base_},
                  {"class", class_->name},
                  {"profile", profile_},
                  {"phase", decision_.phase},
                  {"attempt", decision_.attempt},
                  {"phases", class_->phases},
                  {"evidence_required", required_evidence()},
                  {"command", command},
                  {"workspace", request_.workspace},
                  {"supervisor", {{"pid", self.pid}, {"start", self.start}, {"boot", self.boot}}},
                  {"head_before", before_.head},
                  {"task_base", task_base_}};
  const std::string attempt = "attempt " + std::to_string(decision_.attempt);
  bool ok =
      log->Append(TaskEvent(policy::kKindTaskPhase, audit::Verdict::kAllow, "phase-gate",
                            "phase " + decision_.phase + " may start (" + attempt + ")", gate)) &&
      log->Append(TaskEvent(policy::kKindTaskDispatched, audit::Verdict::kInfo,
                            "class " + class_->name, "phase " + decision_.phase + ", " + attempt,
                            details));
  lock_.reset();
  return ok;
}

int Dispatch::Finish(audit::AuditWriter* log, const RunResult& result,
                     const policy::Profile& profile, std::int64_t started_ns) {
  EvidenceRequest request;
  request.workspace = request_.workspace;
  request.result = &result;
  request.started_ns = started_ns;
  request.before = before_;
  request.task_base = task_base_;
  for (const policy::EvidencePattern& p : profile.evidence.test_results)
    request.report_patterns.push_back(p.glob);
  for (const policy::EvidencePattern& p : profile.evidence.artifacts)
    request.artifact_patterns.push_back(p.glob);
  const std::vector<std::string> required = required_evidence();
  request.plan = std::find(required.begin(), required.end(), "plan") != required.end();
  policy::Evidence evidence = CollectEvidence(git_.get(), request);
  policy::EvidenceJudgement judgement = policy::JudgeEvidence(required, evidence);

  Json evidence_json = policy::EvidenceToJson(evidence);
  evidence_json["phase"] = decision_.phase;
  evidence_json["attempt"] = decision_.attempt;
  evidence_json["required"] = required;
  bool ok = log->Append(TaskEvent(policy::kKindTaskEvidence, audit::Verdict::kInfo,
                                  "phase " + decision_.phase,
                                  "evidence collected outside the sandbox", evidence_json));

  // Escalation: the task's diff so far against its class's thresholds, up the chain.
  std::vector<std::string> raised;
  const policy::Classes& classes = classes_->classes;
  const policy::TaskClass* current = class_;
  while (evidence.git && current != nullptr && !current->escalation.to.empty()) {
    std::vector<std::string> over = policy::OverThresholds(current->escalation, evidence.task_diff);
    if (over.empty()) break;
    const policy::TaskClass* to = classes.Find(current->escalation.to);
    if (to == nullptr) break;
    Json details = {{"phase", decision_.phase},
                    {"from", current->name},
                    {"to", to->name},
                    {"over", over},
                    {"task_diff", policy::DiffStatsToJson(evidence.task_diff)}};
    ok = ok && log->Append(TaskEvent(
                   policy::kKindTaskEscalated, audit::Verdict::kInfo, "escalation " + current->name,
                   "the task's diff is over " + current->name + "'s thresholds (" +
                       Join(over, ", ") + "): raised to " + to->name,
                   details));
    raised.push_back(current->name + " → " + to->name + " (" + Join(over, ", ") + ")");
    current = to;
  }

  std::string_view kind =
      judgement.outcome == policy::Outcome::kCompleted ? policy::kKindTaskCompleted
      : judgement.outcome == policy::Outcome::kFailed  ? policy::kKindTaskFailed
                                                       : policy::kKindTaskUnverified;
  Json outcome = {{"phase", decision_.phase},
                  {"attempt", decision_.attempt},
                  {"class", current->name},
                  {"exit_code", evidence.exit_code},
                  {"missing", judgement.missing}};
  std::string reason = "phase " + decision_.phase + " " + policy::OutcomeName(judgement.outcome);
  if (!judgement.missing.empty()) reason += ": " + Join(judgement.missing, "; ");
  ok = ok && log->Append(TaskEvent(kind,
                                   judgement.outcome == policy::Outcome::kCompleted
                                       ? audit::Verdict::kAllow
                                       : audit::Verdict::kDeny,
                                   "evidence", reason, outcome));

  // What it means for the task, from the ledger as it now stands.
  std::cerr << "tollgate: task " << key_.substr(0, 12) << " phase " << decision_.phase
            << " attempt " << decision_.attempt << ": " << policy::OutcomeName(judgement.outcome)
            << "\n";
  for (const std::string& line : judgement.missing)
    std::cerr << "  missing  " << audit::TerminalSafe(line) << "\n";
  for (const std::string& line : raised) std::cerr << "  raised   " << line << "\n";
  if (!ok) {
    std::cerr << "tollgate: the task's outcome could not be recorded: " << log->failure() << "\n";
    return kExitAuditFailed;
  }
  if (judgement.outcome == policy::Outcome::kCompleted) {
    // Which phase is next, by the path of the class the task now has.
    const std::vector<std::string>& path = current->phases;
    auto pos = std::find(path.begin(), path.end(), decision_.phase);
    std::string next = pos != path.end() && pos + 1 != path.end() ? *(pos + 1) : "";
    std::cerr << "  next     "
              << (next.empty() ? "nothing: the task is completed"
                               : "phase " + next + ": tollgate run --task " + key_.substr(0, 12) +
                                     " --phase " + next + " -- COMMAND")
              << "\n";
    return 0;
  }
  if (evidence.ran && evidence.exit_code > 0) return result.ProcessExitCode();
  if (!evidence.ran || evidence.signal != 0) return result.ProcessExitCode();
  return kExitTaskUnverified;
}

void PrintTask(const policy::TaskState& task, const policy::Classes& classes,
               std::ostream& terminal) {
  // Titles, paths and test names come from people and from the sandbox: each line is made safe
  // for a terminal before it is printed.
  std::ostringstream out;
  policy::TaskProgress progress = policy::Progress(task, classes, IsAlive);
  out << "task      " << task.key << "\n";
  out << "title     " << task.title << "\n";
  out << "class     " << task.current_class;
  if (task.current_class != task.initial_class)
    out << " (dispatched as " << task.initial_class << ")";
  out << "\n";
  out << "state     " << progress.state;
  if (!progress.next_phase.empty()) out << " — next phase: " << progress.next_phase;
  out << "\n";
  out << "scope     " << (task.scope.empty() ? "the whole workspace" : Join(task.scope, ", "))
      << "\n";
  if (!task.base.empty()) out << "base      " << task.base << "\n";
  out << "phases\n";
  for (const policy::PhaseProgress& p : progress.phases) {
    out << "  " << p.phase << ": " << policy::PhaseStatusName(p.status);
    if (p.last != nullptr) out << " (attempt " << p.last->number << ", run " << p.last->run << ")";
    if (!p.note.empty()) out << " — " << p.note;
    out << "\n";
  }
  out << "attempts\n";
  for (const policy::TaskAttempt& a : task.attempts) {
    out << "  " << a.started << "  " << a.phase << " #" << a.number << "  "
        << policy::OutcomeName(a.outcome) << "  (" << a.class_name << ", profile " << a.profile
        << ")\n";
    if (!a.command.empty()) out << "      command   " << Join(a.command, " ") << "\n";
    const Json& e = a.evidence;
    if (e.is_object()) {
      const Json& run = e.value("run", Json::object());
      out << "      exit      " << run.value("exit_code", -1) << " (" << run.value("status", "")
          << "), " << run.value("duration_ms", 0) << " ms\n";
      const Json& git = e.value("git", Json::object());
      if (git.value("available", false)) {
        const Json& diff = git.value("diff", Json::object());
        out << "      git       HEAD " << git.value("head_before", "").substr(0, 12) << " → "
            << git.value("head_after", "").substr(0, 12) << ", " << diff.value("files", 0)
            << " files, +" << diff.value("lines_added", 0) << " -" << diff.value("lines_deleted", 0)
            << "\n";
      } else if (git.contains("problem")) {
        out << "      git       " << git.value("problem", "") << "\n";
      }
      for (const Json& r : e.value("/test_results/reports"_json_pointer, Json::array())) {
        out << "      tests     " << r.value("file", "") << ": ";
        if (r.contains("error")) {
          out << r.value("error", "") << "\n";
        } else {
          out << r.value("format", "") << ", " << r.value("passed", 0) << " passed, "
              << r.value("failed", 0) << " failed, " << r.value("errors", 0) << " errors, "
              << r.value("skipped", 0) << " skipped\n";
        }
      }
      for (const Json& f : e.value("/artifacts/files"_json_pointer, Json::array()))
        out << "      artifact  " << f.value("path", "") << " sha256:" << f.value("sha256", "")
            << "\n";
    }
    for (const std::string& m : a.missing) out << "      missing   " << m << "\n";
  }
  for (const policy::TaskEscalationEvent& e : task.escalations)
    out << "escalated " << e.time << " after " << e.phase << ": " << e.from << " → " << e.to << " ("
        << Join(e.over, ", ") << ")\n";
  for (const policy::GateRefusal& r : task.refusals)
    out << "refused   " << r.time << " phase " << r.phase << " (" << r.rule << "): " << r.reason
        << "\n";
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) terminal << audit::TerminalSafe(line) << "\n";
}

}  // namespace tollgate::governance
