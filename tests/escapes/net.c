// Class 25: any TCP/UDP connection or DNS lookup when the profile's network is none.
//
//   tcp HOST PORT        connect (2 s timeout); allowed when the connection is made
//   udp HOST PORT        send a datagram to an echo server; allowed when the echo comes back
//   dns NAME             getaddrinfo; allowed when it resolves
//   resolver             a DNS query to the first nameserver of /etc/resolv.conf; allowed on reply
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int Blocked(const char* name, int err, const char* detail) {
  printf("RESULT %s blocked errno=%s %s\n", name, err ? strerrorname_np(err) : "NONE", detail);
  return 1;
}

// Fills addr for HOST (IPv4 or IPv6 literal) and PORT.
static socklen_t Address(const char* host, int port, struct sockaddr_storage* addr) {
  memset(addr, 0, sizeof *addr);
  struct sockaddr_in* v4 = (struct sockaddr_in*)addr;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)addr;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return sizeof *v4;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return sizeof *v6;
  }
  return 0;
}

// UDP: send `msg` to addr and wait for any reply. 0 when one came back, else the errno.
static int UdpRoundTrip(const struct sockaddr_storage* addr, socklen_t len, const void* msg,
                        size_t size, int timeout_ms) {
  int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = 0;
  char reply[512];
  struct pollfd p = {fd, POLLIN, 0};
  if (connect(fd, (const struct sockaddr*)addr, len) != 0 || send(fd, msg, size, 0) < 0) {
    err = errno;
  } else if (poll(&p, 1, timeout_ms) <= 0) {
    err = ETIMEDOUT;
  } else if (recv(fd, reply, sizeof reply, 0) < 0) {
    err = errno;
  }
  close(fd);
  return err;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s tcp HOST PORT | udp HOST PORT | dns NAME | resolver\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  struct sockaddr_storage addr;
  if ((strcmp(what, "tcp") == 0 || strcmp(what, "udp") == 0) && argc == 4) {
    socklen_t len = Address(argv[2], atoi(argv[3]), &addr);
    if (len == 0) return 2;
    if (what[0] == 'u') {
      int err = UdpRoundTrip(&addr, len, "ping", 4, 1500);
      if (err == 0) {
        printf("RESULT udp allowed errno=NONE echo from %s:%s\n", argv[2], argv[3]);
        return 0;
      }
      return Blocked(what, err, argv[2]);
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Blocked(what, errno, "socket");
    int err = 0;
    if (connect(fd, (struct sockaddr*)&addr, len) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        socklen_t errlen = sizeof err;
        err = poll(&p, 1, 2000) <= 0 ? ETIMEDOUT : 0;
        if (err == 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen);
      }
    }
    close(fd);
    if (err == 0) {
      printf("RESULT tcp allowed errno=NONE connected to %s:%s\n", argv[2], argv[3]);
      return 0;
    }
    return Blocked(what, err, argv[2]);
  }
  if (strcmp(what, "dns") == 0 && argc == 3) {
    struct addrinfo* res = NULL;
    int rc = getaddrinfo(argv[2], "443", NULL, &res);
    if (rc == 0) {
      freeaddrinfo(res);
      printf("RESULT dns allowed errno=NONE resolved %s\n", argv[2]);
      return 0;
    }
    printf("RESULT dns blocked errno=NONE getaddrinfo: %s\n", gai_strerror(rc));
    return 1;
  }
  if (strcmp(what, "resolver") == 0) {
    FILE* f = fopen("/etc/resolv.conf", "r");
    char line[256];
    char server[128] = "";
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
      if (sscanf(line, "nameserver %127s", server) == 1) break;
    }
    if (f != NULL) fclose(f);
    if (server[0] == 0) return Blocked(what, 0, "no nameserver in /etc/resolv.conf");
    socklen_t len = Address(server, 53, &addr);
    if (len == 0) return Blocked(what, 0, server);
    // A query for the root's NS records: id 0x7467, RD, one question, ". IN NS".
    static const unsigned char kQuery[] = {0x74, 0x67, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                           0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    int err = UdpRoundTrip(&addr, len, kQuery, sizeof kQuery, 2000);
    if (err == 0) {
      printf("RESULT resolver allowed errno=NONE answer from %s\n", server);
      return 0;
    }
    return Blocked(what, err, server);
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
