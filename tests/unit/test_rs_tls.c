/*
 * tls+tcp:// between the remote plugin and a sluice-shuffled daemon
 * (common/sockets.c: shc_dial, shc_listen), with a CA and certificates
 * made by the openssl program for this run: a daemon presenting its
 * certificate takes pushes, a commit and fetches from a client trusting
 * the CA. A client without SLUICE_SHUFFLE_TLS_CA, or with one it cannot
 * read, fails at once naming the variable; one trusting another CA, or
 * dialling a daemon whose certificate is another host's, never connects
 * and says the service is unreachable, in seconds. A listener without its
 * certificate and key says which variable is missing.
 *
 * Without the openssl program the cases cannot run: the program says so
 * and exits 77, which ctest reports as skipped (not passed).
 */
#include <stdarg.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "rs_daemons.h"

static char root[256];
static char ca[600], wrong_ca[600], cert[600], key[600], other[500];
static struct daemon dt, dother;

static void
openssl(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rv;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rv = system(cmd);
	if (rv != 0)
		fprintf(stderr, "failed (%d): %s\n", rv, cmd);
	CU_ASSERT_EQUAL_FATAL(rv, 0);
}

/* A CA, and a key and certificate it signed for CN=cn with the names
 * alt, into ROOT/<name>.{key,pem}. */
static void
make_cert(
    const char *ca_name, const char *name, const char *cn, const char *alt)
{
	openssl("cd %s && openssl req -newkey ec -pkeyopt "
	        "ec_paramgen_curve:prime256v1 -nodes -keyout %s.key -out "
	        "%s.csr -subj /CN=%s >/dev/null 2>&1",
	    root, name, name, cn);
	openssl("cd %s && printf 'subjectAltName=%s\\nbasicConstraints="
	        "CA:FALSE\\n' >%s.ext && openssl x509 -req -in %s.csr -CA "
	        "%s.pem -CAkey %s.key -CAcreateserial -out %s.pem -days 2 "
	        "-extfile %s.ext >/dev/null 2>&1",
	    root, alt, name, name, ca_name, ca_name, name, name);
}

static void
make_ca(const char *name)
{
	openssl("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	        "ec_paramgen_curve:prime256v1 -nodes -keyout %s.key -out "
	        "%s.pem -days 2 -subj '/CN=sluice test %s' >/dev/null 2>&1",
	    root, name, name, name);
}

static void
setup(void)
{
	char self[600];

	sl_tmp_dir(root, sizeof(root), "sl-rs-tls");
	snprintf(self, sizeof(self), "%s/self", root);
	setenv("SLUICE_LOCALDISK_DIR", self, 1);
	unsetenv("SLUICE_SHUFFLE_SECRET");
	make_ca("ca");
	make_ca("wrong-ca");
	/* mbedtls checks a DNS name against the URL's host, also an IP */
	make_cert("ca", "server", "localhost",
	    "DNS:localhost,IP:127.0.0.1,DNS:127.0.0.1");
	make_cert("ca", "other", "elsewhere.example", "DNS:elsewhere.example");
	snprintf(ca, sizeof(ca), "%s/ca.pem", root);
	snprintf(wrong_ca, sizeof(wrong_ca), "%s/wrong-ca.pem", root);
	snprintf(cert, sizeof(cert), "%s/server.pem", root);
	snprintf(key, sizeof(key), "%s/server.key", root);
	snprintf(other, sizeof(other), "%s/other", root);
}

/* shc_listen without what a TLS listener needs: which variable. */
static void
test_listen_errors(void)
{
	nng_socket s;
	char bound[256], notpem[700];

	setup();
	snprintf(notpem, sizeof(notpem), "%s/ca.srl", root);
	CU_ASSERT_EQUAL_FATAL(nng_rep0_open(&s), 0);
	unsetenv("SLUICE_SHUFFLE_TLS_CERT");
	unsetenv("SLUICE_SHUFFLE_TLS_KEY");
	CU_ASSERT_EQUAL(shc_listen(&host, s, "tls+tcp://127.0.0.1:0", bound,
	                    sizeof(bound), "remote"),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail,
	    "SLUICE_SHUFFLE_TLS_CERT is not "
	    "set"));
	setenv("SLUICE_SHUFFLE_TLS_CERT", cert, 1);
	CU_ASSERT_EQUAL(shc_listen(&host, s, "tls+tcp://127.0.0.1:0", bound,
	                    sizeof(bound), "remote"),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail,
	    "SLUICE_SHUFFLE_TLS_KEY is not "
	    "set"));
	setenv("SLUICE_SHUFFLE_TLS_KEY", "/nonexistent/key.pem", 1);
	CU_ASSERT_EQUAL(shc_listen(&host, s, "tls+tcp://127.0.0.1:0", bound,
	                    sizeof(bound), "remote"),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(detail, "SLUICE_SHUFFLE_TLS_KEY=/nonexistent/key.pem"));
	setenv("SLUICE_SHUFFLE_TLS_KEY", notpem, 1);
	CU_ASSERT_EQUAL(shc_listen(&host, s, "tls+tcp://127.0.0.1:0", bound,
	                    sizeof(bound), "remote"),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "not a PEM certificate"));
	/* both right: it listens, and says its port */
	setenv("SLUICE_SHUFFLE_TLS_KEY", key, 1);
	CU_ASSERT_EQUAL(shc_listen(&host, s, "tls+tcp://127.0.0.1:0", bound,
	                    sizeof(bound), "remote"),
	    0);
	CU_ASSERT_EQUAL(strncmp(bound, "tls+tcp://127.0.0.1:", 20), 0);
	CU_ASSERT_STRING_NOT_EQUAL(bound, "tls+tcp://127.0.0.1:0");
	nng_close(s);
}

