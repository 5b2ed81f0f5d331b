/*
 * Socket helpers. They never log: they return -1 with errno set and the
 * caller, who knows which service is concerned, reports it.
 */
#ifndef SOCKD_SOCK_H
#define SOCKD_SOCK_H

#include <stdbool.h>
#include <sys/socket.h>

struct sockopts;

/* A bound (and listening) socket with the options; on failure of an
 * option, *failed names it. */
int sock_listen(int type, const struct sockaddr *, socklen_t, int backlog,
    bool v6only, const struct sockopts *, const char **failed);
int sock_accept(int lfd, struct sockaddr_storage *, socklen_t *);
int sock_set_nonblock(int fd, bool on);
int sock_local(int fd, struct sockaddr_storage *, socklen_t *);

#endif
