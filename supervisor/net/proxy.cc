#include "supervisor/net/proxy.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <utility>

#include "supervisor/net/http_head.h"
#include "supervisor/net/socks5.h"

namespace tollgate::net {
namespace {

// Bytes held per direction of a relayed connection before the proxy stops reading the sender:
// large enough that a bulk transfer moves in few system calls (1 MiB moves ~15% faster than
// 256 KiB through the proxy, docs/BENCHMARKS.md §7). A direction's buffer starts at
// kRelayStart and grows to that only while the buffers of all connections together stay within
// kRelayBudget, so that 256 connections stay within a few tens of MiB.
constexpr std::size_t kRelayBuffer = 1024 * 1024;
constexpr std::size_t kRelayStart = 16 * 1024;
constexpr std::size_t kRelayBudget = 64 * 1024 * 1024;
constexpr std::uint64_t kRelayTurn = 4 * 1024 * 1024;

// The bytes allocated for relay buffers, by every proxy of the process (they all run on the
// supervisor's event loop).
std::size_t relay_allocated = 0;

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t Seconds(std::uint64_t seconds) {
  return static_cast<std::int64_t>(seconds) * 1'000'000'000;
}

std::vector<policy::IpAddress> InterfaceAddresses() {
  std::vector<policy::IpAddress> out;
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    policy::IpAddress address;
    if (entry->ifa_addr->sa_family == AF_INET) {
      std::memcpy(address.bytes.data(),
                  &reinterpret_cast<const struct sockaddr_in*>(entry->ifa_addr)->sin_addr, 4);
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      address.v6 = true;
      std::memcpy(address.bytes.data(),
                  &reinterpret_cast<const struct sockaddr_in6*>(entry->ifa_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
  }
  ::freeifaddrs(list);
  return out;
}

socklen_t ToSockaddr(const policy::IpAddress& address, std::uint16_t port,
                     struct sockaddr_storage* storage) {
  std::memset(storage, 0, sizeof *storage);
  if (address.v6) {
    auto* v6 = reinterpret_cast<struct sockaddr_in6*>(storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    std::memcpy(&v6->sin6_addr, address.bytes.data(), 16);
    return sizeof *v6;
  }
  auto* v4 = reinterpret_cast<struct sockaddr_in*>(storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  std::memcpy(&v4->sin_addr, address.bytes.data(), 4);
  return sizeof *v4;
}

std::string PeerText(int fd) {
  struct sockaddr_in peer {};
  socklen_t size = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&peer), &size) != 0 ||
      peer.sin_family != AF_INET)
    return {};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(peer.sin_port));
}

int SocketError(int fd) {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
  return error != 0 ? error : ECONNRESET;
}

void NoDelay(int fd) {
  // A relay must not add Nagle's delay to the small writes of a TLS handshake or an RPC.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::uint8_t SocksReplyForErrno(int error) {
  switch (error) {
    case ECONNREFUSED:
      return socks_reply::kConnectionRefused;
    case ENETUNREACH:
      return socks_reply::kNetworkUnreachable;
    case ETIMEDOUT:
      return socks_reply::kTtlExpired;
    default:
      return socks_reply::kHostUnreachable;
  }
}

// What one side sent and the other has not taken yet, read into in place and written from in
// place. Allocated when first used (a refused connection never needs one) at kRelayStart bytes,
// uninitialised, and doubled each time a read fills all the room it had or finds it full, up to
// kRelayBuffer and within kRelayBudget: only a bulk transfer gets a large buffer. (A buffer of
// 256 KiB zero-filled for each direction of every connection, then freed, was half of the time
// a CONNECT took.) Answers and forwarded heads are appended and may grow it beyond kRelayBuffer.
struct Buffer {
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;
  std::size_t begin = 0;
  std::size_t end = 0;

  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { relay_allocated -= capacity; }

