// The network proxy's cost: bulk throughput and connection setup through the supervisor's
// proxies (network mode "proxy") against direct loopback TCP (docs/BENCHMARKS.md §7).
//
//   bench_netproxy serve [--port P]
//       A tiny HTTP/1.1 server on the host's 127.0.0.1 (port P, or one the kernel picks), which
//       prints its port on a line of its own and serves until killed. `GET /N` is answered with
//       200, Content-Length N and N zero bytes, then the connection is closed. Four threads block
//       in accept(), so no connection waits for a thread or a process to be started.
//   bench_netproxy throughput VIA --target HOST:PORT --bytes N [--repeat R] [--buffer B]
//       R transfers (default 5) of N bytes each, one connection each, read B bytes at a time
//       (default 131072): the MB/s (10^6 bytes) of each, from connect() to the last byte, and
//       their median.
//   bench_netproxy latency VIA --target HOST:PORT --count K
//       K connections (after 20 not counted), one at a time, each asking for `GET /2`: the time
//       from connect() to the first byte of the server's response (for a tunnel, after the
//       proxy's answer), median, p90 and p99 in µs; for CONNECT and SOCKS5 also the time until
//       the tunnel is established.
// VIA is one of
//   --direct                  to HOST:PORT itself (resolved once, before the first connection)
//   --proxy ADDR:PORT         an HTTP proxy, through a CONNECT tunnel
//   --proxy ADDR:PORT --absolute   an HTTP proxy, with an absolute-form request (latency only)
//   --socks ADDR:PORT         a SOCKS5 proxy (no authentication; the host name is sent as such)
// Each step waits for the answer before the next, as curl does. A connection that does not end
// in the expected answer and byte count is counted as failed; the exit status is then 1.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int compare(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static int64_t pct(const int64_t* sorted, int n, int p) {
  return sorted[(int)((int64_t)(n - 1) * p / 100)];
}

static int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    size -= (size_t)n;
  }
  return 0;
}

static int read_exact(int fd, char* into, size_t size) {
  while (size > 0) {
    ssize_t n = read(fd, into, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    into += n;
    size -= (size_t)n;
  }
  return 0;
}

// Reads up to the end of a response or request head ("\r\n\r\n") one byte at a time, so that
// nothing after it is taken. Returns the head's length, or -1.
static int read_head(int fd, char* head, size_t size) {
  size_t got = 0;
  while (got + 1 < size) {
    ssize_t n = read(fd, head + got, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    ++got;
    if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0) {
      head[got] = '\0';
      return (int)got;
    }
  }
  return -1;
}

// ---- server ----------------------------------------------------------------------------------

enum { kServeChunk = 1 << 20 };
static char serve_zeros[kServeChunk];
static int serve_listener = -1;

static void serve_one(int fd) {
  char head[8192];
  // The request head may come in pieces; the server reads what is there and looks for its end.
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, head + got, sizeof head - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    got += (size_t)n;
    head[got] = '\0';
    if (strstr(head, "\r\n\r\n") != NULL) break;
    if (got == sizeof head - 1) return;
  }
  unsigned long long bytes = 0;
  if (sscanf(head, "GET /%llu ", &bytes) != 1) {
    static const char bad[] =
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    write_all(fd, bad, sizeof bad - 1);
    return;
  }
  char answer[128];
  int length =
      snprintf(answer, sizeof answer,
               "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n", bytes);
  // A short body goes out with the head in one segment, as a small response would.
  if (bytes <= 64) {
    memcpy(answer + length, serve_zeros, (size_t)bytes);
    write_all(fd, answer, (size_t)length + (size_t)bytes);
    return;
  }
  if (write_all(fd, answer, (size_t)length) != 0) return;
  while (bytes > 0) {
    size_t chunk = bytes < kServeChunk ? (size_t)bytes : kServeChunk;
    if (write_all(fd, serve_zeros, chunk) != 0) return;
    bytes -= chunk;
  }
}

