// The task ledger (policy/task_ledger.h): task state folded from task.* records, the phase gate
// (idempotent dispatch, one attempt at a time, phase order, entry evidence), re-opened phases,
// escalation waiving the phases a raised class would have had before, and lookups by prefix.
#include "policy/task_ledger.h"
#include "tests/unit/shipped_classes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tollgate::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kKey = "d90a62cce6334770762f9af8119f9a6feeff2d31fc94d8c3984648d9c5a42512";

bool Alive(const Supervisor& s) {
  return s.pid == 4242;
}

// Builds a task's records the way the supervisor writes them.
class Log {
 public:
  explicit Log(std::string task_class = "tiny-fix") : class_(std::move(task_class)) {}

  // task.dispatched of attempt `n` of `phase` in run `run`, by supervisor `pid`.
  void Dispatch(const std::string& run, const std::string& phase, int n, long pid = 1) {
    Add(run, std::string(kKindTaskDispatched), "info",
        {{"title", "Fix typo in README"},
         {"text", "fix typo in readme"},
         {"scope", Json::array({"README.md"})},
         {"base", ""},
         {"class", class_},
         {"profile", "tiny-fix"},
         {"phase", phase},
         {"attempt", n},
         {"supervisor", {{"pid", pid}, {"start", "100"}, {"boot", "b"}}}});
  }
  void Outcome(const std::string& run, std::string_view kind,
               std::vector<std::string> missing = {}) {
    Add(run, std::string(kind), kind == kKindTaskCompleted ? "allow" : "deny",
        {{"missing", missing}});
  }
  void Evidence(const std::string& run, const std::string& head_before) {
    Add(run, std::string(kKindTaskEvidence), "info", {{"git", {{"head_before", head_before}}}});
  }
  void Escalate(const std::string& run, const std::string& phase, const std::string& from,
                const std::string& to) {
    Add(run, std::string(kKindTaskEscalated), "info",
        {{"phase", phase}, {"from", from}, {"to", to}, {"over", {"files 5 > 3"}}});
  }
  void Refuse(const std::string& run, const std::string& phase) {
    TaskEvent e = Make(run, std::string(kKindTaskPhase), "deny", {{"phase", phase}});
    e.rule = "phase-order";
    e.reason = "phase ship needs phase implement done first";
    events_.push_back(e);
  }
  void Add(const std::string& run, const std::string& kind, const std::string& verdict, Json d) {
    events_.push_back(Make(run, kind, verdict, std::move(d)));
  }

  TaskLedger Fold() const {
    TaskLedger ledger;
    for (const TaskEvent& e : events_) ledger.Apply(e);
    return ledger;
  }
  const TaskState* Task(const TaskLedger& ledger) const {
    auto it = ledger.tasks().find(kKey);
    return it == ledger.tasks().end() ? nullptr : &it->second;
  }

 private:
  TaskEvent Make(const std::string& run, const std::string& kind, const std::string& verdict,
                 Json d) {
    TaskEvent e;
    e.seq = ++seq_;
    e.time = "2026-11-27T00:00:" + std::to_string(10 + seq_) + "Z";
    e.run = run;
    e.task = kKey;
    e.kind = kind;
    e.verdict = verdict;
    e.details = std::move(d);
    return e;
  }
  std::string class_;
  std::vector<TaskEvent> events_;
  std::uint64_t seq_ = 0;
};

TEST(TaskGate, ANewTaskRunsItsFirstPhaseAsAttemptOne) {
  GateDecision d = DecideGate(nullptr, "tiny-fix", Shipped(), "", false, Alive);
  EXPECT_EQ(d.verdict, GateVerdict::kRun);
  EXPECT_EQ(d.phase, "implement");
  EXPECT_EQ(d.attempt, 1);
}

TEST(TaskGate, ANewTaskCannotStartAtALaterPhase) {
  GateDecision d = DecideGate(nullptr, "tiny-fix", Shipped(), "ship", false, Alive);
  EXPECT_EQ(d.verdict, GateVerdict::kRefused);
  EXPECT_EQ(d.rule, "phase-order");
  EXPECT_THAT(d.missing, ElementsAre("implement: has not run"));
  EXPECT_THAT(d.reason, HasSubstr("phase ship needs phase implement done first"));
}

TEST(TaskGate, APhaseNotOnTheClassPathIsRefused) {
  GateDecision d = DecideGate(nullptr, "tiny-fix", Shipped(), "plan", false, Alive);
  EXPECT_EQ(d.verdict, GateVerdict::kRefused);
  EXPECT_EQ(d.rule, "phase-path");
  EXPECT_THAT(d.reason, HasSubstr("implement → ship"));
}

