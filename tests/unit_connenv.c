/*
 * A connection's environment: each family's variables, and the bound
 * CONNENV_MAX reached exactly by the largest (TCP behind a PROXY header
 * with every TLV, with listen_fds).
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "connenv.h"
#include "proxyproto.h"
#include "testutil.h"

static bool
has(const struct connenv *e, const char *var)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i], var) == 0)
			return true;
	return false;
}

static struct addr
addr_of(const char *ip)
{
	struct addr a;

	ck_assert_int_eq(addr_parse(ip, &a), 0);
	return a;
}

static struct sockaddr_in
sin_of(const char *ip, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

START_TEST(tcp_behind_proxy_fills_the_bound)
{
	struct svc_conf sc = { .name = "web", .proto = PROTO_TCP,
	    .listen_fds = true };
	struct proxyproto_tlvs t = { .alpn = "h2", .authority = "a.example",
	    .unique_id = "u1", .ssl = true, .ssl_version = "TLSv1.3",
	    .ssl_cn = "client" };
	struct sockaddr_in local = sin_of("198.51.100.1", 443),
	    lb = sin_of("10.0.0.1", 5555);
	struct addr peer = addr_of("192.0.2.7");
	struct connenv_proxy x;
	struct connenv e;
	/* What sockd's own handshake found (tlsrelay.c), every variable. */
	char *tls[] = { "SSL_PROTOCOL=TLSv1.3", "SSL_CIPHER=TLS_AES_128_GCM_SHA256",
	    "SSL_TLS_SNI_SERVERNAME=a.example", "SSL_ALPN=h2",
	    "SSL_PEER_CERT_SUBJECT=/CN=client", "SSL_PEER_CERT_HASH=SHA256:00",
	    NULL };

	connenv_proxy(&x, (struct sockaddr *)&lb, &t);
	connenv_build(&e, &sc, "SOCKD_SERVICE=web", &(struct connenv_in){
	    .accepted = true, .peer = &peer, .port = 40000,
	    .local = (struct sockaddr *)&local, .connnum = 3, .proxy = x.v,
	    .tls = tls });
	ck_assert_uint_eq(e.n, CONNENV_MAX);
	ck_assert(has(&e, "SSL_ALPN=h2"));
	ck_assert(has(&e, "SSL_PEER_CERT_SUBJECT=/CN=client"));
	ck_assert(has(&e, "PROTO=TCP"));
	ck_assert(has(&e, "SOCKD_SERVICE=web"));
	ck_assert(has(&e, "TCPCONNNUM=3"));
	ck_assert(has(&e, "TCPREMOTEIP=192.0.2.7"));
	ck_assert(has(&e, "TCPREMOTEPORT=40000"));
	ck_assert(has(&e, "TCPLOCALIP=198.51.100.1"));
	ck_assert(has(&e, "TCPLOCALPORT=443"));
	ck_assert(has(&e, "TCPPROXYIP=10.0.0.1"));
	ck_assert(has(&e, "TCPPROXYPORT=5555"));
	ck_assert(has(&e, "PROXY_ALPN=h2"));
	ck_assert(has(&e, "PROXY_AUTHORITY=a.example"));
	ck_assert(has(&e, "PROXY_UNIQUE_ID=u1"));
	ck_assert(has(&e, "SSL_PROTOCOL=TLSv1.3"));
	ck_assert(has(&e, "SSL_PEER_CERT_CN=client"));
	ck_assert(has(&e, "LISTEN_FDS=1"));
	ck_assert(has(&e, "LISTEN_PID="));
	ck_assert(has(&e, "LISTEN_FDNAMES=connection"));
}
END_TEST

START_TEST(udp_peer_and_wait_service)
{
	struct svc_conf sc = { .name = "dns", .proto = PROTO_UDP };
	struct sockaddr_in local = sin_of("127.0.0.1", 53);
	struct addr peer = addr_of("192.0.2.8");
	struct connenv e;

	connenv_build(&e, &sc, "SOCKD_SERVICE=dns", &(struct connenv_in){
	    .accepted = true, .peer = &peer, .port = 5353,
	    .local = (struct sockaddr *)&local, .connnum = 1 });
	ck_assert_uint_eq(e.n, 6);
	ck_assert(has(&e, "PROTO=UDP"));
	ck_assert(has(&e, "UDPREMOTEIP=192.0.2.8"));
	ck_assert(has(&e, "UDPLOCALPORT=53"));
	ck_assert(!has(&e, "TCPCONNNUM=1"));
	/* A wait service's handler holds the socket: no peer, no address. */
	sc.listen_fds = true;
	connenv_build(&e, &sc, "SOCKD_SERVICE=dns", &(struct connenv_in){ 0 });
	ck_assert_uint_eq(e.n, 5);
	ck_assert(has(&e, "LISTEN_FDNAMES=dns"));
}
END_TEST

START_TEST(ipc_peer)
{
	struct svc_conf sc = { .name = "u", .proto = PROTO_UNIX,
	    .unix_path = "@sockd-test" };
	struct ucred cred = { .pid = 42, .uid = 1000, .gid = 100 };
	struct connenv e;

	connenv_build(&e, &sc, "SOCKD_SERVICE=u", &(struct connenv_in){
	    .accepted = true, .cred = &cred, .connnum = 2 });
	ck_assert_uint_eq(e.n, 7);
	ck_assert(has(&e, "PROTO=IPC"));
	ck_assert(has(&e, "IPCLOCALPATH=@sockd-test"));
	ck_assert(has(&e, "IPCREMOTEEUID=1000"));
	ck_assert(has(&e, "IPCREMOTEEGID=100"));
	ck_assert(has(&e, "IPCREMOTEPID=42"));
	ck_assert(has(&e, "IPCCONNNUM=2"));
}
END_TEST

Suite *
connenv_suite(void)
{
	Suite *s = suite_create("connenv");

	tu_tcase(s, "connenv", NULL, NULL, 0, tcp_behind_proxy_fills_the_bound,
	    udp_peer_and_wait_service, ipc_peer, NULL);
	return s;
}
