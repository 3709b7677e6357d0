/* SPDX-License-Identifier: MIT */
/* ope-bench.c: throughput and latency of ope-component, acting as its XEP-0114 server over loopback. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define BENCH_DOMAIN "ope.localhost"
#define BENCH_SECRET "bench-secret"
#define BENCH_FROM "alice@localhost/bench"
#define MAX_RUNS 16
/* With metrics on, /metrics is scraped this often during a run. */
#define SCRAPE_SECONDS 1.0
#define STALL_SECONDS 30

/* What the component's config holds besides the basics. */
enum profile {
	PROFILE_OPEN = 0,   /* no access section, limits off */
	PROFILE_RULES,      /* 1,000 rules (the sender matches the last one),
	                       every limit on (too high to refuse anything) */
	PROFILE_PASSWORD,   /* one rule with a yescrypt password, limits on */
};

static const char *const profile_names[] = { "open", "rules", "password" };

/* "bench-pw" (mkpasswd -m yescrypt); the password profile's requests carry it. */
#define BENCH_PW_HASH "$y$j9T$9./tCUsZUu3kBOelzau7F/$Zl3hxLs/27r/89zrgplbyr6H0z480kwjTdSgJ2JxM08"
#define BENCH_PW "bench-pw"
#define BENCH_RULES 1000
/* Limits on, but far above what one connection can send. */
#define BENCH_LIMITS "limits = { sender = { rate = 1e9; burst = 1e9; }; " \
	"total = { rate = 1e9; burst = 1e9; }; };\n"

struct run_spec {
	unsigned n;       /* messages to send */
	unsigned window;  /* at most this many without a reply */
	int metrics;      /* serve /metrics (metrics.listen) and scrape it */
	enum profile profile;
	unsigned flood;   /* wrong-password messages from another sender per message */
};

struct run_result {
	double seconds;        /* first send to last reply */
	double p50_us, p99_us, max_us;
	double cpu_us;         /* component CPU per stanza (user+sys) */
	double self_cpu_us;    /* this program's CPU per stanza */
	long maxrss_kib;       /* component's peak RSS */
	int exit_status;       /* component's status after SIGTERM (-1: killed) */
	unsigned errors;       /* replies that were not type=result */
	unsigned scrapes;      /* GET /metrics during the run */
};

struct buf {
	char *data;
	size_t len, cap;
};

/* The child and its files, reachable from the signal handler and atexit. */
static volatile pid_t child_pid = -1;
static char tmp_dir[64];
static char cfg_path[128];
static char log_path[128];

static const char *component_path = "./ope-component";
static size_t body_len = 11;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void remove_files(void)
{
	if (cfg_path[0])
		unlink(cfg_path);
	if (log_path[0])
		unlink(log_path);
	if (tmp_dir[0])
		rmdir(tmp_dir);
	cfg_path[0] = log_path[0] = tmp_dir[0] = '\0';
}

static void kill_child(void)
{
	pid_t pid = child_pid;

	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		child_pid = -1;
	}
}

static void cleanup(void)
{
	kill_child();
	remove_files();
}

static void on_signal(int sig)
{
	/* Only async-signal-safe calls: kill, waitpid, unlink, rmdir, _exit. */
	cleanup();
	_exit(128 + sig);
}