  std::size_t size() const { return end - begin; }
  bool empty() const { return begin == end; }
  const char* Data() const { return data.get() + begin; }
  // Whether a read may take more: less than kRelayBuffer held, and room for it.
  bool HasRoom() const {
    return size() < kRelayBuffer && (capacity == 0 || size() < capacity || CanGrow());
  }
  // Where the next read goes and how much it may take; only when HasRoom().
  char* Room(std::size_t* room) {
    if (capacity == 0) {
      Reallocate(kRelayStart);
    } else if ((filled_room_ || size() == capacity) && CanGrow()) {
      Reallocate(std::min(capacity * 2, kRelayBuffer));
    }
    filled_room_ = false;
    if (begin > 0 && end == capacity) Compact();
    *room = std::min(capacity - end, kRelayBuffer - std::min(size(), kRelayBuffer));
    last_room_ = *room;
    return data.get() + end;
  }
  void Filled(std::size_t n) {
    end += n;
    filled_room_ = n == last_room_;
  }
  void Consume(std::size_t n) {
    begin += n;
    if (begin == end) begin = end = 0;
  }
  void Append(std::string_view bytes) {
    if (bytes.empty()) return;  // nothing to hold: no buffer needed yet
    if (capacity - end < bytes.size() && begin > 0) Compact();
    if (capacity - end < bytes.size()) Reallocate(std::max(end + bytes.size(), kRelayStart));
    std::memcpy(data.get() + end, bytes.data(), bytes.size());
    end += bytes.size();
  }

 private:
  bool CanGrow() const {
    return capacity < kRelayBuffer &&
           relay_allocated + std::min(capacity * 2, kRelayBuffer) - capacity <= kRelayBudget;
  }
  void Compact() {
    std::memmove(data.get(), data.get() + begin, size());
    end -= begin;
    begin = 0;
  }
  void Reallocate(std::size_t to) {
    std::unique_ptr<char[]> bigger(new char[to]);
    if (!empty()) std::memcpy(bigger.get(), data.get() + begin, size());
    end -= begin;
    begin = 0;
    data = std::move(bigger);
    relay_allocated += to - capacity;
    capacity = to;
  }

