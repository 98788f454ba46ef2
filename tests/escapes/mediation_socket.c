// SECURITY.md class 29: talk to the supervisor's broker socket directly, without the shim.
//
// Speaks the frame format of shims/protocol.h by hand (on purpose: a probe that reused the
// project's encoder would share its mistakes) and prints one line per attempt:
//
//   CASE <name> deny exit=<n> msg=<the refusal>     a Decision that refused the call
//   CASE <name> allow status=<wait status>          a Decision that allowed it, then its Exit
//   CASE <name> closed                              the broker hung up without an answer
//   CASE <name> error <what>                        the probe itself could not do the attempt
//
// Usage: probe-mediation_socket abuse <tool-path>      forged and malformed requests
//        probe-mediation_socket flood <tool-path> <n>  n connections at once, each a valid call
//        probe-mediation_socket holds <tool-path>      after an allowed call: which fds this
//                                                      process holds, and the spawner's
//
// <tool-path> is a path the profile mediates (/usr/bin/git); the allowed call is
// `git version`. A Call carries no pid: the broker identifies the caller by SO_PEERCRED, so
// there is no pid field to forge; the pgid field is the caller's word only, and a garbage one
// (999999) must still be served (the tool stays in the spawner's process group).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SOCKET_PATH "/run/tollgate/broker.sock"
#define MAGIC 0x31534754u  // "TGS1"
#define TYPE_CALL 1u
#define TYPE_SIGNAL 2u
#define TYPE_DECISION 3u
#define TYPE_EXIT 4u
// A refusal comes in milliseconds; a connection left unanswered this long is not answered.
#define ANSWER_TIMEOUT_MS 3000
// The flood waits this long for the next answer (1,000 tools run meanwhile, on a shared machine).
#define FLOOD_TIMEOUT_MS 20000

// ---- encoding ----

struct buf {
  char data[8192];
  size_t size;
};

static void put_u32(struct buf* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b->data[b->size++] = (char)(v >> (8 * i));
}

static void put_str(struct buf* b, const char* s) {
  size_t n = strlen(s);
  put_u32(b, (uint32_t)n);
  memcpy(b->data + b->size, s, n);
  b->size += n;
}

static void put_list(struct buf* b, const char* const* items) {
  uint32_t count = 0;
  while (items[count] != NULL) ++count;
  put_u32(b, count);
  for (uint32_t i = 0; i < count; ++i) put_str(b, items[i]);
}

static void header(struct buf* b, uint32_t magic, uint32_t type, uint32_t length) {
  b->size = 0;
  put_u32(b, magic);
  put_u32(b, type);
  put_u32(b, length);
}

static void finish_length(struct buf* b) {
  uint32_t length = (uint32_t)(b->size - 12);
  for (int i = 0; i < 4; ++i) b->data[8 + i] = (char)(length >> (8 * i));
}

static const char* const kEnv[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", NULL};

static void call_frame(struct buf* b, const char* exe, const char* const* argv, int32_t pgid,
                       uint32_t fd_count) {
  header(b, MAGIC, TYPE_CALL, 0);
  put_str(b, exe);
  put_list(b, argv);
  put_str(b, "/");
  put_list(b, kEnv);
  put_u32(b, (uint32_t)pgid);
  put_u32(b, fd_count);
  finish_length(b);
}

// ---- the socket ----

static int connect_broker(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  strcpy(address.sun_path, SOCKET_PATH);
  if (connect(fd, (struct sockaddr*)&address, sizeof address) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

// stdin, stdout, stderr (/dev/null) and the working directory, as the shim passes them.
static int g_fds[4] = {-1, -1, -1, -1};

static int open_call_fds(void) {
  g_fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
  g_fds[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
  g_fds[2] = open("/dev/null", O_WRONLY | O_CLOEXEC);
  g_fds[3] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < 4; ++i) {
    if (g_fds[i] < 0) return -1;
  }
  return 0;
}

static int send_all(int sock, const char* data, size_t size, const int* fds, int fd_count) {
  union {
    char buffer[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } control;
  while (size > 0) {
    struct iovec iov = {(void*)data, size};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd_count > 0) {
      memset(&control, 0, sizeof control);
      msg.msg_control = control.buffer;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)fd_count);
      struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)fd_count);
      memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)fd_count);
    }
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    size -= (size_t)n;
    fd_count = 0;  // the fds ride with the first byte only
  }
  return 0;
}