static void print_log_tail(void)
{
	char line[512];
	FILE *f;

	if (!log_path[0] || !(f = fopen(log_path, "r")))
		return;
	fprintf(stderr, "ope-bench: ope-component's stderr (%s):\n", log_path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("ope-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_log_tail();
	exit(1); /* atexit kills the child and removes its files */
}

static double now_s(void)
{
	return (double)util_now_ns() / 1e9;
}

static void buf_reserve(struct buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->len + extra + 1 <= b->cap)
		return;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		die("out of memory");
	b->data = p;
	b->cap = cap;
}

static void buf_consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* Position of NEEDLE in the first LEN bytes of HAY, or NULL. */
static char *find(char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	char *p = hay, *end = hay + len;

	while ((size_t)(end - p) >= n) {
		p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
		if (!p)
			return NULL;
		if (memcmp(p, needle, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Read what is there into B; 0 on EOF, -1 on error, else bytes read. */
static ssize_t read_into(int fd, struct buf *b)
{
	ssize_t r;

	buf_reserve(b, 65536);
	r = recv(fd, b->data + b->len, 65536, 0);
	if (r > 0) {
		b->len += (size_t)r;
		b->data[b->len] = '\0';
	}
	return r;
}

/* Block until B holds NEEDLE at or after offset FROM; die after TIMEOUT
 * seconds or on EOF. */
static char *read_until(int fd, struct buf *b, size_t from, const char *needle, double timeout)
{
	double deadline = now_s() + timeout;
	char *p;

	buf_reserve(b, 0);
	while (b->len < from || !(p = find(b->data + from, b->len - from, needle))) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - now_s()) * 1000);
		ssize_t r;

		if (ms <= 0)
			die("timed out waiting for %s from ope-component", needle);
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		r = read_into(fd, b);
		if (r == 0)
			die("ope-component closed the connection while we waited for %s", needle);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			die("recv: %s", strerror(errno));
	}
	return p;
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);

		if (w < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (errno != EAGAIN && errno != EINTR)
				die("send: %s", strerror(errno));
			poll(&pfd, 1, 1000);
			continue;
		}
		data += w;
		len -= (size_t)w;
	}
}

static void sha1_hex(const char *text, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		die("SHA-1 failed");
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int listen_loopback(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		die("cannot listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(sa.sin_port);
	return fd;
}

static void write_config(int port, int metrics_port, enum profile profile)
{
	FILE *f;
	int fd, i;

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/ope-bench-XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		tmp_dir[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	snprintf(cfg_path, sizeof(cfg_path), "%s/ope-component.conf", tmp_dir);
	snprintf(log_path, sizeof(log_path), "%s/stderr.log", tmp_dir);
	fd = open(cfg_path, O_WRONLY | O_CREAT | O_EXCL, 0600); /* it holds the secret */
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f)
		die("%s: %s", cfg_path, strerror(errno));
	fprintf(f,
		"# generated by ope-bench\n"
		"server = { host = \"127.0.0.1\"; port = %d; };\n"
		"component = { domain = \"" BENCH_DOMAIN "\"; secret = \"" BENCH_SECRET "\"; };\n"
		"log = { level = \"info\"; timestamps = true; };\n"
		"reconnect = { initial = 1.0; maximum = 2.0; };\n"
		"service = { name = \"ope\"; show_os = true; max_payload = 65536; };\n",
		port);
	if (metrics_port > 0)
		fprintf(f, "metrics = { listen = \"127.0.0.1:%d\"; };\n", metrics_port);
	switch (profile) {
	case PROFILE_OPEN:
		fprintf(f, "limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };\n");
		break;
	case PROFILE_RULES:
		fprintf(f, BENCH_LIMITS "access = { default = \"deny\"; rules = (\n");
		for (i = 0; i < BENCH_RULES - 1; i++)
			fprintf(f, "  { match = \"user%d@host%d.example.org\"; action = \"%s\"; },\n",
				i, i % 10, i % 2 ? "deny" : "allow");
		fprintf(f, "  { match = \"*@localhost\"; action = \"allow\"; }\n); };\n");
		break;
	case PROFILE_PASSWORD:
		fprintf(f, BENCH_LIMITS "access = { default = \"deny\"; rules = (\n"
			"  { match = \"*@localhost\"; action = \"allow\"; password = \""
			BENCH_PW_HASH "\"; }\n); };\n");
		break;
	}
	if (fclose(f) != 0)
		die("%s: %s", cfg_path, strerror(errno));
}

static void spawn_component(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDWR);
		int err = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || err < 0)
			_exit(127);
		dup2(in, 0);
		dup2(in, 1);
		dup2(err, 2);
		execl(component_path, component_path, "-c", cfg_path, (char *)NULL);
		dprintf(2, "ope-bench: cannot run %s: %s\n", component_path, strerror(errno));
		_exit(127);
	}
	child_pid = pid;
}

