// The tool spawner: the only process that can start a mediated tool's real program.
//
// When the mount view is built, each real tool is opened before the shim is bound over its
// path (mountns.h, kShim), so no path in the sandbox leads to it any more. Those fds go to one
// process: the spawner, cloned from the command process after every restriction applied (as a
// child of the sandbox's init, so no program of the agent finds an unexpected child):
// it runs under the same Landlock domain, seccomp filter, rlimits and capabilities as the
// command, and so does every tool it starts. It is not dumpable, so nothing in the sandbox can
// read its memory or open its fds through /proc.
//
// The spawner starts exactly what the supervisor asks over a private socket, with the stdio and
// working directory the shim handed over, and reports the tool's pid and, later, its wait
// status. A shim never holds a real tool's fd: an agent talking to the broker directly can get a
// call decided, but cannot run the real program with an argv other than the decided one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// The fds a spawn request carries, in this order.
inline constexpr int kSpawnFdCount = 4;  // stdin, stdout, stderr, working directory (O_PATH)

struct SpawnRequest {
  std::uint64_t call_id = 0;
  std::uint32_t tool_index = 0;  // into the kShim ops' real fds, in plan order
  std::int32_t pgid = 0;         // joined when possible, so the terminal's job control works
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value"
};

enum class SpawnerEventType : std::uint32_t {
  kStarted = 3,  // sent only when the start failed: value is -errno
  kExited = 4,   // value: its wait status
};

struct SpawnerEvent {
  SpawnerEventType type = SpawnerEventType::kStarted;
  std::uint32_t reserved = 0;
  std::uint64_t call_id = 0;
  std::int32_t value = 0;
  std::int32_t reserved2 = 0;
};
static_assert(sizeof(SpawnerEvent) == 24);

// ---- supervisor side

// The frames the supervisor sends. A spawn request's kSpawnFdCount fds must go with its first
// byte (kernel::SendWithFds, or a queue that sends them with the frame's first chunk).
std::string EncodeSpawnRequest(const SpawnRequest& request);
std::string EncodeSpawnSignal(std::uint64_t call_id, int signo);

// Collects events from a non-blocking channel. Read() returns false when the spawner is gone.
class SpawnerEventReader {
 public:
  bool Read(int channel, std::vector<SpawnerEvent>* events);

 private:
  std::string pending_;
};

// ---- sandbox side

// In the init, after the view is built and before capabilities are dropped: a listening unix
// socket at `socket_path` in the directory `dir` (a tmpfs of its own), then `dir` made
// read-only so nothing in the sandbox can replace the socket.
Status CreateBrokerListener(const char* dir, const char* socket_path, int* listener);

// Never returns. `channel` is the spawner's end of the supervisor's socket, `real_fds` the
// outcome of the kShim ops (mountns.h).
[[noreturn]] void RunToolSpawner(int channel, const std::vector<int>& real_fds);

// In the command process, after its restrictions: starts the spawner as a child of the init
// (CLONE_PARENT).
Status StartToolSpawner(int channel, const std::vector<int>& real_fds);

}  // namespace tollgate::kernel
