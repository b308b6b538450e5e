// SPDX-License-Identifier: Apache-2.0
// Paced UDP replayer for the bench: sends the datagrams of FILE round-robin to HOST:PORT at RATE
// datagrams/s for SECONDS, with sendmmsg in bursts, sleeping ~200 us between bursts (no busy wait, so
// it leaves the other core to the receiver). RATE 0 = as fast as possible. PORT 0 = send to a socket of
// our own that is never read (measures the sender alone: the kernel still delivers and drops).
//
//   udp-blast FILE HOST PORT RATE SECONDS
//   FILE: repeated [u16 little-endian length][payload]
// Prints one JSON line: {"sent":N,"seconds":S,"errors":E,"cpu":C} (cpu = user+sys seconds of this process).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s FILE HOST PORT RATE SECONDS\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror("open");
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(size);
  if (fread(data, 1, size, f) != (size_t)size) {
    perror("read");
    return 1;
  }
  fclose(f);
  int n = 0;
  for (long o = 0; o + 2 <= size; n++) o += 2 + (data[o] | (data[o + 1] << 8));
  struct iovec *iov = calloc(n, sizeof *iov);
  {
    long o = 0;
    for (int i = 0; i < n; i++) {
      int len = data[o] | (data[o + 1] << 8);
      iov[i].iov_base = data + o + 2;
      iov[i].iov_len = len;
      o += 2 + len;
    }
  }
  double rate = atof(argv[4]);
  double seconds = atof(argv[5]);
  int port = atoi(argv[3]);

  struct sockaddr_in dst = {0};
  dst.sin_family = AF_INET;
  inet_pton(AF_INET, argv[2], &dst.sin_addr);
  if (port == 0) {
    // A sink socket of our own, never read.
    int sink = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(sink, (struct sockaddr *)&a, sizeof a) < 0) {
      perror("bind");
      return 1;
    }
    socklen_t al = sizeof a;
    getsockname(sink, (struct sockaddr *)&a, &al);
    dst = a;
  } else {
    dst.sin_port = htons(port);
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
    perror("connect");
    return 1;
  }

  struct mmsghdr msgs[BURST];
  memset(msgs, 0, sizeof msgs);
  long long sent = 0, errors = 0;
  int next = 0;
  double t0 = now(), t = t0;
  struct timespec nap = {0, 200000};
  while ((t = now()) - t0 < seconds) {
    long long due = rate > 0 ? (long long)((t - t0) * rate) : sent + BURST;
    while (sent < due) {
      int k = due - sent > BURST ? BURST : (int)(due - sent);
      for (int i = 0; i < k; i++) {
        msgs[i].msg_hdr.msg_iov = &iov[next];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (++next == n) next = 0;
      }
      int r = sendmmsg(fd, msgs, k, 0);
      if (r < 0) {
        errors++;
        if (errno == ECONNREFUSED) continue;
        break;
      }
      // Datagrams not taken (r < k) go out in the next burst.
      next = (next - (k - r) + n) % n;
      sent += r;
      if (rate <= 0) break;
    }
    if (rate > 0) nanosleep(&nap, NULL);
  }
  double elapsed = now() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("{\"sent\":%lld,\"seconds\":%.3f,\"errors\":%lld,\"cpu\":%.3f}\n", sent, elapsed, errors, cpu);
  return 0;
}
