/*
 * compat.h
 *		Differences between PostgreSQL major versions, in one place.
 *
 * The extension targets PostgreSQL 15 (Debian bookworm); later versions are
 * welcome but untested. Everything version-dependent goes behind
 * PG_VERSION_NUM here so the .c files read the same on every version.
 */
#ifndef TASK_COMPAT_H
#define TASK_COMPAT_H

#include "storage/proc.h"

#if PG_VERSION_NUM < 150000
#error "task requires PostgreSQL 15 or later"
#endif

/* The local transaction id of this backend's current transaction. */
#if PG_VERSION_NUM >= 170000
#define TASK_CURRENT_LXID() (MyProc->vxid.lxid)
#else
#define TASK_CURRENT_LXID() (MyProc->lxid)
#endif

#endif							/* TASK_COMPAT_H */