static void* serve_thread(void* unused) {
  (void)unused;
  for (;;) {
    int fd = accept4(serve_listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("accept");
      exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    serve_one(fd);
    // The server closes first: the client sees the end of the body as end of file too.
    shutdown(fd, SHUT_WR);
    char drain[4096];
    while (read(fd, drain, sizeof drain) > 0) {
    }
    close(fd);
  }
  return NULL;
}

static int serve(int port) {
  serve_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(serve_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (bind(serve_listener, (struct sockaddr*)&address, sizeof address) != 0 ||
      listen(serve_listener, 512) != 0 ||
      getsockname(serve_listener, (struct sockaddr*)&address, &size) != 0) {
    perror("listen");
    return 1;
  }
  printf("%d\n", ntohs(address.sin_port));
  fflush(stdout);
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) pthread_create(&threads[i], NULL, serve_thread, NULL);
  for (int i = 0; i < 4; ++i) pthread_join(threads[i], NULL);
  return 0;
}

// ---- client ----------------------------------------------------------------------------------

enum Via { kDirect, kConnect, kAbsolute, kSocks };
static const char* via_name[] = {"direct", "connect", "absolute-form", "socks5"};

struct Client {
  enum Via via;
  struct sockaddr_storage address;  // where connect() goes: the target, or the proxy
  socklen_t address_size;
  char host[256];  // the target as written
  int port;
};

static int split_host_port(const char* text, char* host, size_t size, int* port) {
  const char* colon = strrchr(text, ':');
  if (colon == NULL || (size_t)(colon - text) >= size) return -1;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  *port = atoi(colon + 1);
  return *port > 0 && *port < 65536 ? 0 : -1;
}

static int resolve(const char* text, struct sockaddr_storage* out, socklen_t* size) {
  char host[256];
  int port;
  if (split_host_port(text, host, sizeof host, &port) != 0) return -1;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo* list = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  if (getaddrinfo(host, service, &hints, &list) != 0 || list == NULL) return -1;
  memcpy(out, list->ai_addr, list->ai_addrlen);
  *size = list->ai_addrlen;
  freeaddrinfo(list);
  return 0;
}

// Connects and sets up the way to the target: nothing for direct and absolute-form, a CONNECT
// or SOCKS5 tunnel otherwise. `tunnel_ns` gets the time the tunnel was established. Returns the
// socket, or -1.
static int open_connection(const struct Client* c, int64_t* tunnel_ns) {
  int fd = socket(c->address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (const struct sockaddr*)&c->address, c->address_size) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->via == kConnect) {
    char request[600], head[4096];
    int length = snprintf(request, sizeof request, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
                          c->host, c->port, c->host, c->port);
    if (write_all(fd, request, (size_t)length) != 0 || read_head(fd, head, sizeof head) < 0 ||
        strncmp(head, "HTTP/1.1 200", 12) != 0) {
      close(fd);
      return -1;
    }
  } else if (c->via == kSocks) {
    unsigned char message[300];
    if (write_all(fd, "\x05\x01\x00", 3) != 0 || read_exact(fd, (char*)message, 2) != 0 ||
        message[0] != 5 || message[1] != 0) {
      close(fd);
      return -1;
    }
    size_t name = strlen(c->host);
    message[0] = 5, message[1] = 1, message[2] = 0, message[3] = 3,
    message[4] = (unsigned char)name;
    memcpy(message + 5, c->host, name);
    message[5 + name] = (unsigned char)(c->port >> 8);
    message[6 + name] = (unsigned char)(c->port & 0xff);
    // The reply: VER REP RSV ATYP, then the bound address (4 or 16 bytes, or a name) and port.
    unsigned char reply[262];
    if (write_all(fd, (const char*)message, 7 + name) != 0 ||
        read_exact(fd, (char*)reply, 4) != 0 || reply[1] != 0) {
      close(fd);
      return -1;
    }
    size_t rest = reply[3] == 1 ? 4 + 2 : reply[3] == 4 ? 16 + 2 : 0;
    if (reply[3] == 3) {
      if (read_exact(fd, (char*)reply + 4, 1) != 0) {
        close(fd);
        return -1;
      }
      rest = (size_t)reply[4] + 2;
    }
    if (rest == 0 || read_exact(fd, (char*)reply + 5, rest) != 0) {
      close(fd);
      return -1;
    }
  }
  if (tunnel_ns != NULL) *tunnel_ns = now_ns();
  return fd;
}

