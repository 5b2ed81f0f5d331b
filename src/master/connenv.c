/*
 * The connection's environment (connenv.h), family by family, each
 * writing at most its CONNENV_* slots.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "connenv.h"
#include "proxyproto.h"

static void
put(struct connenv *e, char *text)
{
	assert(e->n < CONNENV_MAX);
	e->v[e->n++] = text;
}

static void
put_addr(struct connenv *e, const struct addr *a, uint16_t port, char *ipbuf,
    size_t iplen, const char *ipname, char *portbuf, size_t portlen,
    const char *portname)
{
	char s[ADDR_STRLEN] = "?";

	if (a)
		addr_format(a, s);
	else
		port = 0;
	snprintf(ipbuf, iplen, "%s=%s", ipname, s);
	snprintf(portbuf, portlen, "%s=%u", portname, port);
	put(e, ipbuf);
	put(e, portbuf);
}

/* TCP* or UDP*: tcpserver's names, and TCPCONNNUM as s6-tcpserver's. The
 * local end is read here, the one use it has. */
static void
family_ip(struct connenv *e, bool tcp, const struct connenv_in *in)
{
	struct addr la;
	uint16_t lport = 0;
	bool local = in->local && addr_from_sockaddr(in->local, &la, &lport) == 0;

	if (in->connnum && tcp) {
		snprintf(e->connnum, sizeof(e->connnum), "TCPCONNNUM=%u",
		    in->connnum);
		put(e, e->connnum);
	}
	put_addr(e, in->peer, in->port, e->rip, sizeof(e->rip), tcp ?
	    "TCPREMOTEIP" : "UDPREMOTEIP", e->rport, sizeof(e->rport), tcp ?
	    "TCPREMOTEPORT" : "UDPREMOTEPORT");
	put_addr(e, local ? &la : NULL, lport, e->lip, sizeof(e->lip), tcp ?
	    "TCPLOCALIP" : "UDPLOCALIP", e->lport, sizeof(e->lport), tcp ?
	    "TCPLOCALPORT" : "UDPLOCALPORT");
}

/* IPC*: s6-ipcserver's names; the peer's only for a connection. */
static void
family_ipc(struct connenv *e, const struct svc_conf *sc,
    const struct ucred *cred, unsigned connnum)
{
	snprintf(e->path, sizeof(e->path), "IPCLOCALPATH=%s", sc->unix_path);
	put(e, e->path);
	if (cred == NULL)
		return;
	snprintf(e->euid, sizeof(e->euid), "IPCREMOTEEUID=%u", (unsigned)cred->uid);
	snprintf(e->egid, sizeof(e->egid), "IPCREMOTEEGID=%u", (unsigned)cred->gid);
	snprintf(e->pid, sizeof(e->pid), "IPCREMOTEPID=%ld", (long)cred->pid);
	put(e, e->euid);
	put(e, e->egid);
	put(e, e->pid);
	if (connnum) {
		snprintf(e->connnum, sizeof(e->connnum), "IPCCONNNUM=%u", connnum);
		put(e, e->connnum);
	}
}

/* sd_listen_fds(3): the socket's name is the service's, or "connection"
 * for one accepted for the handler. */
static void
family_listen(struct connenv *e, const struct svc_conf *sc, bool accepted)
{
	snprintf(e->listen_pid, sizeof(e->listen_pid), "LISTEN_PID=");
	snprintf(e->fdnames, sizeof(e->fdnames), "LISTEN_FDNAMES=%s",
	    accepted ? "connection" : sc->name);
	put(e, "LISTEN_FDS=1");
	put(e, e->listen_pid);
	put(e, e->fdnames);
}

void
connenv_build(struct connenv *e, const struct svc_conf *sc,
    const char *env_service, const struct connenv_in *in)
{
	e->n = 0;
	put(e, sc->proto == PROTO_UNIX ? "PROTO=IPC" :
	    sc->proto == PROTO_TCP ? "PROTO=TCP" : "PROTO=UDP");
	put(e, (char *)env_service);
	if (sc->proto == PROTO_UNIX)
		family_ipc(e, sc, in->cred, in->connnum);
	else if (in->accepted)
		family_ip(e, sc->proto == PROTO_TCP, in);
	/* Before a header's SSL_*: sockd's own handshake is the one it did. */
	for (size_t i = 0; in->tls && in->tls[i] && i < CONNENV_TLS; i++)
		put(e, in->tls[i]);
	for (size_t i = 0; in->proxy && in->proxy[i] && i < CONNENV_PROXY; i++)
		put(e, in->proxy[i]);
	if (sc->listen_fds)
		family_listen(e, sc, in->accepted);
}

static void
put_proxy(struct connenv_proxy *x, size_t *n, char *buf, size_t len,
    const char *name, const char *value)
{
	if (value[0] == '\0' || *n >= CONNENV_PROXY)
		return;
	snprintf(buf, len, "%s=%s", name, value);
	x->v[(*n)++] = buf;
}

void
connenv_proxy(struct connenv_proxy *x, const struct sockaddr *balancer,
    const struct proxyproto_tlvs *t)
{
	char ip[ADDR_STRLEN] = "", port[8] = "";
	struct addr a;
	uint16_t pt;
	size_t n = 0;

	if (addr_from_sockaddr(balancer, &a, &pt) == 0) {
		addr_format(&a, ip);
		snprintf(port, sizeof(port), "%u", pt);
	}
	put_proxy(x, &n, x->proxy_ip, sizeof(x->proxy_ip), "TCPPROXYIP", ip);
	put_proxy(x, &n, x->proxy_port, sizeof(x->proxy_port), "TCPPROXYPORT",
	    port);
	put_proxy(x, &n, x->alpn, sizeof(x->alpn), "PROXY_ALPN", t->alpn);
	put_proxy(x, &n, x->authority, sizeof(x->authority), "PROXY_AUTHORITY",
	    t->authority);
	put_proxy(x, &n, x->unique_id, sizeof(x->unique_id), "PROXY_UNIQUE_ID",
	    t->unique_id);
	if (t->ssl) {
		put_proxy(x, &n, x->ssl_version, sizeof(x->ssl_version),
		    "SSL_PROTOCOL", t->ssl_version);
		put_proxy(x, &n, x->ssl_cn, sizeof(x->ssl_cn), "SSL_PEER_CERT_CN",
		    t->ssl_cn);
	}
	x->v[n] = NULL;
}
