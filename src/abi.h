/*
 * Size-versioned public structs (px_thread_options_t, px_stats_t,
 * px_window_options_t): the caller states the size of its struct in the
 * first member, `size`, so a library and a caller built against different
 * minor versions exchange only the bytes both know. Header-only, public API
 * only (px_error_set), so the GLFW module uses it too.
 *
 *   input (options): a size below the first version's is -EINVAL; the
 *     library reads min(size, its own) bytes and zero-fills the rest of its
 *     own copy (a field the older caller lacks takes its default); bytes the
 *     library does not know must be zero (-EINVAL otherwise: a newer caller
 *     asked for something this library cannot do; as Linux's
 *     copy_struct_from_user);
 *   output (statistics): a size below the first version's is -EINVAL; the
 *     library writes min(size, its own) bytes and nothing past them.
 */
#ifndef PX_ABI_H
#define PX_ABI_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pinexec.h"

/* The size of a struct's first version: the end of its last field then. */
#define PX__SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Copy the caller's options in (see above). what: "px_thread_create: opts". */
static inline int px__struct_in(void *own, size_t own_size, size_t min_size, const void *in,
                                size_t in_size, const char *what)
{
    if (in_size < min_size)
        return px_error_set(-EINVAL,
                            "%s->size is %zu, below %zu, the size of its first version (set it "
                            "to sizeof the struct)",
                            what, in_size, min_size);
    const unsigned char *bytes = in;
    for (size_t k = own_size; k < in_size; k++)
        if (bytes[k] != 0)
            return px_error_set(-EINVAL,
                                "%s->size is %zu and byte %zu is set: a field this library "
                                "(pinexec %s, %zu bytes) does not know",
                                what, in_size, k, px_version(), own_size);
    memset(own, 0, own_size);
    memcpy(own, in, in_size < own_size ? in_size : own_size);
    return 0;
}

/* Copy a result out to the caller's struct (see above). */
static inline int px__struct_out(void *out, size_t out_size, size_t min_size, const void *own,
                                 size_t own_size, const char *what)
{
    if (out_size < min_size)
        return px_error_set(-EINVAL,
                            "%s->size is %zu, below %zu, the size of its first version (set it "
                            "to sizeof the struct)",
                            what, out_size, min_size);
    memcpy((unsigned char *)out + sizeof(size_t), (const unsigned char *)own + sizeof(size_t),
           (out_size < own_size ? out_size : own_size) - sizeof(size_t));
    return 0;
}

#endif
