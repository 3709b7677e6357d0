/* SPDX-License-Identifier: MIT */
/* notify.c: tell systemd (sd_notify) about readiness, status, stopping and liveness; no-ops without libsystemd. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "notify.h"
#include "util.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

/* Process-wide, as the notification socket is. */
static struct {
	long long pet_every_ms;   /* half the watchdog interval; 0: no watchdog */
	long long last_pet_ms;
	int ready;                /* READY=1 was sent */
	int stopping;             /* STOPPING=1 was sent */
	int silent;               /* another process is the main one now */
} nt;

static void send_state(const char *state)
{
	int rc;

	if (nt.silent)
		return;
	rc = sd_notify(0, state);

	if (rc < 0)
		log_debug("sd_notify failed: %s", strerror(-rc));
}

void notify_init(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		nt.pet_every_ms = (long long)(usec / 2000);
		if (nt.pet_every_ms < 1)
			nt.pet_every_ms = 1;
		nt.last_pet_ms = (long long)util_now_ms();
		log_debug("systemd watchdog every %llu ms: petting every %lld ms",
			  (unsigned long long)(usec / 1000), nt.pet_every_ms);
	}
}

void notify_link_state(void *arg, enum link_state state, const char *detail)
{
	char msg[512];

	(void)arg;
	if (state == LINK_UP && !nt.ready) {
		nt.ready = 1;
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", detail);
	} else if (state == LINK_STOPPED && !nt.stopping) {
		nt.stopping = 1;
		snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", detail);
	} else {
		snprintf(msg, sizeof(msg), "STATUS=%s", detail);
	}
	send_state(msg);
}

void notify_stopping(const char *detail)
{
	char msg[512];

	if (nt.stopping)
		return;
	nt.stopping = 1;
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", detail);
	send_state(msg);
}

void notify_mainpid(int pid)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "MAINPID=%d", pid);
	send_state(msg);
	nt.silent = 1;
	nt.pet_every_ms = 0;
}

void notify_watchdog(void)
{
	long long now;

	if (nt.pet_every_ms == 0)
		return;
	now = (long long)util_now_ms();
	if (now - nt.last_pet_ms < nt.pet_every_ms)
		return;
	nt.last_pet_ms = now;
	send_state("WATCHDOG=1");
}

int notify_wait_ms(int max_ms)
{
	long long left;

	if (nt.pet_every_ms == 0)
		return max_ms;
	left = nt.last_pet_ms + nt.pet_every_ms - (long long)util_now_ms();
	if (left < 0)
		return 0;
	return left < max_ms ? (int)left : max_ms;
}

#else /* !HAVE_SYSTEMD: built without libsystemd, nothing to tell. */

void notify_init(void)
{
}

void notify_link_state(void *arg, enum link_state state, const char *detail)
{
	(void)arg;
	(void)state;
	(void)detail;
}

void notify_stopping(const char *detail)
{
	(void)detail;
}

void notify_mainpid(int pid)
{
	(void)pid;
}

void notify_watchdog(void)
{
}

int notify_wait_ms(int max_ms)
{
	return max_ms;
}

#endif
