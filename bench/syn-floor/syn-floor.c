/*
 * syn-floor: the least a SYN scanner can do on this machine, to put portcullis's SYN discovery in scale
 * (issue 5). The same design as src/Portcullis.Audit/Scan/Syn/SynDiscovery.cs with nothing else: SENDERS
 * threads each write IPv4+TCP SYNs for their share of ADDRESSES x 4 ports with sendmmsg(2) (batches of 64) on
 * their own IPPROTO_RAW socket; one thread reads the answers with recvmmsg(2) on a raw TCP socket behind the
 * same classic BPF filter (ACKs to our source port only). No retransmission, no state, no cookie check, no
 * progress: it counts answers and stops when every probe has one (or after 5 s).
 *
 *   gcc -O2 -pthread -o syn-floor syn-floor.c
 *   ./syn-floor 127.16.0.0 65536 2        # base address, addresses, sender threads (root: CAP_NET_RAW)
 *
 * Prints: probes, answers, wall seconds, user and system CPU seconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define PACKET 40
static const int ports[4] = {25, 1080, 3128, 8080};
static uint32_t base, count;
static int senders, source_port;
static volatile long answers;
static volatile int stop;

static uint16_t checksum(const uint8_t *p, int n, uint32_t sum)
{
    for (int i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void syn(uint8_t *b, uint32_t src, uint32_t dst, int dport)
{
    memset(b, 0, PACKET);
    b[0] = 0x45; b[3] = PACKET; b[8] = 64; b[9] = 6;                  /* IPv4, length 40, TTL 64, TCP */
    memcpy(b + 12, &src, 4); memcpy(b + 16, &dst, 4);
    uint16_t c = checksum(b, 20, 0); b[10] = c >> 8; b[11] = c & 0xff;
    uint8_t *t = b + 20;
    t[0] = source_port >> 8; t[1] = source_port & 0xff; t[2] = dport >> 8; t[3] = dport & 0xff;
    t[4] = 0x12; t[5] = 0x34; t[12] = 0x50; t[13] = 0x02; t[14] = 0x04; /* seq, data offset 5, SYN, window 1024 */
    uint8_t pseudo[12]; memcpy(pseudo, &src, 4); memcpy(pseudo + 4, &dst, 4); pseudo[8] = 0; pseudo[9] = 6; pseudo[10] = 0; pseudo[11] = 20;
    uint32_t sum = 0; for (int i = 0; i < 12; i += 2) sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
    c = checksum(t, 20, sum); t[16] = c >> 8; t[17] = c & 0xff;
}

static void *send_lane(void *arg)
{
    long lane = (long)arg;
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    int big = 4 << 20; setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
    static __thread uint8_t packets[BATCH * PACKET];
    struct mmsghdr m[BATCH]; struct iovec iov[BATCH]; struct sockaddr_in to[BATCH];
    memset(m, 0, sizeof m);
    for (int k = 0; k < BATCH; k++) {
        iov[k].iov_base = packets + k * PACKET; iov[k].iov_len = PACKET;
        m[k].msg_hdr.msg_iov = &iov[k]; m[k].msg_hdr.msg_iovlen = 1;
        m[k].msg_hdr.msg_name = &to[k]; m[k].msg_hdr.msg_namelen = sizeof to[k];
    }
    uint32_t src = inet_addr("127.0.0.1");
    int q = 0;
    /* lanes take every senders-th chunk of 64 endpoints, as SynDiscovery's lanes do */
    for (uint64_t chunk = lane; chunk * 64 < (uint64_t)count * 4; chunk += senders) {
        for (uint64_t i = chunk * 64; i < chunk * 64 + 64 && i < (uint64_t)count * 4; i++) {
            uint32_t dst = htonl(base + (uint32_t)(i / 4));
            syn(packets + q * PACKET, src, dst, ports[i % 4]);
            to[q].sin_family = AF_INET; to[q].sin_addr.s_addr = dst;
            if (++q == BATCH) {
                for (int done = 0; done < q;) {
                    int r = sendmmsg(fd, m + done, q - done, 0);
                    if (r < 0) { usleep(1000); continue; }
                    done += r;
                }
                q = 0;
            }
        }
    }
    for (int done = 0; done < q;) { int r = sendmmsg(fd, m + done, q - done, 0); if (r < 0) { usleep(1000); continue; } done += r; }
    close(fd);
    return NULL;
}

static void *receive(void *arg)
{
    int fd = (int)(long)arg;
    static uint8_t buffers[256 * 128];
    struct mmsghdr m[256]; struct iovec iov[256];
    memset(m, 0, sizeof m);
    for (int k = 0; k < 256; k++) { iov[k].iov_base = buffers + k * 128; iov[k].iov_len = 128; m[k].msg_hdr.msg_iov = &iov[k]; m[k].msg_hdr.msg_iovlen = 1; }
    while (!stop) {
        int n = recvmmsg(fd, m, 256, MSG_DONTWAIT, NULL);
        if (n <= 0) { usleep(1000); continue; }
        __sync_fetch_and_add(&answers, n);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: %s BASE_ADDRESS ADDRESSES SENDERS\n", argv[0]); return 2; }
    base = ntohl(inet_addr(argv[1])); count = (uint32_t)atol(argv[2]); senders = atoi(argv[3]);
    int hold = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET}; socklen_t al = sizeof a;
    bind(hold, (struct sockaddr *)&a, sizeof a); getsockname(hold, (struct sockaddr *)&a, &al);
    source_port = ntohs(a.sin_port);
    int rfd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    if (rfd < 0) { perror("socket(SOCK_RAW) (needs CAP_NET_RAW)"); return 1; }
    int big = 64 << 20; setsockopt(rfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    struct sock_filter code[] = {
        {0x28, 0, 0, 6}, {0x45, 6, 0, 0x1fff}, {0xb1, 0, 0, 0}, {0x48, 0, 0, 2},
        {0x15, 0, 3, (uint32_t)source_port}, {0x50, 0, 0, 13}, {0x45, 0, 1, 0x10}, {0x06, 0, 0, 128}, {0x06, 0, 0, 0},
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    setsockopt(rfd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
    struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t r, s[64];
    pthread_create(&r, NULL, receive, (void *)(long)rfd);
    for (long i = 0; i < senders; i++) pthread_create(&s[i], NULL, send_lane, (void *)i);
    for (int i = 0; i < senders; i++) pthread_join(s[i], NULL);
    long want = (long)count * 4;
    for (int i = 0; i < 5000 && answers < want; i++) usleep(1000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stop = 1; pthread_join(r, NULL);
    struct rusage ru; getrusage(RUSAGE_SELF, &ru);
    printf("probes %ld answers %ld wall %.3f s user %.2f s system %.2f s\n", want, answers,
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    return 0;
}
