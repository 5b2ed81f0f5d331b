/*
 * Socket helpers. They never log: they return -1 with errno set and the
 * caller, who knows which service is concerned, reports it.
 */
#ifndef SOCKD_SOCK_H
#define SOCKD_SOCK_H

#include <stdbool.h>
#include <sys/socket.h>

int sock_listen(int type, const struct sockaddr *, socklen_t, int backlog,
    bool v6only);
int sock_accept(int lfd, struct sockaddr_storage *, socklen_t *);
int sock_set_nonblock(int fd, bool on);
int sock_local(int fd, struct sockaddr_storage *, socklen_t *);

#endif
