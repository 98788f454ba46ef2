#include "policy/task_ledger.h"

#include <algorithm>

namespace tollgate::policy {
namespace {

using Json = nlohmann::json;

std::string Text(const Json& details, const char* key) {
  auto it = details.find(key);
  return it != details.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> TextList(const Json& details, const char* key) {
  std::vector<std::string> out;
  auto it = details.find(key);
  if (it == details.end() || !it->is_array()) return out;
  for (const Json& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

bool IsHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string JoinPath(const std::vector<std::string>& phases) {
  std::string out;
  for (const std::string& p : phases) out += (out.empty() ? "" : " → ") + p;
  return out;
}

}  // namespace

bool IsTaskKind(std::string_view kind) {
  return kind.rfind("task.", 0) == 0;
}

const TaskAttempt* TaskState::LastAttempt(std::string_view phase) const {
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (it->phase == phase) return &*it;
  }
  return nullptr;
}

TaskAttempt* TaskLedger::OpenAttempt(TaskState* task, const std::string& run) {
  for (auto it = task->attempts.rbegin(); it != task->attempts.rend(); ++it) {
    if (it->run == run) return &*it;
  }
  return nullptr;
}

void TaskLedger::Apply(const TaskEvent& event) {
  if (!IsTaskKind(event.kind)) return;
  const std::string where = "record " + std::to_string(event.seq) + " (" + event.kind + ")";
  if (event.task.empty()) {
    problems_.push_back(where + ": no task key");
    return;
  }
  const Json& d = event.details;
  if (event.kind == kKindTaskPhase) {
    // Only refusals change what is known: an allowed gate is followed by task.dispatched.
    if (event.verdict != "deny") return;
    auto it = tasks_.find(event.task);
    if (it == tasks_.end()) return;  // a refused first dispatch leaves no task behind
    it->second.seqs.push_back(event.seq);
    it->second.refusals.push_back(
        {event.seq, event.time, Text(d, "phase"), event.rule, event.reason});
    return;
  }
  if (event.kind == kKindTaskDispatched) {
    TaskState& task = tasks_[event.task];
    if (task.key.empty()) {
      task.key = event.task;
      task.title = Text(d, "title");
      task.text = Text(d, "text");
      task.scope = TextList(d, "scope");
      task.base = Text(d, "base");
      task.initial_class = Text(d, "class");
      task.current_class = task.initial_class;
      task.created = event.time;
    }
    task.seqs.push_back(event.seq);
    TaskAttempt attempt;
    attempt.phase = Text(d, "phase");
    attempt.number = d.value("attempt", 0);
    attempt.run = event.run;
    attempt.class_name = Text(d, "class");
    attempt.profile = Text(d, "profile");
    attempt.started = event.time;
    attempt.started_seq = event.seq;
    attempt.command = TextList(d, "command");
    if (auto s = d.find("supervisor"); s != d.end() && s->is_object()) {
      attempt.supervisor.pid = s->value("pid", 0L);
      attempt.supervisor.start = Text(*s, "start");
      attempt.supervisor.boot = Text(*s, "boot");
    }
    if (attempt.phase.empty() || attempt.number <= 0) {
      problems_.push_back(where + ": no phase or attempt number");
      return;
    }
    task.attempts.push_back(std::move(attempt));
    return;
  }
  auto it = tasks_.find(event.task);
  if (it == tasks_.end()) {
    problems_.push_back(where + ": a task that was never dispatched");
    return;
  }
  TaskState& task = it->second;
  task.seqs.push_back(event.seq);
  if (event.kind == kKindTaskEscalated) {
    TaskEscalationEvent e{event.seq,       event.time,    Text(d, "phase"),
                          Text(d, "from"), Text(d, "to"), TextList(d, "over")};
    if (!e.to.empty()) task.current_class = e.to;
    task.escalations.push_back(std::move(e));
    return;
  }
  TaskAttempt* attempt = OpenAttempt(&task, event.run);
  if (attempt == nullptr) {
    problems_.push_back(where + ": no attempt of run " + event.run);
    return;
  }
  if (event.kind == kKindTaskEvidence) {
    attempt->evidence = d;
    return;
  }
  Outcome outcome;
  if (event.kind == kKindTaskCompleted) {
    outcome = Outcome::kCompleted;
  } else if (event.kind == kKindTaskFailed) {
    outcome = Outcome::kFailed;
  } else if (event.kind == kKindTaskUnverified) {
    outcome = Outcome::kUnverified;
  } else {
    problems_.push_back(where + ": unknown task record kind");
    return;
  }
  attempt->outcome = outcome;
  attempt->ended = event.time;
  attempt->ended_seq = event.seq;
  attempt->missing = TextList(d, "missing");
}

const TaskState* TaskLedger::Find(std::string_view key, std::string* error) const {
  if (key.size() < 6 || key.size() > 64 || !IsHex(key)) {
    *error = "a task id is its key: 6 to 64 lower-case hex digits (tollgate task list)";
    return nullptr;
  }
  auto it = tasks_.lower_bound(std::string(key));
  if (it == tasks_.end() || it->first.compare(0, key.size(), key) != 0) {
    *error = "no task " + std::string(key) + " in the ledger";
    return nullptr;
  }
  auto next = std::next(it);
  if (next != tasks_.end() && next->first.compare(0, key.size(), key) == 0) {
    *error = "task id " + std::string(key) + " is ambiguous: give more digits";
    return nullptr;
  }
  return &it->second;
}

const char* PhaseStatusName(PhaseStatus status) {
  switch (status) {
    case PhaseStatus::kPending:
      return "pending";
    case PhaseStatus::kDone:
      return "done";
    case PhaseStatus::kWaived:
      return "waived";
    case PhaseStatus::kRunning:
      return "running";
    case PhaseStatus::kFailed:
      return "failed";
    case PhaseStatus::kUnverified:
      return "unverified";
    case PhaseStatus::kInterrupted:
      return "interrupted";
  }
  return "?";
}

TaskProgress Progress(const TaskState& task, const Classes& classes, const IsAlive& is_alive) {
  TaskProgress progress;
  progress.task_class = task.current_class;
  const TaskClass* c = classes.Find(task.current_class);
  if (c == nullptr) {
    progress.state = "unknown class " + task.current_class;
    return progress;
  }
  // The phase at which the latest escalation happened: the new path's phases before it that
  // never ran are waived.
  std::size_t waive_before = 0;
  if (!task.escalations.empty()) {
    const std::string& at = task.escalations.back().phase;
    auto pos = std::find(c->phases.begin(), c->phases.end(), at);
    if (pos != c->phases.end()) waive_before = static_cast<std::size_t>(pos - c->phases.begin());
  }
  std::uint64_t previous_completed = 0;  // seq at which the phase before was last completed
  bool blocked = false;                  // an earlier phase is not done
  for (std::size_t i = 0; i < c->phases.size(); ++i) {
    PhaseProgress p;
    p.phase = c->phases[i];
    p.last = task.LastAttempt(p.phase);
    // The last completed attempt of this phase.
    const TaskAttempt* completed = nullptr;
    for (auto it = task.attempts.rbegin(); it != task.attempts.rend(); ++it) {
      if (it->phase == p.phase && it->outcome == Outcome::kCompleted) {
        completed = &*it;
        break;
      }
    }
    if (p.last == nullptr) {
      p.status = i < waive_before ? PhaseStatus::kWaived : PhaseStatus::kPending;
      if (p.status == PhaseStatus::kWaived)
        p.note = "waived: the task was raised to " + task.current_class + " after " +
                 task.escalations.back().phase;
    } else if (p.last->outcome == Outcome::kRunning) {
      p.status = is_alive(p.last->supervisor) ? PhaseStatus::kRunning : PhaseStatus::kInterrupted;
      if (p.status == PhaseStatus::kInterrupted)
        p.note = "its supervisor (pid " + std::to_string(p.last->supervisor.pid) +
                 ") ended without recording an outcome";
    } else if (p.last->outcome == Outcome::kCompleted && p.last->started_seq > previous_completed) {
      p.status = PhaseStatus::kDone;
    } else if (p.last->outcome == Outcome::kCompleted) {
      p.status = PhaseStatus::kPending;
      p.note = "re-opened: the phase before it ran again after it";
    } else {
      p.status =
          p.last->outcome == Outcome::kFailed ? PhaseStatus::kFailed : PhaseStatus::kUnverified;
      std::string missing;
      for (const std::string& m : p.last->missing) missing += (missing.empty() ? "" : "; ") + m;
      p.note = missing;
    }
    if (p.status == PhaseStatus::kDone) {
      previous_completed = completed->ended_seq;
    } else if (p.status != PhaseStatus::kWaived && !blocked) {
      blocked = true;
      progress.next_phase = p.phase;
    }
    progress.phases.push_back(std::move(p));
  }
  // The task's state: what its next phase (or its last attempt) says.
  const PhaseProgress* next = nullptr;
  for (const PhaseProgress& p : progress.phases) {
    if (p.phase == progress.next_phase) next = &p;
  }
  bool any_running = false;
  for (const PhaseProgress& p : progress.phases) any_running |= p.status == PhaseStatus::kRunning;
  if (any_running) {
    progress.state = "running";
  } else if (next == nullptr) {
    progress.state = "completed";
  } else if (next->status == PhaseStatus::kPending) {
    progress.state = task.attempts.empty() ? "new" : "in progress";
  } else {
    progress.state = PhaseStatusName(next->status);
  }
  return progress;
}

GateDecision DecideGate(const TaskState* task, const std::string& new_class, const Classes& classes,
                        const std::string& phase, bool again, const IsAlive& is_alive) {
  GateDecision d;
  const std::string class_name = task ? task->current_class : new_class;
  const TaskClass* c = classes.Find(class_name);
  if (c == nullptr) {
    d.rule = "phase-path";
    d.reason = "class " + class_name + " is not in the classes file";
    return d;
  }
  TaskState empty;
  empty.current_class = new_class;
  const TaskState& state = task ? *task : empty;
  TaskProgress progress = Progress(state, classes, is_alive);
  for (const PhaseProgress& p : progress.phases) {
    if (p.status == PhaseStatus::kRunning) {
      d.phase = phase.empty() ? p.phase : phase;
      d.rule = "running";
      d.reason = "phase " + p.phase + " (attempt " + std::to_string(p.last->number) + ", run " +
                 p.last->run + ") is still running: one attempt at a time";
      return d;
    }
  }
  std::string wanted = phase;
  if (wanted.empty()) {
    wanted = progress.next_phase;
    if (wanted.empty()) {  // every phase done
      if (!again) {
        d.verdict = GateVerdict::kRecognised;
        d.phase = c->phases.back();
        d.reason = "the task is completed";
        return d;
      }
      wanted = c->phases.front();  // --again: start over
    }
  }
  d.phase = wanted;
  auto pos = std::find(c->phases.begin(), c->phases.end(), wanted);
  if (pos == c->phases.end()) {
    d.rule = "phase-path";
    d.reason = "phase " + wanted + " is not on the path of class " + c->name + " (" +
               JoinPath(c->phases) + ")";
    return d;
  }
  const std::size_t index = static_cast<std::size_t>(pos - c->phases.begin());
  const PhaseProgress& p = progress.phases[index];
  if (p.status == PhaseStatus::kDone && !again) {
    d.verdict = GateVerdict::kRecognised;
    d.reason = "phase " + wanted + " is done";
    return d;
  }
  // Entry: every phase before it done (or waived).
  for (std::size_t i = 0; i < index; ++i) {
    const PhaseProgress& before = progress.phases[i];
    if (before.status == PhaseStatus::kDone || before.status == PhaseStatus::kWaived) continue;
    if (before.last == nullptr) {
      if (d.rule.empty()) d.rule = "phase-order";
      d.missing.push_back(before.phase + ": has not run");
    } else {
      d.rule = "entry-evidence";
      std::string line = before.phase + ": attempt " + std::to_string(before.last->number) + " " +
                         PhaseStatusName(before.status);
      if (!before.note.empty()) line += " — " + before.note;
      d.missing.push_back(line);
    }
  }
  if (!d.missing.empty()) {
    d.reason =
        "phase " + wanted + " needs " +
        (index == 1 ? "phase " + c->phases[0] : "phases " + JoinPath({c->phases.begin(), pos})) +
        " done first (path " + JoinPath(c->phases) + ")";
    return d;
  }
  int attempts = 0;
  for (const TaskAttempt& a : state.attempts) attempts += a.phase == wanted;
  d.verdict = GateVerdict::kRun;
  d.attempt = attempts + 1;
  d.rule.clear();
  return d;
}

}  // namespace tollgate::policy
