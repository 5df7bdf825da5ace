/* Per-thread error detail behind px_last_error(). */
#ifndef PX_ERROR_H
#define PX_ERROR_H

#include "pinexec.h"

/* Record the detail of a failure for px_last_error() in the calling thread and
 * return err (a negative errno), so call sites read `return px__fail(-EINVAL, ...)`.
 * The public px_error_set, under the core's name. */
#define px__fail px_error_set
/* Clear the calling thread's detail. */
void px__clear_error(void);

#endif
