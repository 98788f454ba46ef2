// Connects to a unix socket and says "ping": the network tests' probe for network.sockets.
//
//   unixclient PATH        a pathname socket
//   unixclient @NAME       an abstract one
//
// Prints "RESULT connected REPLY" with the first line the server answered, or
// "RESULT error ERRNO" when connect() failed.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  socklen_t size;
  if (argv[1][0] == '@') {
    size_t n = strlen(argv[1] + 1);
    if (n + 1 > sizeof address.sun_path) return 2;
    memcpy(address.sun_path + 1, argv[1] + 1, n);  // sun_path[0] stays NUL: abstract
    size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  } else {
    if (strlen(argv[1]) + 1 > sizeof address.sun_path) return 2;
    strcpy(address.sun_path, argv[1]);
    size = sizeof address;
  }
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (struct sockaddr*)&address, size) != 0) {
    printf("RESULT error %s\n", strerrorname_np(errno));
    return 1;
  }
  (void)!send(s, "ping\n", 5, MSG_NOSIGNAL);
  char reply[256] = {0};
  ssize_t n = read(s, reply, sizeof reply - 1);
  if (n > 0 && reply[n - 1] == '\n') reply[n - 1] = '\0';
  printf("RESULT connected %s\n", n > 0 ? reply : "");
  return 0;
}
