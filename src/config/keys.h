/*
 * The configuration's keys, one registry per section: the "sockd"
 * section's own (keys_global), a service's own (keys_service) and the
 * controls a service sets or the "sockd" section defaults (keys_controls).
 * Each key is declared once, with the type the loader accepts, the field
 * it fills (an offset in struct svc_conf or struct global_conf), how a
 * reload compares it and what a change does to a running service. The
 * loader checks every section against its table and reads the plain keys
 * through it (cfgkeys.c, cfgcontrols.c, cfgsockopt.c, cfgservice.c);
 * confdiff.c compares two configurations by the same tables. A nested
 * group (jail, tls, rlimits) is one key here, compared whole; its inner
 * keys are its loader file's own table, as they fill a struct of their own.
 * Pure data: no libconfig, no I/O.
 */
#ifndef SOCKD_KEYS_H
#define SOCKD_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* The types the loader takes for a key. */
enum ktype { K_STRING, K_INT, K_BOOL, K_STRINGS, K_GROUP, K_LIST, K_ONE_OR_MORE };

/* How a reload compares the field (confdiff.c). */
enum keycmp {
	KC_NONE,	/* not compared: why says why */
	KC_UINT,	/* unsigned */
	KC_U16,		/* uint16_t */
	KC_INT,		/* int */
	KC_BOOL,
	KC_STR,		/* char *; NULL: unset */
	KC_CHARS,	/* char[]; "": unset */
	KC_STRV,	/* char **, NULL-terminated, as a sequence */
	KC_ACL,		/* struct acl, as a set */
	KC_IDLIST,	/* struct idlist, as a set */
	KC_OPT,		/* int shown with fmt; -1: unset */
	KC_OPT_SET,	/* int shown with fmt; unset while the bool at flag is false */
	/* The fields whose value is more than one member of svc_conf. */
	KC_ADDRESS, KC_PROTOCOL, KC_BUILTIN, KC_STDERR, KC_USER, KC_GROUP,
	KC_RLIMITS, KC_JAIL, KC_TLS,
};

/* What a change does to a running service (sockd(8), SIGHUP). */
enum keyeffect {
	KE_APPLY,	/* new connections have it; the sockets are kept */
	KE_REBIND,	/* another socket: the service is bound anew (reload_pairs) */
	KE_AT_BIND,	/* set when a socket is bound: a kept one keeps the old
			 * value (sockopt_needs_rebind) */
};

/* flags */
#define KEY_PLAIN	0x1	/* read as it is: K_BOOL into a bool, K_INT
				 * into an unsigned within min and max */
#define KEY_SOCKOPT	0x2	/* a socket option: not for a unix service */
#define KEY_TCP		0x4	/* a TCP option: not for a UDP service */

struct keyspec {
	const char *name;	/* NULL ends a table */
	enum ktype type;
	enum keycmp cmp;
	size_t off;		/* the field */
	enum keyeffect effect;
	unsigned flags;
	long long min, max;	/* KEY_PLAIN K_INT */
	const char *fmt;	/* KC_OPT, KC_OPT_SET */
	size_t flag;		/* KC_OPT_SET: the bool that says it is set */
	const char *why;	/* KC_NONE */
};

/* An entry begins so: KEY("name", K_INT), then the fields in order or by name. */
#define KEY(n, t) .name = (n), .type = (t)

extern const struct keyspec keys_global[];
extern const struct keyspec keys_service[];
extern const struct keyspec keys_controls[];

#endif