static void
test_push_fetch(void)
{
	struct ld_desc d;

	setenv("SLUICE_SHUFFLE_TLS_CERT", cert, 1);
	setenv("SLUICE_SHUFFLE_TLS_KEY", key, 1);
	daemon_start(&dt, root, "t", "tls+tcp://127.0.0.1:0");
	CU_ASSERT_EQUAL(strncmp(dt.url, "tls+tcp://127.0.0.1:", 20), 0);
	setenv("SLUICE_SHUFFLE_TLS_CA", ca, 1);
	d = part(1, dt.url, NULL, SL_COMPRESSION_NONE);
	CU_ASSERT_EQUAL(push_partition(&d, 30, 100000, 0, NULL, NULL), 0);
	CU_ASSERT_TRUE(read_all(&d, 30, 100000));
}

static void
test_no_ca(void)
{
	struct ld_desc d = part(2, dt.url, NULL, SL_COMPRESSION_NONE);
	struct reading rd;

	/* the sockets dialled with the CA go */
	ld_net_fini(&host);
	unsetenv("SLUICE_SHUFFLE_TLS_CA");
	CU_ASSERT_EQUAL(push_partition(&d, 1, 10, 0, NULL, NULL), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "SLUICE_SHUFFLE_TLS_CA"));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, dt.url));
	d = part(1, dt.url, NULL, SL_COMPRESSION_NONE);
	read_open(&rd, &d, 100000);
	CU_ASSERT_EQUAL(read_some(&rd, 0, 5), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "SLUICE_SHUFFLE_TLS_CA"));
	read_close(&rd);
	setenv("SLUICE_SHUFFLE_TLS_CA", "/nonexistent/ca.pem", 1);
	CU_ASSERT_EQUAL(push_partition(&d, 1, 10, 0, NULL, NULL), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(detail, "SLUICE_SHUFFLE_TLS_CA=/nonexistent/ca.pem"));
}

/* Trusting another CA, or dialling a daemon whose certificate is
 * another host's: never connected, unreachable in seconds. */
static void
test_not_trusted(void)
{
	struct ld_desc d = part(3, dt.url, NULL, SL_COMPRESSION_NONE);
	struct reading rd;
	double t0 = now_s();

	setenv("SLUICE_SHUFFLE_TLS_CA", wrong_ca, 1);
	CU_ASSERT_EQUAL(push_partition(&d, 1, 10, 0, NULL, NULL), SL_EIO);
	CU_ASSERT(now_s() - t0 < 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable"));
	d = part(1, dt.url, NULL, SL_COMPRESSION_NONE);
	read_open(&rd, &d, 100000);
	t0 = now_s();
	CU_ASSERT_EQUAL(read_some(&rd, 0, 30), SL_EUNREADABLE);
	CU_ASSERT(now_s() - t0 < 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable"));
	/* what nng does not say, the reader guesses */
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(detail, "certificate is not one $SLUICE_SHUFFLE_TLS_CA"));
	CU_ASSERT_EQUAL(rd.bufs, 0);
	read_close(&rd);

	/* the right CA, the wrong host name */
	ld_net_fini(&host);
	setenv("SLUICE_SHUFFLE_TLS_CA", ca, 1);
	snprintf(cert, sizeof(cert), "%s.pem", other);
	snprintf(key, sizeof(key), "%s.key", other);
	setenv("SLUICE_SHUFFLE_TLS_CERT", cert, 1);
	setenv("SLUICE_SHUFFLE_TLS_KEY", key, 1);
	daemon_start(&dother, root, "o", "tls+tcp://127.0.0.1:0");
	d = part(4, dother.url, NULL, SL_COMPRESSION_NONE);
	t0 = now_s();
	CU_ASSERT_EQUAL(push_partition(&d, 1, 10, 0, NULL, NULL), SL_EIO);
	CU_ASSERT(now_s() - t0 < 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable"));
	/* and the first daemon still serves a client that trusts it */
	d = part(1, dt.url, NULL, SL_COMPRESSION_NONE);
	CU_ASSERT_TRUE(read_all(&d, 30, 100000));
}

static void
cleanup(void)
{
	daemon_kill(&dt, SIGTERM);
	daemon_kill(&dother, SIGTERM);
	ld_net_fini(&host);
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "listen: what a TLS listener lacks, named", test_listen_errors },
	{ "push, commit, fetch over TLS", test_push_fetch },
	{ "a client without SLUICE_SHUFFLE_TLS_CA", test_no_ca },
	{ "a CA or host name not trusted: unreachable", test_not_trusted },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr,
		    "rs-tls: the openssl program is not there "
		    "(apt-get install openssl): the certificates "
		    "cannot be made, no case runs\n");
		return 77;
	}
	return sl_test_run("rs-tls", tests, argc, argv);
}
