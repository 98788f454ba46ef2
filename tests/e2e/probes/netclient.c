// A raw TCP client for the network tests: sends exactly the bytes it is given (so a test can
// write what no well-behaved client would: NUL bytes, a Host header that disagrees, a second
// request in one connection, a SOCKS request by hand) and prints what comes back.
//
//   netclient [-h HOST] [-p PORT] [-w SECONDS] [-d MILLISECONDS] [-k] CHUNK...
//
// Each CHUNK is sent in order, C-escaped (\r \n \t \\ \0 \xNN), with -d milliseconds between
// chunks. Then, unless -k (keep the write side open), the write side is shut. Everything
// received until the peer closes or -w seconds pass without a byte is printed with non-printable
// bytes as \xNN, followed by a line "END closed", "END timeout" or "END error ERRNO".
// Default: 127.0.0.1, port 3128 (the sandbox's HTTP proxy), 10 s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static size_t Unescape(const char* in, char* out) {
  size_t n = 0;
  for (const char* p = in; *p; ++p) {
    if (*p != '\\' || p[1] == '\0') {
      out[n++] = *p;
      continue;
    }
    ++p;
    switch (*p) {
      case 'r':
        out[n++] = '\r';
        break;
      case 'n':
        out[n++] = '\n';
        break;
      case 't':
        out[n++] = '\t';
        break;
      case '0':
        out[n++] = '\0';
        break;
      case 'x': {
        char hex[3] = {p[1], p[1] ? p[2] : 0, 0};
        out[n++] = (char)strtol(hex, NULL, 16);
        p += 2;
        break;
      }
      default:
        out[n++] = *p;
    }
  }
  return n;
}

static void PrintEscaped(const unsigned char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    unsigned char c = data[i];
    if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f && c != '\\'))
      putchar(c);
    else
      printf("\\x%02x", c);
  }
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 3128, wait_seconds = 10, delay_ms = 0, keep_open = 0, opt;
  while ((opt = getopt(argc, argv, "h:p:w:d:k")) != -1) {
    switch (opt) {
      case 'h':
        host = optarg;
        break;
      case 'p':
        port = atoi(optarg);
        break;
      case 'w':
        wait_seconds = atoi(optarg);
        break;
      case 'd':
        delay_ms = atoi(optarg);
        break;
      case 'k':
        keep_open = 1;
        break;
      default:
        return 2;
    }
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) return 2;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (struct sockaddr*)&address, sizeof address) != 0) {
    printf("END connect-error %s\n", strerrorname_np(errno));
    return 1;
  }
  for (int i = optind; i < argc; ++i) {
    char* bytes = malloc(strlen(argv[i]) + 1);
    size_t n = Unescape(argv[i], bytes);
    if (send(s, bytes, n, MSG_NOSIGNAL) != (ssize_t)n) {
      printf("END send-error %s\n", strerrorname_np(errno));
      return 1;
    }
    free(bytes);
    if (delay_ms > 0 && i + 1 < argc) {
      struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
      nanosleep(&pause, NULL);
    }
  }
  if (!keep_open) shutdown(s, SHUT_WR);
  unsigned char buffer[65536];
  for (;;) {
    struct pollfd p = {s, POLLIN, 0};
    int ready = poll(&p, 1, wait_seconds * 1000);
    if (ready == 0) {
      printf("\nEND timeout\n");
      return 0;
    }
    ssize_t n = recv(s, buffer, sizeof buffer, 0);
    if (n == 0) {
      printf("\nEND closed\n");
      return 0;
    }
    if (n < 0) {
      printf("\nEND error %s\n", strerrorname_np(errno));
      return 0;
    }
    PrintEscaped(buffer, (size_t)n);
    fflush(stdout);
  }
}
