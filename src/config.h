/*
 * The configuration model. config_load() turns a libconfig file into these
 * plain structs, checking every rule; nothing else in sockd sees libconfig.
 * It binds nothing, logs nothing and never exits: errors come back as
 * "FILE:LINE: message" lines.
 */
#ifndef SOCKD_CONFIG_H
#define SOCKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define CONFIG_DEFAULT_MAX_CHILDREN 512
#define CONFIG_NAME_MAX 64

enum svc_proto { PROTO_TCP, PROTO_UDP };

struct builtin;

struct svc_conf {
	char *name;
	char *file;			/* where the service is defined */
	int line;
	enum svc_proto proto;
	struct addr addr;
	uint16_t port;
	char *server;			/* absolute path, or NULL for a built-in */
	const struct builtin *builtin;	/* or NULL for a server */
	char **argv;			/* NULL-terminated; NULL for a built-in */
	bool wait;
	unsigned instances;		/* 0: no per-service cap */
	int backlog;			/* listen(2) backlog; 0: somaxconn */
	bool disabled;
};

struct global_conf {
	unsigned max_children;
	char *pidfile;			/* NULL: none */
};

struct config {
	char *path;
	struct global_conf global;
	struct svc_conf *svcs;
	size_t nsvcs;
	size_t nenabled;
};

/* Accumulated error messages, one "FILE:LINE: message\n" per error. */
struct cfgerr {
	char *text;
	size_t len;
	unsigned count;
};

struct config *config_load(const char *path, struct cfgerr *);
void config_free(struct config *);
void cfgerr_free(struct cfgerr *);
const char *svc_proto_name(enum svc_proto);

#endif
