// What `tollgate run` and `tollgate serve` (docs/SERVE.md) say to each other over the server's
// unix socket, and where that socket is.
//
// The client sends one RunRequest as a frame (a 32-bit length, then the bytes) with its stdin,
// stdout and stderr attached. The answer is one byte: kMiss (followed by a reason, then end of
// file: the client launches the run itself) or kAccepted (a prepared sandbox runs the command).
// After kAccepted the client writes one byte per signal it receives, to be forwarded to the
// command, and reads kExit with the 32-bit exit status tollgate run would have had. Both ends
// are one build of tollgate (the request names its executable, and a server of another build
// answers kMiss): native byte order, no versioning.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/kernel/status.h"

namespace tollgate::serve {

inline constexpr char kMiss = 'M';
inline constexpr char kAccepted = 'A';
inline constexpr char kExit = 'X';
// From a prepared run's supervisor to the server: ready for a command.
inline constexpr char kReady = 'R';

struct RunRequest {
  std::string executable;            // ExecutableIdentity() of the client
  std::vector<std::string> options;  // tollgate's arguments up to the command (no argv[0])
  std::string cwd;
  std::vector<std::string> env;  // the client's environment, NAME=value, in its order
  bool stderr_is_terminal = false;
  std::vector<std::string> command;
};

std::string EncodeRequest(const RunRequest& request);
// False unless `bytes` is exactly one encoded request.
bool DecodeRequest(std::string_view bytes, RunRequest* request);

// What a prepared sandbox is prepared for: SHA-256 over everything in the request but the
// command. Two requests with one key get the same sandbox.
std::string RequestKey(const RunRequest& request);

// The running tollgate executable: device, inode, size and modification time of
// /proc/self/exe. Another build (or a reinstall) is another identity.
std::string ExecutableIdentity();

// The server's socket: $TOLLGATE_SERVE_SOCKET when set; for root /run/tollgate/serve.sock;
// otherwise $XDG_RUNTIME_DIR/tollgate/serve.sock, or /tmp/tollgate-UID/serve.sock without it.
// "off" in the variable: no server is used. Empty when off.
std::string SocketPath();

// A frame: a 32-bit length and the bytes, with `count` fds attached (at most 4).
kernel::Status SendFrame(int socket, const std::string& bytes, const int* fds, int count);
// Receives a frame of at most `max_size` bytes; up to `max_fds` fds (O_CLOEXEC). False on end
// of file, error, or a frame too large.
bool ReceiveFrame(int socket, std::size_t max_size, std::string* bytes, int* fds, int max_fds,
                  int* fd_count);

// A request is at most this large (the environment is most of it).
inline constexpr std::size_t kMaxRequestBytes = 4u << 20;

}  // namespace tollgate::serve