static int accept_component(int lfd)
{
	double deadline = now_s() + 10.0;
	int fd, one = 1;

	for (;;) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int status;

		if (poll(&pfd, 1, 100) > 0)
			break;
		if (waitpid(child_pid, &status, WNOHANG) == child_pid) {
			child_pid = -1;
			die("ope-component exited (status %d) before connecting",
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		if (now_s() > deadline)
			die("ope-component did not connect within 10 s");
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* XEP-0114: answer the stream header, check the digest, accept. */
static void handshake(int fd, struct buf *in)
{
	char id[64], hdr[512], expect[41], token[256];
	char *p, *start, *end;
	size_t len;

	p = read_until(fd, in, 0, "<stream:stream", 10.0);
	p = read_until(fd, in, (size_t)(p - in->data), ">", 10.0);
	buf_consume(in, (size_t)(p - in->data) + 1);
	snprintf(id, sizeof(id), "bench-%ld-%lx-1", (long)getpid(), (unsigned long)util_now_ns());
	len = (size_t)snprintf(hdr, sizeof(hdr),
			       "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
			       " xmlns:stream='http://etherx.jabber.org/streams' from='" BENCH_DOMAIN
			       "' id='%s'>", id);
	send_all(fd, hdr, len);
	end = read_until(fd, in, 0, "</handshake>", 10.0);
	/* <handshake> may carry attributes (an xmlns): skip to its '>'. */
	start = find(in->data, in->len, "<handshake");
	if (start && start < end)
		start = memchr(start, '>', (size_t)(end - start));
	else
		start = NULL;
	if (!start)
		die("malformed handshake from ope-component: %.200s", in->data);
	start++;
	len = (size_t)(end - start);
	if (len >= sizeof(token))
		die("handshake token too long");
	memcpy(token, start, len);
	token[len] = '\0';
	buf_consume(in, (size_t)(end - in->data) + strlen("</handshake>"));
	snprintf(hdr, sizeof(hdr), "%s%s", id, BENCH_SECRET);
	sha1_hex(hdr, expect);
	if (strcmp(token, expect) != 0)
		die("handshake digest is wrong (got %.40s)", token);
	send_all(fd, "<handshake/>", strlen("<handshake/>"));
}

/* A loopback port free right now, for metrics.listen. */
static int free_port(void)
{
	int port, fd = listen_loopback(&port);

	close(fd);
	return port;
}

/* GET /metrics from 127.0.0.1:PORT into B (the whole answer); dies on
 * failure. ope-component's HTTP thread answers it; the stanza thread does
 * not take part. */
static void scrape_metrics(int port, struct buf *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { 5, 0 };
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t r;

	b->len = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot connect to the metrics endpoint 127.0.0.1:%d: %s", port,
		    strerror(errno));
	send_all(fd, req, strlen(req));
	while ((r = read_into(fd, b)) > 0)
		;
	if (r < 0)
		die("reading /metrics: %s", strerror(errno));
	close(fd);
	if (!find(b->data, b->len, " 200 "))
		die("/metrics did not answer 200: %.100s", b->len ? b->data : "(nothing)");
}

/* The value of the sample line NAME in /metrics text B, or -1. */
static double sample(struct buf *b, const char *name)
{
	char key[200], *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	p = find(b->data, b->len, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* utime + stime of PID in seconds, from /proc/PID/stat; -1 if unreadable. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], data[1024], *p;
	unsigned long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	p = strrchr(data, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int with_password;

/* A guess from another account, before each measured message: its error
 * reply is a <message>, which the reply counter skips. */
static void append_flood(struct buf *out, unsigned i)
{
	int n;

	buf_reserve(out, 400);
	n = snprintf(out->data + out->len, out->cap - out->len,
		     "<message xml:lang='en' type='chat' id='f%u' to='" BENCH_DOMAIN
		     "' from='mallory@localhost/flood'><example_tag xmlns='https://example.net/"
		     "our_extension' data='x' password='guess%u'/><body>b</body></message>", i, i);
	out->len += (size_t)n;
}

static void append_message(struct buf *out, unsigned i, const char *body)
{
	int n;

	buf_reserve(out, 400 + body_len);
	/* Prosody's way: single quotes, an added xml:lang, attributes in no set order. */
	n = snprintf(out->data + out->len, out->cap - out->len,
		     "<message xml:lang='en' type='chat' id='b%u' to='" BENCH_DOMAIN
		     "' from='" BENCH_FROM "'><example_tag xmlns='https://example.net/our_extension'"
		     " data='stuff' another='some'%s/><body>%s</body></message>",
		     i, with_password ? " password='" BENCH_PW "'" : "", body);
	out->len += (size_t)n;
}

/* Parse one reply's id ("b<number>") from the IQ start tag at P..END. */
static long reply_index(char *p, char *end)
{
	char *gt = memchr(p, '>', (size_t)(end - p));
	char *q;

	if (!gt)
		return -1;
	*gt = '\0';
	q = strstr(p, " id='b");
	if (!q)
		q = strstr(p, " id=\"b");
	*gt = '>';
	if (!q)
		return -1;
	return strtol(q + 6, NULL, 10);
}

static int is_error_reply(char *p, char *end)
{
	char *gt = memchr(p, '>', (size_t)(end - p));
	int err;

	if (!gt)
		return 1;
	*gt = '\0';
	err = !strstr(p, "type='result'") && !strstr(p, "type=\"result\"");
	*gt = '>';
	return err;
}

static void stop_component(struct run_result *res)
{
	double deadline = now_s() + 5.0;
	struct rusage ru;
	int status;
	pid_t pid = child_pid;

	kill(pid, SIGTERM);
	for (;;) {
		pid_t r = wait4(pid, &status, WNOHANG, &ru);

		if (r == pid)
			break;
		if (r < 0)
			die("wait4: %s", strerror(errno));
		if (now_s() > deadline) {
			fprintf(stderr, "ope-bench: ope-component ignored SIGTERM for 5 s; killing it\n");
			kill(pid, SIGKILL);
			wait4(pid, &status, 0, &ru);
			break;
		}
		usleep(10000);
	}
	child_pid = -1;
	res->maxrss_kib = ru.ru_maxrss;
	res->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void run_one(const struct run_spec *spec, struct run_result *res)
{
	struct buf in = { 0 }, out = { 0 };
	uint64_t *sent_at, *lat;
	unsigned sent = 0, done = 0, i;
	double cpu0, cpu1, self0, t0, t1, last_progress;
	char *body;
	int lfd, fd, port, metrics_port = 0;
	size_t off = 0;
	struct buf scraped = { 0 };
	double next_scrape;

	memset(res, 0, sizeof(*res));
	sent_at = calloc(spec->n, sizeof(*sent_at));
	lat = calloc(spec->n, sizeof(*lat));
	body = malloc(body_len + 1);
	if (!sent_at || !lat || !body)
		die("out of memory");
	for (i = 0; i < body_len; i++)
		body[i] = (char)('a' + i % 26);
	body[body_len] = '\0';

	lfd = listen_loopback(&port);
	if (spec->metrics)
		metrics_port = free_port();
	write_config(port, metrics_port, spec->profile);
	with_password = spec->profile == PROFILE_PASSWORD;
	spawn_component();
	fd = accept_component(lfd);
	close(lfd);
	handshake(fd, &in);
	/* One request before the clock starts: the password profile's first
	 * one pays the slow hash, later ones hit the cache. */
	{
		char *end;

		static const char no_pool[] = "<iq type='error' id='%.*s' "
			"from='localhost' to='" BENCH_DOMAIN "'><error type='cancel'>"
			"<service-unavailable xmlns='urn:ietf:params:xml:ns:"
			"xmpp-stanzas'/></error></iq>";

		append_message(&out, 0, "warm-up");
		send_all(fd, out.data, out.len);
		out.len = 0;
		for (;;) {
			char *iq, *id;
			char reply[512];
			int n;

			end = read_until(fd, &in, 0, "</iq>", 10.0);
			iq = find(in.data, (size_t)(end - in.data), "<iq");
			/* The pool announcement (doc/pool-protocol.md): answered
			 * as a server without mod_ope answers it. */
			if (find(iq, (size_t)(end - iq), "urn:xmpp:ope:pool:0") == NULL)
				break;
			id = find(iq, (size_t)(end - iq), "id='");
			if (id != NULL) {
				id += 4;
				n = snprintf(reply, sizeof(reply), no_pool,
					     (int)strcspn(id, "'"), id);
				if (n > 0 && (size_t)n < sizeof(reply))
					send_all(fd, reply, (size_t)n);
			}
			buf_consume(&in, (size_t)(end + 5 - in.data));
		}
		if (is_error_reply(find(in.data, (size_t)(end - in.data), "<iq"), end))
			die("the warm-up request was refused: %.300s", in.data);
		buf_consume(&in, (size_t)(end + 5 - in.data));
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));

	cpu0 = proc_cpu_s(child_pid);
	self0 = self_cpu_s();
	t0 = last_progress = now_s();
	next_scrape = t0 + SCRAPE_SECONDS;
	while (done < spec->n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t ts = 0;
		char *p, *end;
		ssize_t r;

		if (spec->metrics && now_s() >= next_scrape) {
			scrape_metrics(metrics_port, &scraped);
			res->scrapes++;
			next_scrape += SCRAPE_SECONDS;
		}
		/* Top up the window. */
		while (sent < spec->n && sent - done < spec->window) {
			if (!ts)
				ts = util_now_ns();
			sent_at[sent] = ts;
			for (i = 0; i < spec->flood; i++)
				append_flood(&out, sent * spec->flood + i);
			append_message(&out, sent, body);
			sent++;
		}
		if (off < out.len) {
			r = send(fd, out.data + off, out.len - off, MSG_NOSIGNAL);
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				die("send: %s", strerror(errno));
			if (r > 0)
				off += (size_t)r;
			if (off == out.len)
				off = out.len = 0;
		}
		if (off < out.len)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
			if (now_s() - last_progress > STALL_SECONDS)
				die("no reply for %d s (%u of %u answered)", STALL_SECONDS, done, spec->n);
			continue;
		}
		r = read_into(fd, &in);
		if (r == 0)
			die("ope-component closed the connection after %u replies", done);
		/* With a flood the component writes several replies back to back
		 * with Nagle on; ACK at once so the measured one does not wait
		 * for our delayed ACK (the Linux option is not sticky). */
		if (spec->flood) {
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		}
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("recv: %s", strerror(errno));
		}
		/* Every complete </iq> is one reply. */
		p = in.data;
		while ((end = find(p, in.len - (size_t)(p - in.data), "</iq>"))) {
			char *iq = find(p, (size_t)(end - p), "<iq");
			long idx = iq ? reply_index(iq, end) : -1;
			uint64_t now;

			if (idx < 0 || (unsigned long)idx >= spec->n || lat[idx])
				die("unexpected reply: %.200s", iq ? iq : p);
			if (is_error_reply(iq, end))
				res->errors++;
			now = util_now_ns();
			lat[idx] = now - sent_at[idx] + 1; /* +1: 0 marks "not yet" */
			done++;
			p = end + 5;
		}
		if (find(p, in.len - (size_t)(p - in.data), "</stream:stream>"))
			die("ope-component closed its stream after %u replies", done);
		buf_consume(&in, (size_t)(p - in.data));
		last_progress = now_s();
	}
	t1 = now_s();
	cpu1 = proc_cpu_s(child_pid);
	res->self_cpu_us = (self_cpu_s() - self0) / spec->n * 1e6;
	res->seconds = t1 - t0;
	res->cpu_us = (cpu0 >= 0 && cpu1 >= 0) ? (cpu1 - cpu0) / spec->n * 1e6 : -1;

	qsort(lat, spec->n, sizeof(*lat), util_cmp_u64);
	res->p50_us = (lat[(spec->n - 1) * 50 / 100] - 1) / 1e3;
	res->p99_us = (lat[(spec->n - 1) * 99 / 100] - 1) / 1e3;
	res->max_us = (lat[spec->n - 1] - 1) / 1e3;
	if (spec->metrics) {
		/* The counters must have seen exactly what was sent: the
		 * measured messages and the warm-up one (and, with a flood,
		 * the flood's). */
		double got, want = (double)spec->n * (1 + spec->flood) + 1;

		scrape_metrics(metrics_port, &scraped);
		res->scrapes++;
		got = sample(&scraped, "ope_stanzas_received_total{kind=\"message\"}");
		if (got != want ||
		    sample(&scraped, "ope_request_duration_seconds_count") != want)
			die("/metrics counted %.0f messages, %.0f were sent "
			    "(%u measured, the warm-up and the flood's)", got,
			    want, spec->n);
	}

	send_all(fd, "</stream:stream>", strlen("</stream:stream>"));
	stop_component(res);
	close(fd);
	remove_files();
	free(sent_at);
	free(lat);
	free(body);
	free(in.data);
	free(out.data);
	free(scraped.data);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* For each N:W run both with and without metrics: the medians side by
 * side, and the difference in component CPU per message. */
static void compare_metrics(const struct run_spec *runs, const struct run_result *res,
			    unsigned nruns)
{
	unsigned i, j, done[MAX_RUNS] = { 0 };

	for (i = 0; i < nruns; i++) {
		double cpu[2][MAX_RUNS], rate[2][MAX_RUNS], c[2], r[2];
		unsigned k[2] = { 0, 0 };

		if (done[i])
			continue;
		for (j = i; j < nruns; j++) {
			int m = runs[j].metrics;

			if (runs[j].n != runs[i].n || runs[j].window != runs[i].window)
				continue;
			done[j] = 1;
			cpu[m][k[m]] = res[j].cpu_us;
			rate[m][k[m]++] = runs[j].n / res[j].seconds;
		}
		if (!k[0] || !k[1])
			continue;
		c[0] = median(cpu[0], k[0]);
		c[1] = median(cpu[1], k[1]);
		r[0] = median(rate[0], k[0]);
		r[1] = median(rate[1], k[1]);
		printf("\nmetrics on vs off, %u messages, window %u (medians of %u and %u runs):\n"
		       "  cpu us/msg %.2f vs %.2f (%+.1f %%), replies/s %.0f vs %.0f (%+.1f %%)\n",
		       runs[i].n, runs[i].window, k[1], k[0], c[1], c[0],
		       (c[1] / c[0] - 1) * 100, r[1], r[0], (r[1] / r[0] - 1) * 100);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ope-bench [-c PATH] [-r N:W[:m][:PROFILE[:F]]]... [-b BYTES]\n"
		"  -c PATH   ope-component to run (default ./ope-component)\n"
		"  -r N:W    a run of N messages with at most W awaiting a reply;\n"
		"            repeatable (default: -r 200000:1000 -r 20000:1); with :m\n"
		"            the component serves metrics, scraped every %.0f s, and\n"
		"            its counters must equal N at the end.\n"
		"            PROFILE: open (no access section, limits off; the\n"
		"            default), rules (1,000 rules, limits on) or password\n"
		"            (a yescrypt password rule, limits on); :F after it adds F\n"
		"            wrong-password messages from another account before\n"
		"            each measured one (their errors are not measured)\n"
		"  -b BYTES  body length of each message (default 11)\n"
		"Acts as the XEP-0114 server on 127.0.0.1 (free port), starts a fresh\n"
		"ope-component per run and prints one table row per run; with runs\n"
		"both with and without :m, a last line compares their medians.\n",
		SCRAPE_SECONDS);
}

/* ":m", a profile name and a flood count, each optional, in that order. */
static int parse_run_suffix(const char *rest, struct run_spec *r)
{
	char copy[64], *tok, *save = NULL;
	unsigned k;

	r->metrics = 0;
	r->profile = PROFILE_OPEN;
	r->flood = 0;
	if (strlen(rest) >= sizeof(copy))
		return -1;
	strcpy(copy, rest);
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		if (strcmp(tok, "m") == 0) {
			r->metrics = 1;
			continue;
		}
		for (k = 0; k < 3 && strcmp(tok, profile_names[k]) != 0; k++)
			;
		if (k < 3) {
			r->profile = (enum profile)k;
			continue;
		}
		if (tok[0] < '0' || tok[0] > '9')
			return -1;
		r->flood = (unsigned)strtoul(tok, NULL, 10);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run_spec runs[MAX_RUNS];
	struct run_result res[MAX_RUNS];
	unsigned nruns = 0, i;
	int opt;

	while ((opt = getopt(argc, argv, "c:r:b:h")) != -1) {
		switch (opt) {
		case 'c':
			component_path = optarg;
			break;
		case 'r': {
			int end = 0;

			if (nruns == MAX_RUNS ||
			    sscanf(optarg, "%u:%u%n", &runs[nruns].n, &runs[nruns].window,
				   &end) != 2 ||
			    runs[nruns].n == 0 || runs[nruns].window == 0) {
				fprintf(stderr, "ope-bench: -r wants N:W[:m][:PROFILE[:F]] with N, W > 0 "
					"(at most %d runs)\n", MAX_RUNS);
				return 2;
			}
			if (parse_run_suffix(optarg + end, &runs[nruns]) != 0) {
				fprintf(stderr, "ope-bench: '%s': after N:W come :m, a profile "
					"(open, rules, password) and a flood count\n", optarg);
				return 2;
			}
			nruns++;
			break;
		}
		case 'b':
			body_len = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (access(component_path, X_OK) != 0) {
		fprintf(stderr, "ope-bench: %s is not an executable (give its path with -c)\n",
			component_path);
		return 2;
	}
	if (nruns == 0) {
		runs[0] = (struct run_spec){ 200000, 1000, 0, PROFILE_OPEN, 0 };
		runs[1] = (struct run_spec){ 20000, 1, 0, PROFILE_OPEN, 0 };
		nruns = 2;
	}

	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nruns; i++) {
		fprintf(stderr, "ope-bench: run %u: %u messages, window %u, metrics %s...\n",
			i + 1, runs[i].n, runs[i].window, runs[i].metrics ? "on" : "off");
		run_one(&runs[i], &res[i]);
	}

	printf("ope-component: %s (fresh process per run, loopback, body %zu bytes)\n\n",
	       component_path, body_len);
	printf("%-13s %7s %-11s %8s %6s %7s %9s %8s %8s %8s %11s %12s %10s %4s\n", "mode",
	       "metrics", "profile", "messages", "window", "seconds", "replies/s", "p50 us",
	       "p99 us", "max us", "cpu us/msg", "bench us/msg", "maxRSS KiB", "exit");
	for (i = 0; i < nruns; i++) {
		const char *mode = runs[i].window == 1 ? "one-at-a-time" : "pipelined";
		char prof[24];

		if (runs[i].flood)
			snprintf(prof, sizeof(prof), "%s+%ux", profile_names[runs[i].profile],
				 runs[i].flood);
		else
			snprintf(prof, sizeof(prof), "%s", profile_names[runs[i].profile]);
		printf("%-13s %7s %-11s %8u %6u %7.3f %9.0f %8.1f %8.1f %8.1f %11.2f %12.2f %10ld %4d\n",
		       mode, runs[i].metrics ? "on" : "off", prof, runs[i].n, runs[i].window, res[i].seconds, runs[i].n / res[i].seconds,
		       res[i].p50_us, res[i].p99_us, res[i].max_us, res[i].cpu_us,
		       res[i].self_cpu_us, res[i].maxrss_kib, res[i].exit_status);
		if (res[i].errors)
			printf("  !! %u replies were not type=result\n", res[i].errors);
	}
	compare_metrics(runs, res, nruns);
	for (i = 0; i < nruns; i++)
		if (res[i].errors || res[i].exit_status != 0)
			return 1;
	return 0;
}