TEST(TaskGate, ARunningAttemptRefusesEveryDispatch) {
  Log log;
  log.Dispatch("r1", "implement", 1, /*pid=*/4242);
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  ASSERT_NE(task, nullptr);
  for (const char* phase : {"", "implement", "ship"}) {
    GateDecision d = DecideGate(task, "tiny-fix", Shipped(), phase, /*again=*/true, Alive);
    EXPECT_EQ(d.verdict, GateVerdict::kRefused) << phase;
    EXPECT_EQ(d.rule, "running") << phase;
    EXPECT_THAT(d.reason, HasSubstr("run r1")) << phase;
  }
  EXPECT_EQ(Progress(*task, Shipped(), Alive).state, "running");
}

TEST(TaskGate, AnAttemptWhoseSupervisorDiedIsInterruptedAndRetried) {
  Log log;
  log.Dispatch("r1", "implement", 1, /*pid=*/7);  // not alive
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  TaskProgress p = Progress(*task, Shipped(), Alive);
  EXPECT_EQ(p.state, "interrupted");
  EXPECT_THAT(p.phases[0].note, HasSubstr("pid 7"));
  GateDecision d = DecideGate(task, "tiny-fix", Shipped(), "", false, Alive);
  EXPECT_EQ(d.verdict, GateVerdict::kRun);
  EXPECT_EQ(d.phase, "implement");
  EXPECT_EQ(d.attempt, 2);
}

TEST(TaskGate, AFailedPhaseIsRetriedWithTheNextAttemptNumber) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  log.Outcome("r1", kKindTaskFailed, {"exit_status: the command exited with 1"});
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  EXPECT_EQ(Progress(*task, Shipped(), Alive).state, "failed");
  GateDecision d = DecideGate(task, "tiny-fix", Shipped(), "", false, Alive);
  EXPECT_EQ(d.verdict, GateVerdict::kRun);
  EXPECT_EQ(d.attempt, 2);
  // The next phase is refused, with what the failed one lacked.
  GateDecision ship = DecideGate(task, "tiny-fix", Shipped(), "ship", false, Alive);
  EXPECT_EQ(ship.verdict, GateVerdict::kRefused);
  EXPECT_EQ(ship.rule, "entry-evidence");
  ASSERT_EQ(ship.missing.size(), 1u);
  EXPECT_THAT(ship.missing[0], HasSubstr("implement: attempt 1 failed"));
  EXPECT_THAT(ship.missing[0], HasSubstr("exited with 1"));
}

TEST(TaskGate, AnUnverifiedPhaseBlocksTheNextOne) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  log.Outcome("r1", kKindTaskUnverified, {"test_results: no test report"});
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  EXPECT_EQ(Progress(*task, Shipped(), Alive).state, "unverified");
  GateDecision ship = DecideGate(task, "tiny-fix", Shipped(), "ship", false, Alive);
  EXPECT_EQ(ship.rule, "entry-evidence");
  EXPECT_THAT(ship.missing[0], HasSubstr("unverified — test_results: no test report"));
}

TEST(TaskGate, ACompletedTaskIsRecognisedAndRunsAgainOnlyWhenAsked) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  log.Outcome("r1", kKindTaskCompleted);
  log.Dispatch("r2", "ship", 1);
  log.Outcome("r2", kKindTaskCompleted);
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  TaskProgress p = Progress(*task, Shipped(), Alive);
  EXPECT_EQ(p.state, "completed");
  EXPECT_EQ(p.next_phase, "");
  GateDecision same = DecideGate(task, "tiny-fix", Shipped(), "", false, Alive);
  EXPECT_EQ(same.verdict, GateVerdict::kRecognised);
  GateDecision phase = DecideGate(task, "tiny-fix", Shipped(), "implement", false, Alive);
  EXPECT_EQ(phase.verdict, GateVerdict::kRecognised);
  EXPECT_EQ(phase.phase, "implement");
  GateDecision again = DecideGate(task, "tiny-fix", Shipped(), "", true, Alive);
  EXPECT_EQ(again.verdict, GateVerdict::kRun);
  EXPECT_EQ(again.phase, "implement");
  EXPECT_EQ(again.attempt, 2);
}

TEST(TaskGate, RerunningAnEarlierPhaseReopensTheLaterOnes) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  log.Outcome("r1", kKindTaskCompleted);
  log.Dispatch("r2", "ship", 1);
  log.Outcome("r2", kKindTaskCompleted);
  log.Dispatch("r3", "implement", 2);  // --again
  log.Outcome("r3", kKindTaskCompleted);
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  TaskProgress p = Progress(*task, Shipped(), Alive);
  EXPECT_EQ(p.state, "in progress");
  EXPECT_EQ(p.next_phase, "ship");
  EXPECT_EQ(p.phases[1].status, PhaseStatus::kPending);
  EXPECT_THAT(p.phases[1].note, HasSubstr("re-opened"));
  GateDecision d = DecideGate(task, "tiny-fix", Shipped(), "", false, Alive);
  EXPECT_EQ(d.verdict, GateVerdict::kRun);
  EXPECT_EQ(d.phase, "ship");
  EXPECT_EQ(d.attempt, 2);
}

