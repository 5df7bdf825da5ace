/* Per-thread error detail behind px_last_error(). */
#ifndef PX_ERROR_H
#define PX_ERROR_H

/* Record the detail of a failure for px_last_error() in the calling thread and
 * return err (a negative errno), so call sites read `return px__fail(-EINVAL, ...)`. */
int px__fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the calling thread's detail. */
void px__clear_error(void);

#endif
