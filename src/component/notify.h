/* SPDX-License-Identifier: MIT */
/* notify.h: tell systemd (sd_notify) about readiness, status, stopping and liveness; no-ops without libsystemd. */
#ifndef OPE_NOTIFY_H
#define OPE_NOTIFY_H

#include "link_state.h"

/* Read the service manager's watchdog interval (WATCHDOG_USEC), once at
 * start. Does nothing when ope was built without libsystemd or is not run
 * by systemd (no NOTIFY_SOCKET). */
void notify_init(void);

/* A link_state_fn (ARG unused): STATUS=DETAIL on every change, READY=1 the
 * first time the link is up, STOPPING=1 when it stopped for good. */
void notify_link_state(void *arg, enum link_state state, const char *detail);

/* Shutdown has begun: STOPPING=1 with STATUS=DETAIL (sent once). */
void notify_stopping(const char *detail);

/* The link was handed to process PID: tell the service manager to follow
 * it (MAINPID=) and send nothing more from this process. */
void notify_mainpid(int pid);

/* Pet the watchdog (WATCHDOG=1) when half its interval has passed since the
 * last pet; call on every turn of the event loop. */
void notify_watchdog(void);

/* How long in ms the event loop may wait before notify_watchdog() is due,
 * capped at MAX_MS; MAX_MS when there is no watchdog. */
int notify_wait_ms(int max_ms);

#endif