TEST(TaskGate, EscalationRaisesTheClassAndWaivesTheRaisedClassEarlierPhases) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  log.Outcome("r1", kKindTaskCompleted);
  log.Escalate("r1", "implement", "tiny-fix", "feature");
  TaskLedger ledger = log.Fold();
  const TaskState* task = log.Task(ledger);
  EXPECT_EQ(task->initial_class, "tiny-fix");
  EXPECT_EQ(task->current_class, "feature");
  TaskProgress p = Progress(*task, Shipped(), Alive);
  ASSERT_EQ(p.phases.size(), 4u);
  EXPECT_EQ(p.phases[0].status, PhaseStatus::kWaived);  // plan
  EXPECT_EQ(p.phases[1].status, PhaseStatus::kDone);    // implement
  EXPECT_EQ(p.next_phase, "review");
  // A feature must be reviewed before it ships: ship is refused now.
  GateDecision ship = DecideGate(task, "tiny-fix", Shipped(), "ship", false, Alive);
  EXPECT_EQ(ship.verdict, GateVerdict::kRefused);
  EXPECT_THAT(ship.missing, ElementsAre("review: has not run"));
  GateDecision next = DecideGate(task, "tiny-fix", Shipped(), "", false, Alive);
  EXPECT_EQ(next.verdict, GateVerdict::kRun);
  EXPECT_EQ(next.phase, "review");
}

TEST(TaskLedger, KeepsTheTaskFromItsFirstDispatchAndCollectsItsRecords) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  log.Evidence("r1", "4e3132bf4c74");
  log.Outcome("r1", kKindTaskUnverified, {"diff: the run changed no file"});
  log.Refuse("r2", "ship");
  TaskLedger ledger = log.Fold();
  EXPECT_TRUE(ledger.problems().empty());
  const TaskState* task = log.Task(ledger);
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->title, "Fix typo in README");
  EXPECT_THAT(task->scope, ElementsAre("README.md"));
  ASSERT_EQ(task->attempts.size(), 1u);
  EXPECT_EQ(task->attempts[0].outcome, Outcome::kUnverified);
  EXPECT_EQ(task->attempts[0].evidence["git"]["head_before"], "4e3132bf4c74");
  EXPECT_THAT(task->attempts[0].missing, ElementsAre("diff: the run changed no file"));
  ASSERT_EQ(task->refusals.size(), 1u);
  EXPECT_EQ(task->refusals[0].rule, "phase-order");
  EXPECT_THAT(task->seqs, ElementsAre(1, 2, 3, 4));
}

TEST(TaskLedger, ARecordOfAnUnknownTaskOrRunIsAProblemNotAState) {
  TaskLedger ledger;
  TaskEvent orphan;
  orphan.seq = 9;
  orphan.task = kKey;
  orphan.kind = std::string(kKindTaskCompleted);
  orphan.run = "r9";
  ledger.Apply(orphan);
  EXPECT_TRUE(ledger.tasks().empty());
  ASSERT_EQ(ledger.problems().size(), 1u);
  EXPECT_THAT(ledger.problems()[0], HasSubstr("never dispatched"));
  TaskEvent other;
  other.kind = "exec";
  ledger.Apply(other);  // not a task record: ignored
  EXPECT_EQ(ledger.problems().size(), 1u);
}

TEST(TaskLedger, FindsATaskByAUniquePrefixOfItsKey) {
  Log log;
  log.Dispatch("r1", "implement", 1);
  TaskLedger ledger = log.Fold();
  std::string error;
  EXPECT_NE(ledger.Find("d90a62", &error), nullptr);
  EXPECT_NE(ledger.Find(kKey, &error), nullptr);
  EXPECT_EQ(ledger.Find("d90a6", &error), nullptr);
  EXPECT_THAT(error, HasSubstr("6 to 64"));
  EXPECT_EQ(ledger.Find("D90A62", &error), nullptr);
  EXPECT_EQ(ledger.Find("ffffff", &error), nullptr);
  EXPECT_THAT(error, HasSubstr("no task ffffff"));
}

TEST(TaskLedger, AnAmbiguousPrefixIsRefused) {
  TaskLedger ledger;
  for (const char* key : {"abcdef01", "abcdef02"}) {
    TaskEvent e;
    e.seq = 1;
    e.task = key;
    e.run = "r";
    e.kind = std::string(kKindTaskDispatched);
    e.details = {{"phase", "implement"}, {"attempt", 1}, {"class", "tiny-fix"}};
    ledger.Apply(e);
  }
  std::string error;
  EXPECT_EQ(ledger.Find("abcdef", &error), nullptr);
  EXPECT_THAT(error, HasSubstr("ambiguous"));
  EXPECT_NE(ledger.Find("abcdef02", &error), nullptr);
}

}  // namespace
}  // namespace tollgate::policy