  bool filled_room_ = false;  // the last read took all the room it was given
  std::size_t last_room_ = 0;
};

audit::Json AddressesJson(const std::vector<policy::AddressVerdict>& verdicts) {
  audit::Json out = audit::Json::array();
  for (const policy::AddressVerdict& v : verdicts) {
    audit::Json entry = {{"ip", v.address.ToString()},
                         {"class", policy::AddressClassName(v.address_class)},
                         {"verdict", v.allowed ? "allow" : "deny"}};
    if (!v.allowed) entry["rule"] = v.rule;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

struct NetworkProxy::Session {
  enum class Protocol { kHttp, kSocks };
  enum class State { kRequest, kResolving, kConnecting, kRelaying, kAnswering };
  std::uint64_t id = 0;
  Protocol protocol = Protocol::kHttp;
  State state = State::kRequest;
  int client = -1;
  int upstream = -1;
  std::string client_address;
  std::string received;     // the request, and whatever came after it before the connect
  std::size_t scanned = 0;  // bytes of `received` searched for the end of the HTTP head
  // SOCKS: the greeting was answered; its bytes are no longer in `received`.
  bool greeted = false;
  std::size_t request_length = 0;  // bytes of `received` that were the request

  std::string kind;       // "http", "connect", "socks5"
  std::string requested;  // the host as the client wrote it
  policy::HostName host;
  std::uint16_t port = 0;
  HttpRequestHead head;
  std::string rule;
  std::string why;
  std::vector<policy::AddressVerdict> verdicts;
  std::size_t next_candidate = 0;
  std::string connected_address;
  std::string last_error;

  Buffer up;    // toward the upstream
  Buffer down;  // toward the client
  bool client_eof = false;
  bool upstream_eof = false;
  bool up_shut = false;
  bool down_shut = false;

  std::int64_t accepted_ns = 0;
  std::int64_t deadline_ns = 0;  // request or connect deadline, while one applies
  std::int64_t last_activity_ns = 0;
  std::int64_t connected_ns = 0;
  std::uint64_t bytes_out = 0;  // written to the upstream
  std::uint64_t bytes_in = 0;   // read from the upstream
  bool close_recorded = false;
  bool allow_recorded = false;   // its net.connect (allow) is written
  bool client_detached = false;  // out of epoll: it hung up (its data is still read)
  bool upstream_detached = false;
  int last_errno = 0;  // of the last failed connect
};

NetworkProxy::NetworkProxy(ProxyOptions options, int epoll_fd)
    : options_(std::move(options)), epoll_fd_(epoll_fd) {
  if (options_.host_addresses.empty()) options_.host_addresses = InterfaceAddresses();
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (timer_fd_ >= 0) Watch(timer_fd_, FdRole::kTimer, nullptr, EPOLLIN);
  Watch(resolver_.fd(), FdRole::kResolver, nullptr, EPOLLIN);
}

NetworkProxy::~NetworkProxy() {
  // Connections still open at the end of the run are closed, and recorded as such.
  std::vector<Session*> open;
  for (auto& [id, session] : sessions_) open.push_back(session.get());
  for (Session* s : open) {
    if (s->last_error.empty()) s->last_error = "the run ended";
    Close(s);
  }
  EndOfBatch();
  for (int fd : {http_listener_, socks_listener_, timer_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void NetworkProxy::Discard(int fd) {
  // Out of epoll now, closed after the current batch of events: an event of this batch for the
  // same number must not reach whoever would get that number next (launcher.cc dispatches by fd).
  fds_.erase(fd);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  closing_.push_back(fd);
}

void NetworkProxy::Detach(Session* s, bool client) {
  int fd = client ? s->client : s->upstream;
  bool& detached = client ? s->client_detached : s->upstream_detached;
  if (fd < 0 || detached) return;
  // A hung-up socket stays readable for epoll whatever the interest: out of epoll, it is read
  // when the other side makes room (Relay), until its data and its end are taken.
  fds_.erase(fd);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  detached = true;
}

void NetworkProxy::EndOfBatch() {
  for (int fd : closing_) ::close(fd);
  closing_.clear();
}

void NetworkProxy::Watch(int fd, FdRole role, Session* s, std::uint32_t events) {
  struct epoll_event event {};
  event.events = events;
  event.data.fd = fd;
  auto [it, inserted] = fds_.try_emplace(fd, Watched{role, s, events});
  if (inserted) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  } else {
    it->second = Watched{role, s, events};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
}

void NetworkProxy::SetListeners(int http, int socks) {
  http_listener_ = http;
  socks_listener_ = socks;
  if (http >= 0) Watch(http, FdRole::kHttpListener, nullptr, EPOLLIN);
  if (socks >= 0) Watch(socks, FdRole::kSocksListener, nullptr, EPOLLIN);
}

bool NetworkProxy::Owns(int fd) const {
  return fds_.count(fd) != 0;
}

void NetworkProxy::PauseListeners(bool pause) {
  if (pause == listeners_paused_) return;
  listeners_paused_ = pause;
  // At the connection limit, new clients wait in the listen backlog instead of being accepted.
  for (auto [fd, role] : {std::pair{http_listener_, FdRole::kHttpListener},
                          std::pair{socks_listener_, FdRole::kSocksListener}}) {
    if (fd >= 0) Watch(fd, role, nullptr, pause ? 0u : static_cast<std::uint32_t>(EPOLLIN));
  }
}

void NetworkProxy::ArmTimer() {
  if (timer_fd_ < 0) return;
  // A tick a second while connections exist (or accepting waits for free fds): deadlines are
  // seconds, and a sweep of a few hundred sessions costs microseconds. Set only when that
  // changes: re-arming at every accept would keep a steady trickle of clients from ever
  // letting it fire.
  const bool wanted = !sessions_.empty() || starved_;
  if (wanted == timer_armed_) return;
  timer_armed_ = wanted;
  struct itimerspec spec {};
  if (wanted) {
    spec.it_value.tv_sec = 1;
    spec.it_interval.tv_sec = 1;
  }
  ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
}

bool NetworkProxy::OnReady(int fd, std::uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return !audit_failed_;
  Watched watched = it->second;
  switch (watched.role) {
    case FdRole::kHttpListener:
      Accept(fd, false);
      break;
    case FdRole::kSocksListener:
      Accept(fd, true);
      break;
    case FdRole::kResolver:
      OnResolved();
      break;
    case FdRole::kTimer:
      OnTimer();
      break;
    case FdRole::kClient:
      OnClient(watched.session, events);
      break;
    case FdRole::kUpstream:
      OnUpstream(watched.session, events);
      break;
  }
  return !audit_failed_;
}

bool NetworkProxy::Accept(int listener, bool socks) {
  // A few at a time, so that a flood of clients does not hold the loop.
  for (int i = 0; i < 16 && sessions_.size() < options_.network->limits.connections; ++i) {
    int client = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0 && (errno == EMFILE || errno == ENFILE)) {
      // No fd for it: the client waits in the backlog; the timer tries again (a listener left
      // readable would be reported again at once, forever).
      starved_ = true;
      PauseListeners(true);
      ArmTimer();
      return true;
    }
    if (client < 0) break;
    auto session = std::make_unique<Session>();
    Session* s = session.get();
    s->id = next_id_++;
    s->protocol = socks ? Session::Protocol::kSocks : Session::Protocol::kHttp;
    s->kind = socks ? "socks5" : "http";
    s->client = client;
    s->client_address = PeerText(client);
    s->accepted_ns = s->last_activity_ns = NowNs();
    s->deadline_ns = s->accepted_ns + Seconds(options_.network->limits.header_seconds);
    NoDelay(client);
    sessions_.emplace(s->id, std::move(session));
    ++stats_.accepted;
    Watch(client, FdRole::kClient, s, EPOLLIN);
  }
  PauseListeners(sessions_.size() >= options_.network->limits.connections);
  ArmTimer();
  return true;
}

bool NetworkProxy::OnClient(Session* s, std::uint32_t events) {
  if (s->state == Session::State::kRelaying || s->state == Session::State::kAnswering) {
    if (events & EPOLLERR) {
      s->last_error =
          std::string("the client's connection failed: ") + std::strerror(SocketError(s->client));
      Close(s);
      return true;
    }
    const std::uint64_t id = s->id;
    Relay(s);
    if ((events & EPOLLHUP) && sessions_.count(id)) Detach(s, /*client=*/true);
    return true;
  }
  if (s->state != Session::State::kRequest) {
    // Waiting for a name or a connect: the client's bytes wait in its socket. A client that
    // went away ends the attempt.
    if (events & (EPOLLHUP | EPOLLERR)) {
      s->last_error = "the client closed the connection";
      Close(s);
    }
    return true;
  }
  // The request: read no more than the head may be, plus one byte to know it was too long.
  const std::size_t limit = options_.network->limits.header_bytes + 1;
  char buffer[4096];
  std::size_t room = limit > s->received.size() ? limit - s->received.size() : 0;
  ssize_t n = ::read(s->client, buffer, std::min(room, sizeof buffer));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) {
    s->last_error = n == 0 ? "the client closed the connection before its request"
                           : std::string("reading the request: ") + std::strerror(errno);
    // Nothing was asked for: nothing to decide, but the attempt is recorded.
    Refuse(s, "request", s->last_error, 0, 0);
    return true;
  }
  s->received.append(buffer, static_cast<std::size_t>(n));
  s->last_activity_ns = NowNs();
  return s->protocol == Session::Protocol::kHttp ? HandleHttpHead(s) : HandleSocks(s);
}

bool NetworkProxy::HandleHttpHead(Session* s) {
  // Parse once the head is complete (or too long): parsing from the start at every read would
  // let a client sending a byte at a time cost quadratic time in the head's size.
  const bool first_read = s->scanned == 0;  // parsed at once: garbage is refused at once
  std::size_t from = s->scanned > 3 ? s->scanned - 3 : 0;
  s->scanned = s->received.size();
  // "\n\r\n" ends a well-formed head; "\n\n" one the parser refuses (bare LF) — at once.
  if (!first_read && s->received.find("\n\r\n", from) == std::string::npos &&
      s->received.find("\n\n", from) == std::string::npos &&
      s->received.size() <= options_.network->limits.header_bytes)
    return true;
  HttpLimits limits;
  limits.max_head_bytes = options_.network->limits.header_bytes;
  HttpParse parse = ParseRequestHead(s->received, limits);
  if (parse.state == ParseState::kIncomplete) return true;
  if (parse.state == ParseState::kError) {
    return Refuse(s, "request", "malformed request: " + parse.error, parse.status, 0);
  }
  s->head = std::move(parse.head);
  s->request_length = s->head.head_length;
  s->kind = s->head.is_connect ? "connect" : "http";
  s->requested = s->head.authority.host;
  s->port = s->head.authority.port;
  policy::HostNameResult target = policy::NormaliseHostName(s->head.authority.host);
  if (!target.host) return Refuse(s, "host-name", "refused host name: " + target.error, 400, 0);
  s->host = *target.host;
  if (s->head.host_header) {
    // The target decides where the request goes and the Host header decides what the server
    // serves: both must name the same host, or an allowed target could carry a request for
    // another site (virtual hosting on a shared front end).
    policy::HostNameResult named = policy::NormaliseHostName(s->head.host_header->host);
    if (!named.host || named.host->name != s->host.name ||
        s->head.host_header->port != s->head.authority.port) {
      return Refuse(s, "host-header",
                    "the Host header names \"" +
                        (named.host ? named.host->name : std::string("?")) + ":" +
                        std::to_string(s->head.host_header->port) + "\", the request target \"" +
                        s->host.name + ":" + std::to_string(s->port) + "\"; they must agree",
                    400, 0);
    }
  }
  return Decide(s);
}

bool NetworkProxy::HandleSocks(Session* s) {
  if (!s->greeted) {
    SocksGreeting greeting = ParseSocksGreeting(s->received);
    if (greeting.state == ParseState::kIncomplete) return true;
    if (greeting.state == ParseState::kError || !greeting.offers_no_auth) {
      std::string why = greeting.state == ParseState::kError
                            ? "malformed SOCKS greeting: " + greeting.error
                            : "the client offers no method without authentication";
      bool recorded = RecordRefusal(s, "request", why);
      // A greeting is answered with a method choice, not a reply (SOCKS4 gets nothing).
      if (greeting.socks4)
        Close(s);
      else
        SendToClient(s, SocksMethodChoice(false));
      return recorded;
    }
    s->received.erase(0, greeting.consumed);
    s->greeted = true;
    // Two bytes into a socket that has not been written to: they fit.
    std::string choice = SocksMethodChoice(true);
    if (::send(s->client, choice.data(), choice.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(choice.size())) {
      return Refuse(s, "request", std::string("answering the greeting: ") + std::strerror(errno), 0,
                    0);
    }
    if (s->received.empty()) return true;
  }
  SocksRequest request = ParseSocksRequest(s->received);
  if (request.state == ParseState::kIncomplete) return true;
  if (request.state == ParseState::kError) {
    return Refuse(s, "request", "malformed SOCKS request: " + request.error, 0, request.reply);
  }
  s->request_length = request.consumed;
  s->requested = request.host;
  s->port = request.port;
  // The name checked is the name connected to: it is taken from this one message and never
  // looked at again.
  policy::HostNameResult target = policy::NormaliseHostName(request.host);
  if (!target.host) {
    return Refuse(s, "host-name", "refused host name: " + target.error, 0,
                  socks_reply::kNotAllowed);
  }
  s->host = *target.host;
  return Decide(s);
}

bool NetworkProxy::Decide(Session* s) {
  const policy::NetworkRules& rules = options_.network->rules;
  policy::NameDecision decision =
      policy::DecideHost(rules, s->host, s->port, options_.host_addresses);
  s->rule = decision.rule;
  s->why = decision.why;
  if (!decision.allowed)
    return Refuse(s, decision.rule, decision.why, 403, socks_reply::kNotAllowed);
  // The request is complete: what the client sends next waits in its socket until the relay.
  Watch(s->client, FdRole::kClient, s, 0);
  s->deadline_ns = NowNs() + Seconds(options_.network->limits.connect_seconds);
  if (s->host.address) return Decided(s, {*s->host.address}, {}, 502);
  s->state = Session::State::kResolving;
  resolver_.Resolve(s->id, s->host.name);
  return true;
}

bool NetworkProxy::OnResolved() {
  for (ResolveAnswer& answer : resolver_.TakeAnswers()) {
    auto it = sessions_.find(answer.id);
    // Gone meanwhile (timed out, or the client left): the answer is dropped.
    if (it == sessions_.end() || it->second->state != Session::State::kResolving) continue;
    std::string failure;
    if (answer.error != 0)
      failure = "cannot resolve " + it->second->host.name + ": " + ::gai_strerror(answer.error);
    if (!Decided(it->second.get(), answer.addresses, failure, 502)) return false;
  }
  return true;
}

bool NetworkProxy::RecordAllowed(Session* s) {
  audit::Event event;
  event.kind = std::string(audit::kKindNetConnect);
  event.verdict = audit::Verdict::kAllow;
  event.rule = s->rule;
  event.reason = s->why;
  event.details["connection"] = s->id;
  event.details["protocol"] = s->kind;
  event.details["host"] = s->host.name;
  if (s->requested != s->host.name)
    event.details["requested"] = event.strings.String(s->requested, "details.requested");
  event.details["port"] = s->port;
  event.details["addresses"] = AddressesJson(s->verdicts);
  for (const policy::AddressVerdict& v : s->verdicts) {
    if (v.allowed) {
      event.details["ip"] = v.address.ToString();
      break;
    }
  }
  if (!s->client_address.empty()) event.details["client"] = s->client_address;
  s->allow_recorded = true;
  if (options_.audit->Append(event)) return true;
  audit_failed_ = true;
  return false;
}

bool NetworkProxy::Decided(Session* s, const std::vector<policy::IpAddress>& addresses,
                           const std::string& resolve_failure, int failure_status) {
  s->verdicts = policy::DecideAddresses(options_.network->rules, s->host, s->port, addresses,
                                        options_.host_addresses);
  const policy::AddressVerdict* first_refused = nullptr;
  bool any_allowed = false;
  for (const policy::AddressVerdict& v : s->verdicts) {
    if (v.allowed) any_allowed = true;
    if (!v.allowed && first_refused == nullptr) first_refused = &v;
  }
  if (resolve_failure.empty() && !any_allowed && first_refused != nullptr) {
    return Refuse(s, first_refused->rule, first_refused->why, 403, socks_reply::kNotAllowed);
  }
  // Permitted: the record comes first, then the connect.
  if (!RecordAllowed(s)) {
    s->last_error = "the audit log could not be written";
    s->close_recorded = true;  // before the answer, which may end (and free) the session
    SendToClient(s, s->protocol == Session::Protocol::kSocks
                        ? SocksReply(socks_reply::kGeneralFailure)
                        : ErrorResponse(503,
                                        "tollgate: refused: the audit log could not be "
                                        "written\n"));
    return false;
  }
  ++stats_.connected;
  if (!resolve_failure.empty()) {
    FailUpstream(s, resolve_failure, failure_status, socks_reply::kHostUnreachable);
    return true;
  }
  s->state = Session::State::kConnecting;
  return ConnectNext(s);
}

bool NetworkProxy::ConnectNext(Session* s) {
  while (s->next_candidate < s->verdicts.size()) {
    const policy::AddressVerdict& v = s->verdicts[s->next_candidate++];
    if (!v.allowed) continue;
    struct sockaddr_storage storage;
    socklen_t size = ToSockaddr(v.address, s->port, &storage);
    int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      s->last_error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    if (::connect(fd, reinterpret_cast<struct sockaddr*>(&storage), size) == 0 ||
        errno == EINPROGRESS) {
      s->upstream = fd;
      s->connected_address = v.address.ToString();
      Watch(fd, FdRole::kUpstream, s, EPOLLOUT);
      return true;  // OnUpstream learns how it went
    }
    s->last_errno = errno;
    s->last_error = v.address.ToString() + ": " + std::strerror(errno);
    ::close(fd);  // never in epoll: no event of it can be pending
  }
  FailUpstream(s,
               "cannot connect to " + s->host.name + ":" + std::to_string(s->port) + " (" +
                   s->last_error + ")",
               502, SocksReplyForErrno(s->last_errno));
  return true;
}

bool NetworkProxy::OnUpstream(Session* s, std::uint32_t events) {
  if (s->state == Session::State::kConnecting) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(s->upstream, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error == 0 && !(events & EPOLLERR)) {
      Connected(s);
      return true;
    }
    if (error == 0) error = ECONNREFUSED;
    s->last_errno = error;
    s->last_error = s->connected_address + ": " + std::strerror(error);
    Discard(s->upstream);
    s->upstream = -1;
    s->connected_address.clear();
    return ConnectNext(s);
  }
  if (events & EPOLLERR) {
    // A reset: what it had sent and the proxy still holds is cut off with it.
    s->last_error = std::string("the connection to the host failed: ") +
                    std::strerror(SocketError(s->upstream));
    Close(s);
    return true;
  }
  const std::uint64_t id = s->id;
  Relay(s);
  if ((events & EPOLLHUP) && sessions_.count(id)) Detach(s, /*client=*/false);
  return true;
}

void NetworkProxy::Connected(Session* s) {
  s->state = Session::State::kRelaying;
  s->connected_ns = s->last_activity_ns = NowNs();
  s->deadline_ns = 0;
  NoDelay(s->upstream);
  std::string_view early = std::string_view(s->received).substr(s->request_length);
  if (s->protocol == Session::Protocol::kSocks) {
    s->down.Append(SocksReply(socks_reply::kSucceeded));
  } else if (s->head.is_connect) {
    s->down.Append("HTTP/1.1 200 Connection established\r\n\r\n");
  } else {
    s->up.Append(UpstreamRequestHead(s->head));
  }
  s->up.Append(early);
  s->received.clear();
  s->received.shrink_to_fit();
  Relay(s);
}

bool NetworkProxy::RecordRefusal(Session* s, const std::string& rule, const std::string& why) {
  ++stats_.refused;
  audit::Event event;
  event.kind = std::string(audit::kKindNetConnect);
  event.verdict = audit::Verdict::kDeny;
  event.rule = rule;
  event.reason = why;
  event.details["connection"] = s->id;
  event.details["protocol"] = s->kind;
  if (!s->host.name.empty()) event.details["host"] = s->host.name;
  if (!s->requested.empty() && s->requested != s->host.name)
    event.details["requested"] = event.strings.String(s->requested, "details.requested");
  if (s->port != 0) event.details["port"] = s->port;
  if (!s->verdicts.empty()) event.details["addresses"] = AddressesJson(s->verdicts);
  if (!s->client_address.empty()) event.details["client"] = s->client_address;
  s->close_recorded = true;  // a refused connection has no second record
  if (options_.audit->Append(event)) return true;
  audit_failed_ = true;
  return false;
}

bool NetworkProxy::Refuse(Session* s, const std::string& rule, const std::string& why,
                          int http_status, std::uint8_t socks_reply) {
  bool recorded = RecordRefusal(s, rule, why);
  std::string what = s->host.name.empty() ? std::string("the request")
                                          : s->host.name + ":" + std::to_string(s->port);
  if (s->protocol == Session::Protocol::kSocks && socks_reply != 0 && s->greeted) {
    SendToClient(s, SocksReply(socks_reply));
  } else if (s->protocol == Session::Protocol::kHttp && http_status != 0) {
    std::string body = "tollgate: " + what + " refused by profile " + options_.profile + ": " +
                       why + " (rule " + rule + ")\n";
    SendToClient(s, ErrorResponse(http_status, body));
  } else {
    Close(s);
  }
  return recorded;
}

void NetworkProxy::FailUpstream(Session* s, const std::string& error, int http_status,
                                std::uint8_t socks_reply) {
  s->last_error = error;
  if (s->protocol == Session::Protocol::kSocks) {
    SendToClient(s, SocksReply(socks_reply));
  } else {
    SendToClient(s, ErrorResponse(http_status, "tollgate: " + error + "\n"));
  }
}

void NetworkProxy::SendToClient(Session* s, const std::string& bytes) {
  // An answer ends the session once it is written (or the client stops reading it).
  if (s->upstream >= 0) {
    Discard(s->upstream);
    s->upstream = -1;
  }
  s->state = Session::State::kAnswering;
  s->down.Append(bytes);
  s->client_eof = true;  // nothing more is read from it
  s->upstream_eof = true;
  s->deadline_ns = NowNs() + Seconds(options_.network->limits.header_seconds);
  Relay(s);
}

void NetworkProxy::Relay(Session* s) {
  const bool relaying = s->state == Session::State::kRelaying;
  auto fail = [&](const char* what, int error) {
    if (s->last_error.empty()) s->last_error = std::string(what) + ": " + std::strerror(error);
    Close(s);
  };
  // Read what fits, write what is held, each way, until nothing moves: the socket buffers are
  // then full or empty, and epoll says when that changes.
  // At most kRelayTurn bytes per call: a bulk transfer does not hold the loop (level-triggered
  // epoll reports the rest at once).
  std::uint64_t moved_before = s->bytes_in + s->bytes_out;
  bool progress = true;
  while (progress && s->bytes_in + s->bytes_out - moved_before < kRelayTurn) {
    progress = false;
    if (relaying && !s->client_eof && s->up.HasRoom()) {
      std::size_t room = 0;
      char* into = s->up.Room(&room);
      ssize_t n = ::read(s->client, into, room);
      if (n > 0) {
        s->up.Filled(static_cast<std::size_t>(n));
        progress = true;
      } else if (n == 0) {
        s->client_eof = progress = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return fail("reading from the client", errno);
      }
    }
    if (relaying && !s->up.empty()) {
      ssize_t n = ::send(s->upstream, s->up.Data(), s->up.size(), MSG_NOSIGNAL);
      if (n > 0) {
        s->up.Consume(static_cast<std::size_t>(n));
        s->bytes_out += static_cast<std::uint64_t>(n);
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return fail("writing to the host", errno);
      }
    }
    if (relaying && s->client_eof && s->up.empty() && !s->up_shut) {
      ::shutdown(s->upstream, SHUT_WR);
      s->up_shut = true;
    }
    if (relaying && !s->upstream_eof && s->down.HasRoom()) {
      std::size_t room = 0;
      char* into = s->down.Room(&room);
      ssize_t n = ::read(s->upstream, into, room);
      if (n > 0) {
        s->down.Filled(static_cast<std::size_t>(n));
        s->bytes_in += static_cast<std::uint64_t>(n);
        progress = true;
      } else if (n == 0) {
        s->upstream_eof = progress = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return fail("reading from the host", errno);
      }
    }
    if (!s->down.empty()) {
      ssize_t n = ::send(s->client, s->down.Data(), s->down.size(), MSG_NOSIGNAL);
      if (n > 0) {
        s->down.Consume(static_cast<std::size_t>(n));
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return fail("writing to the client", errno);
      }
    }
    if (relaying && s->upstream_eof && s->down.empty() && !s->down_shut) {
      ::shutdown(s->client, SHUT_WR);
      s->down_shut = true;
    }
    if (progress) s->last_activity_ns = NowNs();
  }
  if ((relaying && s->client_eof && s->upstream_eof && s->up.empty() && s->down.empty()) ||
      (s->state == Session::State::kAnswering && s->down.empty())) {
    Close(s);
    return;
  }
  UpdateInterest(s);
}

void NetworkProxy::UpdateInterest(Session* s) {
  std::uint32_t client = 0, upstream = 0;
  if (s->state == Session::State::kRelaying) {
    if (!s->client_eof && s->up.HasRoom()) client |= EPOLLIN;
    if (!s->upstream_eof && s->down.HasRoom()) upstream |= EPOLLIN;
    if (!s->up.empty()) upstream |= EPOLLOUT;
  }
  if (!s->down.empty()) client |= EPOLLOUT;
  if (s->client >= 0 && !s->client_detached && fds_[s->client].events != client)
    Watch(s->client, FdRole::kClient, s, client);
  if (s->upstream >= 0 && !s->upstream_detached && fds_[s->upstream].events != upstream)
    Watch(s->upstream, FdRole::kUpstream, s, upstream);
}

void NetworkProxy::Close(Session* s) {
  if (s->state == Session::State::kResolving) {
    resolver_.Cancel(s->id);
    // The name was allowed: its net.connect comes first, with no address, then how it ended.
    if (!s->close_recorded && !s->allow_recorded) RecordAllowed(s);
  }
  if (!s->close_recorded) {
    s->close_recorded = true;
    audit::Event event;
    event.kind = std::string(audit::kKindNetClose);
    event.verdict = audit::Verdict::kInfo;
    event.rule = s->rule;
    event.details["connection"] = s->id;
    event.details["host"] = s->host.name;
    event.details["port"] = s->port;
    if (!s->connected_address.empty() && s->connected_ns != 0)
      event.details["ip"] = s->connected_address;
    event.details["bytes_out"] = s->bytes_out;
    event.details["bytes_in"] = s->bytes_in;
    std::int64_t now = NowNs();
    event.details["duration_ns"] = now - (s->connected_ns != 0 ? s->connected_ns : s->accepted_ns);
    if (!s->last_error.empty()) {
      event.details["error"] = s->last_error;
      event.reason = s->last_error;
    }
    if (!options_.audit->Append(event)) audit_failed_ = true;
  }
  for (int* fd : {&s->client, &s->upstream}) {
    if (*fd < 0) continue;
    Discard(*fd);
    *fd = -1;
  }
  sessions_.erase(s->id);
  PauseListeners(sessions_.size() >= options_.network->limits.connections);
  ArmTimer();
}

bool NetworkProxy::OnTimer() {
  std::uint64_t ticks;
  (void)!::read(timer_fd_, &ticks, sizeof ticks);
  if (starved_) {  // try accepting again
    starved_ = false;
    PauseListeners(sessions_.size() >= options_.network->limits.connections);
    ArmTimer();
  }
  const std::int64_t now = NowNs();
  const std::int64_t idle = Seconds(options_.network->limits.idle_seconds);
  std::vector<Session*> expired;
  for (auto& [id, session] : sessions_) {
    Session* s = session.get();
    bool late = s->deadline_ns != 0 && now >= s->deadline_ns;
    bool idle_too_long = s->state == Session::State::kRelaying && now - s->last_activity_ns >= idle;
    if (late || idle_too_long) expired.push_back(s);
  }
  for (Session* s : expired) {
    switch (s->state) {
      case Session::State::kRequest:
        // Slow-loris: the whole request within header_timeout, or nothing.
        if (!Refuse(s, "request",
                    "the request was not complete within " +
                        std::to_string(options_.network->limits.header_seconds) + " s",
                    408, socks_reply::kGeneralFailure))
          return false;
        break;
      case Session::State::kResolving:
        // The name was allowed: its record says so, with no address, and why it ended.
        if (!Decided(s, {},
                     "no answer for " + s->host.name + " within " +
                         std::to_string(options_.network->limits.connect_seconds) + " s",
                     504))
          return false;
        break;
      case Session::State::kConnecting:
        FailUpstream(s,
                     "no connection to " + s->host.name + ":" + std::to_string(s->port) +
                         " within " + std::to_string(options_.network->limits.connect_seconds) +
                         " s" + (s->last_error.empty() ? "" : " (" + s->last_error + ")"),
                     504, socks_reply::kHostUnreachable);
        break;
      case Session::State::kRelaying:
        s->last_error = "idle for " + std::to_string(options_.network->limits.idle_seconds) + " s";
        Close(s);
        break;
      case Session::State::kAnswering:
        s->last_error =
            s->last_error.empty() ? "the client did not read the answer" : s->last_error;
        Close(s);
        break;
    }
  }
  return !audit_failed_;
}

}  // namespace tollgate::net
