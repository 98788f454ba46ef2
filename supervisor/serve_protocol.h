// What `tollgate run`, `tollgate serve` and the sandboxes it prepares (docs/SERVE.md) say to
// each other, and where their sockets are.
//
// A prepared sandbox listens on PreparedSocketPath(key) for the one run it is for. The client
// computes the key of its request and connects there first: it sends one RunRequest as a frame
// (a 32-bit length, then the bytes) with its stdin, stdout and stderr attached, and reads one
// byte: kAccepted (the sandbox runs the command) or kMiss (followed by a reason, then end of
// file). After kAccepted the client writes one byte per signal it receives, to be forwarded to
// the command, and reads kExit with the 32-bit exit status tollgate run would have had.
//
// Without a prepared sandbox the client sends the same request, without fds, to the server's
// socket, which always answers kMiss (the client launches the run itself) and prepares a
// sandbox for the next run of that configuration.
//
// All ends are one build of tollgate (the request names its executable, part of the key):
// native byte order, no versioning.
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
// From a prepared sandbox's supervisor to the server: ready for a command (listening); taken by
// a client (the server prepares the next one when that run ends); stale, abandoned because the
// profile changed (the server prepares one anew at once).
inline constexpr char kReady = 'R';
inline constexpr char kTaken = 'T';
inline constexpr char kStale = 'S';

struct RunRequest {
  std::string executable;            // ExecutableIdentity() of the client
  std::vector<std::string> options;  // tollgate's arguments up to the command (no argv[0])
  std::string cwd;
  std::vector<std::string> env;  // the client's environment, NAME=value, in its order
  bool stderr_is_terminal = false;
  std::vector<std::string> command;
};

// This process's request: its executable, `options`, working directory (empty when it cannot
// be read) and environment, with the given stderr and command.
RunRequest RequestOfThisProcess(const std::vector<std::string>& options, bool stderr_is_terminal,
                                const std::vector<std::string>& command = {});

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

// Where the sandbox prepared for requests of `key` listens: next to the server's socket
// (SocketPath() when not given).
std::string PreparedSocketPath(const std::string& key, const std::string& server_socket = {});

// One answer: its byte, then `text` (a kMiss's reason, a kExit's status). False when it could
// not be sent whole.
bool Reply(int socket, char what, const std::string& text = {});

// A frame: a 32-bit length and the bytes, with `count` fds attached (at most 4; 0 sends the
// bytes alone).
kernel::Status SendFrame(int socket, const std::string& bytes, const int* fds, int count);
// Receives a frame of at most `max_size` bytes; up to `max_fds` fds (O_CLOEXEC). False on end
// of file, error, or a frame too large.
bool ReceiveFrame(int socket, std::size_t max_size, std::string* bytes, int* fds, int max_fds,
                  int* fd_count);

// A request is at most this large (the environment is most of it).
inline constexpr std::size_t kMaxRequestBytes = 4u << 20;

}  // namespace tollgate::serve
