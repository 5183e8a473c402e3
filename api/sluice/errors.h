/*
 * sluice error codes.
 *
 * Every sluice function that can fail returns an int: 0 on success or a
 * negative code from the list below. Errors that come from the operating
 * system are returned as -errno and described by sl_strerror() as well.
 * Codes are never renumbered: new ones are appended with the next number.
 */
#ifndef SLUICE_ERRORS_H
#define SLUICE_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* XX(NAME, number, message). The enum value is SL_E##NAME = -(number). */
#define SL_ERRNO_MAP(XX)                                        \
	XX(INVAL, 1000, "invalid argument")                     \
	XX(NOMEM, 1001, "out of memory")                        \
	XX(NOTFOUND, 1002, "not found")                         \
	XX(EXISTS, 1003, "already exists")                      \
	XX(PARSE, 1004, "malformed input")                      \
	XX(CYCLE, 1005, "cycle in the job graph")               \
	XX(ABI, 1006, "plugin ABI mismatch")                    \
	XX(PLUGIN, 1007, "plugin refused")                      \
	XX(AGAIN, 1008, "no data yet, try again when notified") \
	XX(EOF, 1009, "end of data")                            \
	XX(CLOSED, 1010, "object closed")                       \
	XX(UNREADABLE, 1011, "partition unreadable")            \
	XX(BUSY, 1012, "resource busy")                         \
	XX(NOTSUP, 1013, "operation not supported")             \
	XX(STATE, 1014, "operation not valid in this state")    \
	XX(RANGE, 1015, "value out of range")                   \
	XX(TIMEDOUT, 1016, "timed out")                         \
	XX(IO, 1017, "input/output or network error")

enum sl_errno {
#define SL__ERR_ENUM(name, num, msg) SL_E##name = -(num),
	SL_ERRNO_MAP(SL__ERR_ENUM)
#undef SL__ERR_ENUM
};

/*
 * The functions below live in the core. A plugin never links against the
 * core, so plugin builds (SL_PLUGIN defined: sluice_add_plugin and the
 * sluice-plugin.pc Cflags set it) do not see them: a call is caught when the
 * plugin is compiled (an undeclared function: an error in C++ and with
 * -Werror, a warning in C before gcc 14) rather than as an "undefined
 * symbol" when it is loaded. A plugin gets the same message through
 * host->strerror and sets the detail with host->set_error (plugin.h).
 */
#ifndef SL_PLUGIN
/* Human-readable message for a code from this list or a -errno value.
 * Never returns NULL; the string is static. Thread-safe. */
const char *sl_strerror(int err);

/* Symbolic name ("SL_EINVAL", "ENOENT") of a code. Never NULL. */
const char *sl_errname(int err);

/*
 * Detail of the last failure in the calling thread, e.g.
 * "job.json: edges[2].to: unknown vertex 'cnt'". Functions that fail with a
 * code set it; it is "" when nothing was set. The string belongs to the
 * thread and stays valid until its next sluice call that fails.
 */
const char *sl_errdetail(void);
#endif /* SL_PLUGIN */

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_ERRORS_H */