static int send_get(const struct Client* c, int fd, unsigned long long bytes) {
  char request[700];
  int length =
      c->via == kAbsolute
          ? snprintf(request, sizeof request,
                     "GET http://%s:%d/%llu HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: bench\r\n\r\n",
                     c->host, c->port, bytes, c->host, c->port)
          : snprintf(request, sizeof request,
                     "GET /%llu HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: bench\r\n\r\n", bytes,
                     c->host, c->port);
  return write_all(fd, request, (size_t)length);
}

// Reads a whole response: its head must say 200 and the body must be `bytes` long. `first_ns`
// gets the time the first byte came. Returns 0 when it did.
static int read_response(int fd, char* buffer, size_t size, unsigned long long bytes,
                         int64_t* first_ns) {
  unsigned long long total = 0;
  int head_length = -1;
  size_t head_got = 0;
  char head[1024];
  for (;;) {
    ssize_t n = read(fd, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    if (total == 0 && first_ns != NULL) *first_ns = now_ns();
    if (head_length < 0 && head_got < sizeof head - 1) {
      size_t take = (size_t)n < sizeof head - 1 - head_got ? (size_t)n : sizeof head - 1 - head_got;
      memcpy(head + head_got, buffer, take);
      head_got += take;
      head[head_got] = '\0';
      char* end = strstr(head, "\r\n\r\n");
      if (end != NULL) head_length = (int)(end - head) + 4;
    }
    total += (unsigned long long)n;
  }
  if (head_length < 0 || strncmp(head, "HTTP/1.1 200", 12) != 0) return -1;
  return total - (unsigned long long)head_length == bytes ? 0 : -1;
}

static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static int throughput(const struct Client* c, unsigned long long bytes, int repeat,
                      size_t buffer_size) {
  char* buffer = malloc(buffer_size);
  double cpu0 = cpu_seconds();
  int64_t wall0 = now_ns();
  double* rates = calloc((size_t)repeat, sizeof(double));
  int failed = 0;
  for (int i = 0; i < repeat; ++i) {
    int64_t t0 = now_ns();
    int fd = open_connection(c, NULL);
    if (fd < 0 || send_get(c, fd, bytes) != 0 ||
        read_response(fd, buffer, buffer_size, bytes, NULL) != 0) {
      ++failed;
      if (fd >= 0) close(fd);
      continue;
    }
    int64_t took = now_ns() - t0;
    close(fd);
    rates[i - failed] = (double)bytes / ((double)took / 1e9) / 1e6;
    printf("  transfer %d: %.1f MB/s\n", i + 1, rates[i - failed]);
  }
  double cpu = cpu_seconds() - cpu0, wall = (double)(now_ns() - wall0) / 1e9;
  int n = repeat - failed;
  // Sorted by insertion (few values).
  for (int i = 1; i < n; ++i)
    for (int j = i; j > 0 && rates[j - 1] > rates[j]; --j) {
      double t = rates[j];
      rates[j] = rates[j - 1];
      rates[j - 1] = t;
    }
  printf("throughput %s %s:%d: %d x %llu bytes, read %zu at a time; failed %d\n", via_name[c->via],
         c->host, c->port, repeat, bytes, buffer_size, failed);
  if (n > 0)
    printf("throughput %s median %.1f MB/s  min %.1f  max %.1f\n", via_name[c->via], rates[n / 2],
           rates[0], rates[n - 1]);
  printf("throughput %s client CPU %.2f s in %.2f s (%.0f%%)\n", via_name[c->via], cpu, wall,
         100 * cpu / wall);
  return failed == 0 ? 0 : 1;
}

static int latency(const struct Client* c, int count) {
  enum { kWarmup = 20 };
  char buffer[4096];
  int64_t* first = calloc((size_t)count, sizeof(int64_t));
  int64_t* tunnel = calloc((size_t)count, sizeof(int64_t));
  int failed = 0, measured = 0;
  for (int i = 0; i < kWarmup + count; ++i) {
    int64_t t0 = now_ns(), t_tunnel = 0, t_first = 0;
    int fd = open_connection(c, &t_tunnel);
    if (fd < 0 || send_get(c, fd, 2) != 0 ||
        read_response(fd, buffer, sizeof buffer, 2, &t_first) != 0) {
      if (i >= kWarmup) ++failed;
      if (fd >= 0) close(fd);
      continue;
    }
    close(fd);
    if (i < kWarmup) continue;
    first[measured] = t_first - t0;
    tunnel[measured] = t_tunnel - t0;
    ++measured;
  }
  qsort(first, (size_t)measured, sizeof(int64_t), compare);
  qsort(tunnel, (size_t)measured, sizeof(int64_t), compare);
  printf("latency %s %s:%d: %d connections (after %d); failed %d\n", via_name[c->via], c->host,
         c->port, count, kWarmup, failed);
  if (measured > 0) {
    if (c->via == kConnect || c->via == kSocks)
      printf("latency %s tunnel established: median %.1f us  p90 %.1f us  p99 %.1f us\n",
             via_name[c->via], pct(tunnel, measured, 50) / 1e3, pct(tunnel, measured, 90) / 1e3,
             pct(tunnel, measured, 99) / 1e3);
    printf("latency %s first byte: median %.1f us  p90 %.1f us  p99 %.1f us\n", via_name[c->via],
           pct(first, measured, 50) / 1e3, pct(first, measured, 90) / 1e3,
           pct(first, measured, 99) / 1e3);
  }
  return failed == 0 && measured > 0 ? 0 : 1;
}

static int usage(const char* self) {
  fprintf(stderr,
          "usage: %s serve [--port P]\n"
          "       %s throughput VIA --target HOST:PORT --bytes N [--repeat R] [--buffer B]\n"
          "       %s latency VIA --target HOST:PORT --count K\n"
          "VIA: --direct | --proxy ADDR:PORT [--absolute] | --socks ADDR:PORT\n",
          self, self, self);
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage(argv[0]);
  const char* mode = argv[1];
  const char *proxy = NULL, *target = NULL;
  int direct = 0, absolute = 0, socks = 0, port = 0, repeat = 5, count = 1000;
  unsigned long long bytes = 1ull << 30;
  size_t buffer = 128 * 1024;
  for (int i = 2; i < argc; ++i) {
    const char* a = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--direct") == 0) {
      direct = 1;
    } else if (strcmp(a, "--absolute") == 0) {
      absolute = 1;
    } else if (value != NULL && strcmp(a, "--proxy") == 0) {
      proxy = value, ++i;
    } else if (value != NULL && strcmp(a, "--socks") == 0) {
      proxy = value, socks = 1, ++i;
    } else if (value != NULL && strcmp(a, "--target") == 0) {
      target = value, ++i;
    } else if (value != NULL && strcmp(a, "--bytes") == 0) {
      bytes = strtoull(value, NULL, 10), ++i;
    } else if (value != NULL && strcmp(a, "--repeat") == 0) {
      repeat = atoi(value), ++i;
    } else if (value != NULL && strcmp(a, "--count") == 0) {
      count = atoi(value), ++i;
    } else if (value != NULL && strcmp(a, "--buffer") == 0) {
      buffer = (size_t)strtoull(value, NULL, 10), ++i;
    } else if (value != NULL && strcmp(a, "--port") == 0) {
      port = atoi(value), ++i;
    } else {
      return usage(argv[0]);
    }
  }
  if (strcmp(mode, "serve") == 0) return serve(port);
  int is_throughput = strcmp(mode, "throughput") == 0;
  if ((!is_throughput && strcmp(mode, "latency") != 0) || target == NULL ||
      direct == (proxy != NULL) || (absolute && (socks || is_throughput)) || repeat < 1 ||
      count < 1 || buffer < 1)
    return usage(argv[0]);

  struct Client c = {.via = direct ? kDirect : socks ? kSocks : absolute ? kAbsolute : kConnect};
  if (split_host_port(target, c.host, sizeof c.host, &c.port) != 0) return usage(argv[0]);
  if (resolve(direct ? target : proxy, &c.address, &c.address_size) != 0) {
    fprintf(stderr, "%s: cannot resolve %s\n", argv[0], direct ? target : proxy);
    return 1;
  }
  return is_throughput ? throughput(&c, bytes, repeat, buffer) : latency(&c, count);
}
