// The allowlist proxy: the supervisor's side of network mode "proxy".
//
// The sandbox's network namespace has only loopback. Its init listens on 127.0.0.1:3128 (HTTP)
// and 127.0.0.1:1080 (SOCKS5) there and hands both sockets to the supervisor, which serves them
// from its event loop in the host's namespace: every connection out of the sandbox is one the
// supervisor made, to an address it checked. For each client connection the proxy
//   1. reads one request — an HTTP request head (absolute-form, or CONNECT) or a SOCKS5
//      handshake — within the header time and size limits; malformed input is answered with
//      an error and recorded;
//   2. normalises the host once (policy::NormaliseHostName) and, for HTTP, requires the Host
//      header to name the same host and port as the request target;
//   3. decides by name (policy::DecideHost); a permitted name is resolved here, once
//      (resolver.h), and each address is checked (policy::DecideAddresses: loopback, private,
//      link-local, metadata and the host's own addresses need a rule that names them);
//   4. writes a `net.connect` record — before connecting (no record, no action) — with the
//      verdict, the rule, and every address with its own verdict;
//   5. refuses (HTTP 403 naming the host, the profile and the rule; a SOCKS reply code), or
//      connects to the first allowed address that answers, and relays bytes both ways until
//      both sides are done; then writes `net.close` with the bytes each way and the duration.
// One request per client connection: whatever the client sends after it goes to the host that
// was checked, never to another (a second request in a kept-alive connection, or a CONNECT
// inside a tunnel, reaches only the allowed host).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/audit/writer.h"
#include "supervisor/net/resolver.h"

namespace tollgate::net {

struct ProxyOptions {
  const policy::NetworkPlan* network = nullptr;
  std::string profile;  // named in refusals
  audit::AuditWriter* audit = nullptr;
  // The host's own addresses (its interfaces'), refused like loopback. Empty: read now with
  // getifaddrs().
  std::vector<policy::IpAddress> host_addresses;
};

struct ProxyStats {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::uint64_t connected = 0;
};

class NetworkProxy {
 public:
  NetworkProxy(ProxyOptions options, int epoll_fd);
  ~NetworkProxy();
  NetworkProxy(const NetworkProxy&) = delete;
  NetworkProxy& operator=(const NetworkProxy&) = delete;

  // The listening sockets the init made in the sandbox's namespace (either may be -1).
  void SetListeners(int http, int socks);

  // Whether `fd` is one of the proxy's.
  bool Owns(int fd) const;
  // Handles readiness of one of its fds. False when an audit record could not be written: the
  // run must stop (the connection was refused).
  bool OnReady(int fd, std::uint32_t events);
  // After each batch of events: closes the fds given up during it (see Discard).
  void EndOfBatch();

  const ProxyStats& stats() const { return stats_; }

  struct Session;

 private:
  enum class FdRole { kHttpListener, kSocksListener, kResolver, kTimer, kClient, kUpstream };
  bool Accept(int listener, bool socks);
  bool OnClient(Session* s, std::uint32_t events);
  bool OnUpstream(Session* s, std::uint32_t events);
  bool OnResolved();
  bool OnTimer();
  bool HandleHttpHead(Session* s);
  bool HandleSocks(Session* s);
  // The host and port are known: decide by name, then resolve or connect.
  bool Decide(Session* s);
  // The addresses are known (or `resolve_failure` says why not): check each, record, connect.
  // With a resolve_failure, the answer is `failure_status` (502; 504 for a timeout).
  bool Decided(Session* s, const std::vector<policy::IpAddress>& addresses,
               const std::string& resolve_failure, int failure_status);
  // The `net.connect` record of an allowed connection. False when it could not be written.
  bool RecordAllowed(Session* s);
  bool ConnectNext(Session* s);
  void Connected(Session* s);
  // The `net.connect` record of a refusal (verdict deny). False when it could not be written.
  bool RecordRefusal(Session* s, const std::string& rule, const std::string& why);
  // Refuses with a record and an answer in the client's protocol (none when 0).
  bool Refuse(Session* s, const std::string& rule, const std::string& why, int http_status,
              std::uint8_t socks_reply);
  // Ends an allowed connection that could not be made: net.close with the error, and an answer.
  void FailUpstream(Session* s, const std::string& error, int http_status,
                    std::uint8_t socks_reply);
  void Relay(Session* s);
  void SendToClient(Session* s, const std::string& bytes);
  void UpdateInterest(Session* s);
  void Close(Session* s);
  // Takes `fd` out of epoll now and closes it at EndOfBatch().
  void Discard(int fd);
  // Takes a hung-up side of a session out of epoll (it stays open and is still read).
  void Detach(Session* s, bool client);
  void ArmTimer();
  void Watch(int fd, FdRole role, Session* s, std::uint32_t events);
  void PauseListeners(bool pause);

  ProxyOptions options_;
  int epoll_fd_;
  int http_listener_ = -1;
  int socks_listener_ = -1;
  int timer_fd_ = -1;
  bool listeners_paused_ = false;
  bool timer_armed_ = false;
  bool starved_ = false;      // accept failed for want of fds: retried by the timer
  std::vector<int> closing_;  // closed at EndOfBatch()
  Resolver resolver_;
  struct Watched {
    FdRole role;
    Session* session;
    std::uint32_t events;
  };
  std::map<int, Watched> fds_;
  std::map<std::uint64_t, std::unique_ptr<Session>> sessions_;
  std::uint64_t next_id_ = 1;
  ProxyStats stats_;
  bool audit_failed_ = false;
};

}  // namespace tollgate::net