// ---- answers ----

static uint32_t load_u32(const char* p) {
  const unsigned char* u = (const unsigned char*)p;
  return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

struct answer {
  char pending[2048];
  size_t size;
  int decided;  // 1 allow, 2 deny, 0 none yet
  int exit_code;
  char message[1024];
  int exited;
  int wait_status;
  int closed;
  int bad;  // the supervisor sent something this probe cannot parse
};

// Takes complete frames from a->pending. Returns 1 when the answer is complete (a deny, or an
// allow and its Exit).
static int take_frames(struct answer* a) {
  for (;;) {
    if (a->size < 12) return 0;
    uint32_t magic = load_u32(a->pending), type = load_u32(a->pending + 4),
             length = load_u32(a->pending + 8);
    if (magic != MAGIC || length > sizeof a->pending - 12) {
      a->bad = 1;
      return 1;
    }
    if (a->size < 12 + length) return 0;
    const char* p = a->pending + 12;
    if (type == TYPE_DECISION && length >= 9) {
      a->decided = (unsigned char)p[0];
      a->exit_code = (int32_t)load_u32(p + 1);
      uint32_t n = load_u32(p + 5);
      if (n > length - 9) n = length - 9;
      if (n >= sizeof a->message) n = sizeof a->message - 1;
      memcpy(a->message, p + 9, n);
      a->message[n] = '\0';
    } else if (type == TYPE_EXIT && length == 4) {
      a->exited = 1;
      a->wait_status = (int32_t)load_u32(p);
    } else {
      a->bad = 1;
      return 1;
    }
    memmove(a->pending, a->pending + 12 + length, a->size - 12 - length);
    a->size -= 12 + length;
    if (a->decided == 2 || a->exited) return 1;
  }
}

// Reads what is there; returns 1 when the answer is complete or the peer closed.
static int read_some(int sock, struct answer* a) {
  ssize_t n = read(sock, a->pending + a->size, sizeof a->pending - a->size);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {
    a->closed = 1;
    return 1;
  }
  a->size += (size_t)n;
  return take_frames(a);
}

static void wait_answer(int sock, struct answer* a) {
  memset(a, 0, sizeof *a);
  for (;;) {
    struct pollfd p = {sock, POLLIN, 0};
    int ready = poll(&p, 1, ANSWER_TIMEOUT_MS);
    if (ready == 0) {
      a->closed = 1;
      snprintf(a->message, sizeof a->message, "no answer in %d ms", ANSWER_TIMEOUT_MS);
      return;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (read_some(sock, a)) return;
  }
}

static void print_answer(const char* name, const struct answer* a) {
  if (a->bad) {
    printf("CASE %s error an answer this probe cannot parse\n", name);
  } else if (a->decided == 2) {
    printf("CASE %s deny exit=%d msg=%s\n", name, a->exit_code, a->message);
  } else if (a->decided == 1 && a->exited) {
    printf("CASE %s allow status=%d\n", name, a->wait_status);
  } else if (a->decided == 1) {
    printf("CASE %s allow-without-exit\n", name);
  } else {
    printf("CASE %s closed%s%s\n", name, a->message[0] ? " " : "", a->message);
  }
  fflush(stdout);
}

// One attempt: connect, send `data` (with the call fds when `with_fds`), optionally half-close,
// and print the answer.
static void attempt(const char* name, const char* data, size_t size, int with_fds, int half_close) {
  int sock = connect_broker();
  if (sock < 0) {
    printf("CASE %s error connect: %s\n", name, strerror(errno));
    return;
  }
  if (send_all(sock, data, size, g_fds, with_fds ? 4 : 0) != 0) {
    printf("CASE %s error send: %s\n", name, strerror(errno));
    close(sock);
    return;
  }
  if (half_close) shutdown(sock, SHUT_WR);
  struct answer a;
  wait_answer(sock, &a);
  print_answer(name, &a);
  close(sock);
}

static const char* const kVersionArgv[] = {"git", "version", NULL};

static int abuse(const char* tool) {
  struct buf b;
  // A well-formed call the profile allows, without the stdio and cwd fds.
  call_frame(&b, tool, kVersionArgv, getpgrp(), 4);
  attempt("no-fds", b.data, b.size, 0, 0);
  // The same call with fds, for a program the profile does not mediate.
  const char* const true_argv[] = {"true", NULL};
  call_frame(&b, "/usr/bin/true", true_argv, getpgrp(), 4);
  attempt("not-mediated", b.data, b.size, 1, 0);
  // A wrong magic.
  call_frame(&b, tool, kVersionArgv, getpgrp(), 4);
  b.data[0] = 'X';
  attempt("bad-magic", b.data, b.size, 1, 0);
  // A header announcing 0x7fffffff bytes.
  header(&b, MAGIC, TYPE_CALL, 0x7fffffffu);
  memset(b.data + b.size, 'A', 64);
  b.size += 64;
  attempt("oversized", b.data, b.size, 1, 0);
  // Half a call, then the end of the stream.
  call_frame(&b, tool, kVersionArgv, getpgrp(), 4);
  attempt("truncated", b.data, b.size / 2, 1, 1);
  // A valid header followed by garbage.
  header(&b, MAGIC, TYPE_CALL, 200);
  srand(29);
  for (int i = 0; i < 200; ++i) b.data[b.size++] = (char)(rand() & 0xff);
  b.data[12] = (char)0xff;  // an exe length no payload can hold
  attempt("garbage", b.data, b.size, 1, 0);
  // An unknown message type.
  header(&b, MAGIC, 77, 4);
  put_u32(&b, 0);
  attempt("unknown-type", b.data, b.size, 1, 0);
  // A message that is not a call, first.
  header(&b, MAGIC, TYPE_SIGNAL, 4);
  put_u32(&b, 15);
  attempt("not-a-call", b.data, b.size, 1, 0);
  // A call with a relative exe (strict decoding).
  call_frame(&b, "git", kVersionArgv, getpgrp(), 4);
  attempt("relative-exe", b.data, b.size, 1, 0);
  // The pgid is the caller's word: a garbage one is still served.
  call_frame(&b, tool, kVersionArgv, 999999, 4);
  attempt("garbage-pgid", b.data, b.size, 1, 0);
  // And a plain allowed call, the control.
  call_frame(&b, tool, kVersionArgv, getpgrp(), 4);
  attempt("allowed", b.data, b.size, 1, 0);
  return 0;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int flood(const char* tool, int n) {
  int* socks = calloc((size_t)n, sizeof *socks);
  struct answer* answers = calloc((size_t)n, sizeof *answers);
  struct pollfd* polls = calloc((size_t)n, sizeof *polls);
  if (socks == NULL || answers == NULL || polls == NULL) {
    printf("FLOOD error out of memory\n");
    return 2;
  }
  double start = now_seconds();
  struct buf b;
  call_frame(&b, tool, kVersionArgv, getpgrp(), 4);
  // Every connection is open, and every call sent, before any answer is read.
  for (int i = 0; i < n; ++i) {
    socks[i] = connect_broker();
    if (socks[i] < 0) {
      printf("FLOOD error connect %d: %s\n", i, strerror(errno));
      return 2;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (send_all(socks[i], b.data, b.size, g_fds, 4) != 0) {
      printf("FLOOD error send %d: %s\n", i, strerror(errno));
      return 2;
    }
  }
  double sent = now_seconds();
  int open_count = n;
  for (int i = 0; i < n; ++i) {
    fcntl(socks[i], F_SETFL, O_NONBLOCK);
    polls[i].fd = socks[i];
    polls[i].events = POLLIN;
  }
  while (open_count > 0) {
    int ready = poll(polls, (nfds_t)n, FLOOD_TIMEOUT_MS);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    for (int i = 0; i < n; ++i) {
      if (polls[i].fd < 0 || polls[i].revents == 0) continue;
      if (read_some(socks[i], &answers[i])) {
        close(socks[i]);
        polls[i].fd = -1;
        --open_count;
      }
    }
  }
  int allowed = 0, exited_zero = 0, denied = 0, unanswered = 0;
  const char* first_denial = NULL;
  for (int i = 0; i < n; ++i) {
    const struct answer* a = &answers[i];
    if (a->decided == 1) ++allowed;
    if (a->decided == 1 && a->exited && WIFEXITED(a->wait_status) &&
        WEXITSTATUS(a->wait_status) == 0)
      ++exited_zero;
    if (a->decided == 2) {
      ++denied;
      if (first_denial == NULL) first_denial = a->message;
    }
    if (a->decided == 0 || (a->decided == 1 && !a->exited)) ++unanswered;
  }
  printf(
      "FLOOD calls=%d allowed=%d exited_zero=%d denied=%d unanswered=%d send_s=%.3f "
      "total_s=%.3f first_denial=%s\n",
      n, allowed, exited_zero, denied, unanswered, sent - start, now_seconds() - start,
      first_denial ? first_denial : "-");
  return 0;
}

// After an allowed call this process holds nothing of the real tool, and cannot reach the fds
// of the spawner that does.
static int holds(const char* tool) {
  struct buf b;
  call_frame(&b, tool, kVersionArgv, getpgrp(), 4);
  attempt("allowed", b.data, b.size, 1, 0);
  DIR* self = opendir("/proc/self/fd");
  if (self == NULL) {
    printf("SELF error opendir /proc/self/fd: %s\n", strerror(errno));
    return 2;
  }
  int listed = 0;
  struct dirent* entry;
  while ((entry = readdir(self)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    char path[300], target[4096];
    snprintf(path, sizeof path, "/proc/self/fd/%s", entry->d_name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) continue;
    target[n] = '\0';
    printf("SELF fd %s -> %s\n", entry->d_name, target);
    ++listed;
  }
  closedir(self);
  printf("SELF listed=%d\n", listed);

  DIR* proc = opendir("/proc");
  int spawners = 0;
  while (proc != NULL && (entry = readdir(proc)) != NULL) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    char path[320], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%s/comm", entry->d_name);
    FILE* f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) == NULL) comm[0] = '\0';
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    if (strcmp(comm, "tollgate-spawn") != 0) continue;
    ++spawners;
    snprintf(path, sizeof path, "/proc/%s/fd", entry->d_name);
    DIR* fd_dir = opendir(path);
    printf("SPAWNER %s opendir-fd %s\n", entry->d_name, fd_dir ? "ok" : strerrorname_np(errno));
    if (fd_dir != NULL) closedir(fd_dir);
    // Whatever the directory's mode, each fd must not open or resolve.
    int opened = 0, resolved = 0, last_errno = 0;
    for (int fd = 0; fd < 64; ++fd) {
      snprintf(path, sizeof path, "/proc/%s/fd/%d", entry->d_name, fd);
      int got = open(path, O_RDONLY | O_CLOEXEC);
      if (got >= 0) {
        ++opened;
        close(got);
      } else if (errno != ENOENT) {
        last_errno = errno;
      }
      char target[4096];
      if (readlink(path, target, sizeof target) >= 0) ++resolved;
    }
    printf("SPAWNER %s opened=%d resolved=%d errno=%s\n", entry->d_name, opened, resolved,
           last_errno ? strerrorname_np(last_errno) : "NONE");
    snprintf(path, sizeof path, "/proc/%s/mem", entry->d_name);
    int mem = open(path, O_RDONLY | O_CLOEXEC);
    printf("SPAWNER %s mem %s\n", entry->d_name, mem >= 0 ? "ok" : strerrorname_np(errno));
    if (mem >= 0) close(mem);
  }
  if (proc != NULL) closedir(proc);
  printf("SPAWNERS %d\n", spawners);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) {
    fprintf(stderr, "usage: %s abuse|flood|holds <tool-path> [n]\n", argv[0]);
    return 2;
  }
  if (open_call_fds() != 0) {
    printf("CASE setup error open: %s\n", strerror(errno));
    return 2;
  }
  if (strcmp(argv[1], "abuse") == 0) return abuse(argv[2]);
  if (strcmp(argv[1], "flood") == 0 && argc > 3) return flood(argv[2], atoi(argv[3]));
  if (strcmp(argv[1], "holds") == 0) return holds(argv[2]);
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
